//! `Directory.search` and `File.search` (upstream `core/search.go`, which runs ripgrep and
//! reads its JSON): one `SearchResult` per matching line (per file with `filesOnly`), its
//! `submatches` the matches within the line. Patterns are Rust regular expressions, which
//! accept the syntax ripgrep's default engine does. `skipIgnored` has nothing to skip: the mock
//! keeps no `.gitignore` rules apart from the files themselves.

use serde_json::{Map, Value};

use super::super::ids::{Call, Obj};
use super::directory::{glob, DirState};
use super::{wrong_state, Args, Ctx, FieldError, Out, State};

/// `SearchResult` and `SearchSubmatch`.
pub(crate) const RESULT: super::TypeImpl = super::TypeImpl {
    name: "SearchResult",
    sdl: r#"
type SearchResult implements Node {
  id: ID!
  absoluteOffset: Int!
  filePath: String!
  lineNumber: Int!
  matchedLines: String!
  submatches: [SearchSubmatch!]!
}
"#,
    resolve: resolve_result,
    apply: no_chain,
};

/// `SearchSubmatch`.
pub(crate) const SUBMATCH: super::TypeImpl = super::TypeImpl {
    name: "SearchSubmatch",
    sdl: r#"
type SearchSubmatch implements Node {
  id: ID!
  end: Int!
  start: Int!
  text: String!
}
"#,
    resolve: resolve_submatch,
    apply: no_chain,
};

fn no_chain(_ctx: &Ctx, state: State, call: &Call, _args: &Args) -> Result<State, FieldError> {
    Err(wrong_state(call, &state))
}

/// One match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Hit {
    pub path: String,
    pub line_number: usize,
    pub offset: usize,
    pub lines: String,
    /// `(start, end, text)` within `lines`.
    pub submatches: Vec<(usize, usize, String)>,
}

/// The search's pattern as a regular expression, with its flags.
fn regex(args: &Args) -> Result<regex::Regex, FieldError> {
    let pattern = args.str("pattern")?;
    let pattern = if args.bool("literal") {
        regex::escape(pattern)
    } else {
        pattern.to_string()
    };
    regex::RegexBuilder::new(&pattern)
        .case_insensitive(args.bool("insensitive"))
        .dot_matches_new_line(args.bool("dotall"))
        .multi_line(true)
        .build()
        .map_err(|e| FieldError::new(format!("invalid search pattern: {e}")))
}

/// The hits in `files` (relative path, contents).
pub(crate) fn search(files: &[(String, String)], args: &Args) -> Result<Vec<Hit>, FieldError> {
    let re = regex(args)?;
    let paths = args.strings("paths");
    let globs = args.strings("globs");
    let limit = args.int("limit").map(|l| l.max(0) as usize);
    let mut hits = Vec::new();
    for (path, contents) in files {
        let wanted_path = paths.is_empty()
            || paths.iter().any(|p| {
                let p = super::directory::join("", p);
                p.is_empty() || *path == p || path.starts_with(&format!("{p}/"))
            });
        let wanted_glob = globs.is_empty()
            || globs
                .iter()
                .any(|g| glob(g, path) || glob(g, path.rsplit('/').next().unwrap_or(path)));
        let hidden = args.bool("skipHidden") && path.split('/').any(|p| p.starts_with('.'));
        if !wanted_path || !wanted_glob || hidden {
            continue;
        }
        if args.bool("multiline") {
            // A match may span lines: the result holds every line it touches.
            for m in re.find_iter(contents) {
                let start = contents[..m.start()].rfind('\n').map_or(0, |i| i + 1);
                let end = contents[m.end()..]
                    .find('\n')
                    .map_or(contents.len(), |i| m.end() + i + 1);
                hits.push(Hit {
                    path: path.clone(),
                    line_number: contents[..start].matches('\n').count() + 1,
                    offset: start,
                    lines: contents[start..end].to_string(),
                    submatches: vec![(m.start() - start, m.end() - start, m.as_str().to_string())],
                });
            }
        } else {
            let mut offset = 0;
            for (i, line) in contents.split_inclusive('\n').enumerate() {
                let text = line.strip_suffix('\n').unwrap_or(line);
                let submatches: Vec<(usize, usize, String)> = re
                    .find_iter(text)
                    .filter(|m| !m.is_empty())
                    .map(|m| (m.start(), m.end(), m.as_str().to_string()))
                    .collect();
                if !submatches.is_empty() {
                    hits.push(Hit {
                        path: path.clone(),
                        line_number: i + 1,
                        offset,
                        lines: line.to_string(),
                        submatches,
                    });
                }
                offset += line.len();
            }
        }
        if args.bool("filesOnly") {
            // One result per file, with its path only.
            let first = hits.iter().position(|h| &h.path == path);
            if let Some(first) = first {
                hits.truncate(first + 1);
                let h = &mut hits[first];
                h.line_number = 0;
                h.offset = 0;
                h.lines.clear();
                h.submatches.clear();
            }
        }
        if limit.is_some_and(|l| hits.len() >= l) {
            break;
        }
    }
    if let Some(l) = limit {
        hits.truncate(l);
    }
    Ok(hits)
}

