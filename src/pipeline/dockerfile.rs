//! Reading an `ARG` default out of a Dockerfile, so CI learns a legacy container's version
//! (`ARG CONTAINER_APP_VERSION=...`) without grep.
//!
//! The rules follow BuildKit's Dockerfile frontend (moby/buildkit
//! `frontend/dockerfile/parser/parser.go` for comments, parser directives and line continuations;
//! `parser/line_parsers.go`, `parseNameOrNameVal`, for the `ARG` words):
//! - instructions are case-insensitive; a line whose first non-blank character is `#` is a
//!   comment (also inside a continued instruction); a `#` later on a line is part of the value;
//! - a line ending with the escape character (`\`, or the one set by a leading `# escape=`
//!   directive) continues on the next line;
//! - one `ARG` may declare several names: `ARG A=1 B="two words" C`;
//! - double quotes group words and allow escapes (`\"`), single quotes are literal.
//!
//! Not supported, and reported as an error rather than guessed: a value that uses variable
//! expansion (`$OTHER` / `${OTHER}`), since the value would depend on build arguments.

use std::fmt;

/// Why an `ARG` default could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArgError {
    /// No `ARG` declares the name.
    #[error("no `ARG {name}=<value>` line: the Dockerfile never declares {name}")]
    NotDeclared {
        /// The `ARG` name.
        name: String,
    },
    /// Declared, but never with a default value.
    #[error("`ARG {name}` on line {line} has no value: write `ARG {name}=<value>`")]
    NoValue {
        /// The `ARG` name.
        name: String,
        /// The line, counted from 1.
        line: usize,
    },
    /// Declared with an empty default value.
    #[error("`ARG {name}=` on line {line} has an empty value")]
    EmptyValue {
        /// The `ARG` name.
        name: String,
        /// The line, counted from 1.
        line: usize,
    },
    /// Declared twice with different default values.
    #[error("`ARG {name}` has two different values: {first:?} on line {first_line} and {second:?} on line {second_line}")]
    Conflicting {
        /// The `ARG` name.
        name: String,
        /// The first value.
        first: String,
        /// Its line.
        first_line: usize,
        /// The other value.
        second: String,
        /// Its line.
        second_line: usize,
    },
    /// The value uses `$` expansion, which depends on build arguments.
    #[error("`ARG {name}` on line {line} uses variable expansion ({value:?}); write the value literally")]
    Expansion {
        /// The `ARG` name.
        name: String,
        /// The line, counted from 1.
        line: usize,
        /// The value as written.
        value: String,
    },
    /// A quote is opened and never closed.
    #[error("line {line}: a {quote} quote is never closed")]
    UnterminatedQuote {
        /// The line, counted from 1.
        line: usize,
        /// The quote's kind.
        quote: QuoteKind,
    },
}

/// The kind of quote in [`ArgError::UnterminatedQuote`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuoteKind {
    /// `"`.
    Double,
    /// `'`.
    Single,
}

impl fmt::Display for QuoteKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            QuoteKind::Double => "double (\")",
            QuoteKind::Single => "single (')",
        })
    }
}

/// One declaration found by [`arg_declarations`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgDeclaration {
    /// The argument's name.
    pub name: String,
    /// Its default value with quotes removed; `None` for a bare `ARG NAME`.
    pub value: Option<String>,
    /// Whether the value uses `$` expansion outside single quotes.
    pub expands: bool,
    /// The 1-based line where the instruction starts.
    pub line: usize,
}

/// The default value of `ARG <name>=...` in `dockerfile`.
///
/// A name declared again without a value (a multi-stage Dockerfile re-imports a global `ARG` in
/// each stage) or again with the same value is fine; two different values are an error.
///
/// ```
/// use blumeops::pipeline::dockerfile::arg_default;
/// let dockerfile = "# syntax=docker/dockerfile:1\nARG CONTAINER_APP_VERSION=\"1.4.2\" # pinned\nFROM alpine\n";
/// assert_eq!(arg_default(dockerfile, "CONTAINER_APP_VERSION").unwrap(), "1.4.2");
/// assert!(arg_default("FROM alpine\n", "CONTAINER_APP_VERSION").is_err());
/// ```
pub fn arg_default(dockerfile: &str, name: &str) -> Result<String, ArgError> {
    let mut found: Option<ArgDeclaration> = None;
    let mut bare_line: Option<usize> = None;
    for decl in arg_declarations(dockerfile)? {
        if decl.name != name {
            continue;
        }
        let Some(value) = &decl.value else {
            bare_line.get_or_insert(decl.line);
            continue;
        };
        if decl.expands {
            return Err(ArgError::Expansion {
                name: name.into(),
                line: decl.line,
                value: value.clone(),
            });
        }
        if value.is_empty() {
            return Err(ArgError::EmptyValue {
                name: name.into(),
                line: decl.line,
            });
        }
        match &found {
            Some(first) if first.value.as_deref() != Some(value) => {
                return Err(ArgError::Conflicting {
                    name: name.into(),
                    first: first.value.clone().unwrap_or_default(),
                    first_line: first.line,
                    second: value.clone(),
                    second_line: decl.line,
                })
            }
            Some(_) => {}
            None => found = Some(decl),
        }
    }
    match (found, bare_line) {
        (Some(decl), _) => Ok(decl.value.unwrap_or_default()),
        (None, Some(line)) => Err(ArgError::NoValue {
            name: name.into(),
            line,
        }),
        (None, None) => Err(ArgError::NotDeclared { name: name.into() }),
    }
}

/// Every `ARG` declaration of `dockerfile`, in order.
pub fn arg_declarations(dockerfile: &str) -> Result<Vec<ArgDeclaration>, ArgError> {
    let escape = escape_directive(dockerfile);
    let mut out = Vec::new();
    for (line, text) in logical_lines(dockerfile, escape) {
        let text = text.trim_start();
        let keyword_end = text.find(char::is_whitespace).unwrap_or(text.len());
        if !text[..keyword_end].eq_ignore_ascii_case("ARG") {
            continue;
        }
        for word in words(&text[keyword_end..], escape, line)? {
            let (name, value) = match word.text.split_once('=') {
                Some((name, value)) => (name.to_string(), Some(value.to_string())),
                None => (word.text.clone(), None),
            };
            out.push(ArgDeclaration {
                name,
                expands: value.is_some() && word.expands,
                value,
                line,
            });
        }
    }
    Ok(out)
}

/// The escape character set by a `# escape=` parser directive at the top of the file
/// (before any other line), `\` otherwise.
fn escape_directive(dockerfile: &str) -> char {
    for line in dockerfile.lines() {
        let Some(directive) = line.trim().strip_prefix('#') else {
            break;
        };
        let Some((key, value)) = directive.split_once('=') else {
            break;
        };
        let key = key.trim();
        if key.eq_ignore_ascii_case("escape") {
            return match value.trim() {
                "`" => '`',
                _ => '\\',
            };
        }
        if key.is_empty() || key.contains(char::is_whitespace) {
            break;
        }
    }
    '\\'
}

/// The file's instructions, continuation lines joined and comment lines dropped, each with the
/// 1-based number of the line it starts on.
fn logical_lines(dockerfile: &str, escape: char) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (index, raw) in dockerfile.lines().enumerate() {
        let trimmed = raw.trim_start();
        if trimmed.starts_with('#') || (current.is_some() && trimmed.is_empty()) {
            continue;
        }
        let body = raw.trim_end();
        let (text, continues) = match body.strip_suffix(escape) {
            Some(head) => (head, true),
            None => (body, false),
        };
        let entry = current.get_or_insert_with(|| (index + 1, String::new()));
        // BuildKit joins a continued line to the next without a separator.
        entry.1.push_str(text);
        if !continues {
            out.extend(current.take());
        }
    }
    out.extend(current);
    out
}

struct Word {
    text: String,
    expands: bool,
}