/// The results of `search` on a directory or file `parent`, as objects named by their index.
pub(crate) fn results(parent: &Obj, d: &DirState, args: &Args) -> Result<Out, FieldError> {
    let files: Vec<(String, String)> = d.tree.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    let hits = search(&files, args)?;
    Ok(Out::Objects(
        (0..hits.len())
            .map(|i| {
                let mut a: Map<String, Value> = args.0.clone();
                a.insert("result".into(), Value::from(i));
                parent.then(
                    Call {
                        field: "search".into(),
                        args: a,
                    },
                    "SearchResult",
                )
            })
            .collect(),
    ))
}

/// The hit a `SearchResult` object names: its parent searched again, then its index.
fn hit(ctx: &Ctx, obj: &Obj) -> Result<Hit, FieldError> {
    let bad = || FieldError::new("invalid ID: not a search result");
    let (parent, last) = super::config_objects::split(obj, "search result")?;
    let index = last
        .args
        .get("result")
        .and_then(Value::as_u64)
        .ok_or_else(bad)? as usize;
    let mut args = last.args.clone();
    args.remove("result");
    let parent_ty = parent.ty.clone();
    let files = match ctx.eval(&parent)? {
        State::Directory(d) => d.tree.into_iter().collect::<Vec<_>>(),
        State::File(f) => vec![(f.name, f.contents)],
        _ => return Err(bad()),
    };
    let field = super::schema()
        .field(&parent_ty, "search")
        .ok_or_else(bad)?
        .clone();
    let args = Args(super::schema().fill_defaults(&field, &args));
    search(&files, &args)?
        .into_iter()
        .nth(index)
        .ok_or_else(bad)
}

fn resolve_result(ctx: &Ctx, parent: &Obj, field: &str, _args: &Args) -> Result<Out, FieldError> {
    let h = hit(ctx, parent)?;
    Ok(match field {
        "filePath" => Out::Value(Value::from(h.path)),
        "lineNumber" => Out::Value(Value::from(h.line_number)),
        "absoluteOffset" => Out::Value(Value::from(h.offset)),
        "matchedLines" => Out::Value(Value::from(h.lines)),
        "submatches" => Out::Objects(
            (0..h.submatches.len())
                .map(|j| {
                    let mut a = Map::new();
                    a.insert("submatch".into(), Value::from(j));
                    parent.then(
                        Call {
                            field: "submatches".into(),
                            args: a,
                        },
                        "SearchSubmatch",
                    )
                })
                .collect(),
        ),
        other => {
            return Err(FieldError::new(format!(
                "SearchResult.{other} is not a field the mock engine knows"
            )))
        }
    })
}

fn resolve_submatch(ctx: &Ctx, parent: &Obj, field: &str, _args: &Args) -> Result<Out, FieldError> {
    let bad = || FieldError::new("invalid ID: not a search submatch");
    let (last, chain) = parent.calls.split_last().ok_or_else(bad)?;
    let j = last
        .args
        .get("submatch")
        .and_then(Value::as_u64)
        .ok_or_else(bad)? as usize;
    let result = Obj {
        ty: "SearchResult".into(),
        calls: chain.to_vec(),
    };
    let (start, end, text) = hit(ctx, &result)?
        .submatches
        .into_iter()
        .nth(j)
        .ok_or_else(bad)?;
    Ok(Out::Value(match field {
        "start" => Value::from(start),
        "end" => Value::from(end),
        "text" => Value::from(text),
        other => {
            return Err(FieldError::new(format!(
                "SearchSubmatch.{other} is not a field the mock engine knows"
            )))
        }
    }))
}