/// Splits an instruction's arguments into words: whitespace separates, quotes group and are
/// removed, the escape character takes the next character literally (outside single quotes).
fn words(text: &str, escape: char, line: usize) -> Result<Vec<Word>, ArgError> {
    let mut out = Vec::new();
    let mut word: Option<Word> = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c.is_whitespace() {
            out.extend(word.take());
            continue;
        }
        let current = word.get_or_insert_with(|| Word {
            text: String::new(),
            expands: false,
        });
        match c {
            '\'' => loop {
                match chars.next() {
                    Some('\'') => break,
                    Some(inner) => current.text.push(inner),
                    None => {
                        return Err(ArgError::UnterminatedQuote {
                            line,
                            quote: QuoteKind::Single,
                        })
                    }
                }
            },
            '"' => loop {
                match chars.next() {
                    Some('"') => break,
                    Some(e) if e == escape => match chars.next() {
                        Some(next @ ('"' | '$')) => current.text.push(next),
                        Some(next) if next == escape => current.text.push(next),
                        Some(next) => {
                            current.text.push(e);
                            current.text.push(next);
                        }
                        None => current.text.push(e),
                    },
                    Some('$') => {
                        current.expands = true;
                        current.text.push('$');
                    }
                    Some(inner) => current.text.push(inner),
                    None => {
                        return Err(ArgError::UnterminatedQuote {
                            line,
                            quote: QuoteKind::Double,
                        })
                    }
                }
            },
            e if e == escape => match chars.next() {
                Some(next) => current.text.push(next),
                None => current.text.push(e),
            },
            '$' => {
                current.expands = true;
                current.text.push('$');
            }
            other => current.text.push(other),
        }
    }
    out.extend(word);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAME: &str = "CONTAINER_APP_VERSION";

    #[test]
    fn reads_plain_quoted_and_commented_values() {
        let cases = [
            ("ARG CONTAINER_APP_VERSION=1.2.3\n", "1.2.3"),
            ("arg CONTAINER_APP_VERSION=v1.2.3", "v1.2.3"),
            ("  ARG   CONTAINER_APP_VERSION=\"1.2.3\"  \n", "1.2.3"),
            ("ARG CONTAINER_APP_VERSION='1.2.3'", "1.2.3"),
            ("ARG CONTAINER_APP_VERSION=\"1.2 beta\"", "1.2 beta"),
            (
                "# ARG CONTAINER_APP_VERSION=0.0.1\nARG CONTAINER_APP_VERSION=2.0",
                "2.0",
            ),
            (
                "ARG CONTAINER_APP_VERSION=3.1 # not a comment in Docker",
                "3.1",
            ),
            ("ARG OTHER=x CONTAINER_APP_VERSION=4.0 THIRD", "4.0"),
            ("ARG CONTAINER_APP_VERSION=1\\\n.5", "1.5"),
            (
                "ARG OTHER=x \\\n  # a comment inside\n  CONTAINER_APP_VERSION=6.0",
                "6.0",
            ),
            (
                "# escape=`\nARG CONTAINER_APP_VERSION=7.0 `\n  OTHER=C:\\dir",
                "7.0",
            ),
            ("ARG CONTAINER_APP_VERSION='$literal'", "$literal"),
            ("ARG CONTAINER_APP_VERSION=\"a\\\"b\"", "a\"b"),
        ];
        for (dockerfile, want) in cases {
            assert_eq!(
                arg_default(dockerfile, NAME).as_deref(),
                Ok(want),
                "{dockerfile:?}"
            );
        }
    }

    #[test]
    fn several_args_and_redeclarations() {
        let dockerfile = "\
ARG CONTAINER_APP_VERSION=1.4.2
ARG ALPINE=3.21
FROM golang:alpine AS build
ARG CONTAINER_APP_VERSION
RUN echo $CONTAINER_APP_VERSION
FROM alpine:${ALPINE}
ARG CONTAINER_APP_VERSION=1.4.2
";
        assert_eq!(arg_default(dockerfile, NAME).as_deref(), Ok("1.4.2"));
        assert_eq!(arg_default(dockerfile, "ALPINE").as_deref(), Ok("3.21"));
        let decls = arg_declarations(dockerfile).unwrap();
        assert_eq!(decls.len(), 4);
        assert_eq!(decls[2].value, None);
        assert_eq!(decls[2].line, 4);
    }

    #[test]
    fn errors_name_the_problem() {
        assert_eq!(
            arg_default("FROM alpine\nARG OTHER=1\n", NAME),
            Err(ArgError::NotDeclared { name: NAME.into() })
        );
        assert_eq!(
            arg_default("FROM alpine\nARG CONTAINER_APP_VERSION\n", NAME),
            Err(ArgError::NoValue {
                name: NAME.into(),
                line: 2
            })
        );
        assert_eq!(
            arg_default("ARG CONTAINER_APP_VERSION=\n", NAME),
            Err(ArgError::EmptyValue {
                name: NAME.into(),
                line: 1
            })
        );
        assert_eq!(
            arg_default("ARG CONTAINER_APP_VERSION=\"\"\n", NAME),
            Err(ArgError::EmptyValue {
                name: NAME.into(),
                line: 1
            })
        );
        let err = arg_default(
            "ARG CONTAINER_APP_VERSION=1\nFROM x\nARG CONTAINER_APP_VERSION=2\n",
            NAME,
        )
        .unwrap_err();
        assert!(matches!(
            err,
            ArgError::Conflicting {
                first_line: 1,
                second_line: 3,
                ..
            }
        ));
        assert!(err
            .to_string()
            .contains("\"1\" on line 1 and \"2\" on line 3"));
        let err = arg_default("ARG CONTAINER_APP_VERSION=${BASE}\n", NAME).unwrap_err();
        assert!(matches!(err, ArgError::Expansion { line: 1, .. }));
        let err = arg_default("ARG CONTAINER_APP_VERSION=\"1.2\n", NAME).unwrap_err();
        assert_eq!(
            err,
            ArgError::UnterminatedQuote {
                line: 1,
                quote: QuoteKind::Double
            }
        );
        assert!(err.to_string().contains("never closed"));
    }

    #[test]
    fn a_name_that_only_starts_the_same_is_not_a_match() {
        assert_eq!(
            arg_default("ARG CONTAINER_APP_VERSION_EXTRA=1", NAME),
            Err(ArgError::NotDeclared { name: NAME.into() })
        );
        assert_eq!(
            arg_default("ARGS CONTAINER_APP_VERSION=1", NAME),
            Err(ArgError::NotDeclared { name: NAME.into() })
        );
        assert_eq!(
            arg_default("RUN ARG CONTAINER_APP_VERSION=1", NAME),
            Err(ArgError::NotDeclared { name: NAME.into() })
        );
    }

    #[test]
    fn escape_directive_only_counts_at_the_top() {
        assert_eq!(escape_directive("# escape=`\nFROM x"), '`');
        assert_eq!(
            escape_directive("# syntax=docker/dockerfile:1\n# escape=`\n"),
            '`'
        );
        assert_eq!(escape_directive("FROM x\n# escape=`\n"), '\\');
        assert_eq!(escape_directive("# a comment\n# escape=`\n"), '\\');
    }
}
