//! Reading back a one-chain query as `dagger-sdk` writes it (`query{a(x:"1"){... on T{b{id}}}}`),
//! so that the chain can be extended with aliases and other leaves ([`read_chain`]).
//!
//! The text is GraphQL's executable syntax restricted to what `dagger-sdk`'s query builder
//! writes: one anonymous `query` operation whose every selection set holds one field (or one
//! inline fragment around one field), arguments with literal values (strings with GraphQL's
//! escapes, numbers, booleans, `null`, enum values, lists, input objects), and GraphQL's
//! ignored tokens (white space, commas, comments) anywhere between tokens. Aliases, directives,
//! variables, fragments and block strings are refused: that builder never writes them. A
//! general GraphQL parser would do the same job at a far higher compile cost in the module
//! binary, which every first `dagger call` builds; the mock engine, which must read any query,
//! uses one.

use super::{Arg, Field};

/// Why a query's text could not be read as one chain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the query is not one chain as dagger-sdk writes it: {reason} at byte {at}")]
pub struct ReadError {
    /// Where in the text (a byte offset).
    pub at: usize,
    /// What was found there instead of what the rule allows.
    pub reason: String,
}

/// The chain `text` selects, down to (and without) the field named `leaf`, which must be the
/// last level and have neither arguments nor a selection.
///
/// ```
/// use dagger_engine::gql::{read_chain, Field};
/// let chain = read_chain(r#"query{container{from(address: "alpine"){id}}}"#, "id").unwrap();
/// assert_eq!(
///     chain.alias("a").then(Field::new("sync")).to_string(),
///     r#"a:container{from(address:"alpine"){sync}}"#
/// );
/// assert!(read_chain("query{a{id} b{id}}", "id").is_err());
/// ```
pub fn read_chain(text: &str, leaf: &str) -> Result<Field, ReadError> {
    let mut reader = Reader { text, at: 0 };
    reader.skip_ignored();
    if reader.keyword("query") {
        reader.skip_ignored();
        if reader.peek().is_some_and(is_name_start) {
            return Err(reader.error("an operation name"));
        }
    }
    let (condition, field) = reader.selection_set(leaf)?;
    if condition.is_some() {
        return Err(reader.error("an inline fragment at the top level"));
    }
    reader.skip_ignored();
    if reader.at < text.len() {
        return Err(reader.error("text after the query"));
    }
    field.ok_or_else(|| ReadError {
        at: 0,
        reason: format!("nothing above the leaf `{leaf}`"),
    })
}

struct Reader<'a> {
    text: &'a str,
    at: usize,
}

fn is_name_start(c: char) -> bool {
    c == '_' || c.is_ascii_alphabetic()
}

fn is_name_continue(c: char) -> bool {
    c == '_' || c.is_ascii_alphanumeric()
}

impl Reader<'_> {
    fn rest(&self) -> &str {
        &self.text[self.at..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn error(&self, found: &str) -> ReadError {
        ReadError {
            at: self.at,
            reason: format!("found {found}"),
        }
    }

    /// Skips GraphQL's ignored tokens: white space, line terminators, commas, the byte order
    /// mark and comments.
    fn skip_ignored(&mut self) {
        loop {
            let Some(c) = self.peek() else { return };
            match c {
                ' ' | '\t' | '\n' | '\r' | ',' | '\u{feff}' => self.at += c.len_utf8(),
                '#' => {
                    let end = self.rest().find(['\n', '\r']).unwrap_or(self.rest().len());
                    self.at += end;
                }
                _ => return,
            }
        }
    }

    /// Consumes `punctuator` (after ignored tokens) when it comes next.
    fn eat(&mut self, punctuator: &str) -> bool {
        self.skip_ignored();
        if self.rest().starts_with(punctuator) {
            self.at += punctuator.len();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, punctuator: &str) -> Result<(), ReadError> {
        if self.eat(punctuator) {
            return Ok(());
        }
        let found = match self.peek() {
            Some(c) => format!("{c:?} where {punctuator:?} belongs"),
            None => format!("the end where {punctuator:?} belongs"),
        };
        Err(self.error(&found))
    }

    /// Consumes the name `word` when it comes next as a whole name.
    fn keyword(&mut self, word: &str) -> bool {
        let rest = self.rest();
        let whole = rest.starts_with(word)
            && !rest[word.len()..]
                .chars()
                .next()
                .is_some_and(is_name_continue);
        if whole {
            self.at += word.len();
        }
        whole
    }

    fn name(&mut self) -> Result<String, ReadError> {
        self.skip_ignored();
        let rest = self.rest();
        if !rest.chars().next().is_some_and(is_name_start) {
            let found = match rest.chars().next() {
                Some(c) => format!("{c:?} where a name belongs"),
                None => "the end where a name belongs".into(),
            };
            return Err(self.error(&found));
        }
        let end = rest
            .find(|c: char| !is_name_continue(c))
            .unwrap_or(rest.len());
        let name = rest[..end].to_string();
        self.at += end;
        Ok(name)
    }

    /// `{ field }` or `{ ... on Type { field } }`: the type condition and the field (`None`
    /// for the leaf).
    fn selection_set(&mut self, leaf: &str) -> Result<(Option<String>, Option<Field>), ReadError> {
        self.expect("{")?;
        let (condition, field) = if self.eat("...") {
            self.skip_ignored();
            if !self.keyword("on") {
                return Err(self.error("a fragment spread"));
            }
            let condition = self.name()?;
            let (inner, field) = self.selection_set(leaf)?;
            if inner.is_some() {
                return Err(self.error("nested inline fragments"));
            }
            (Some(condition), field)
        } else {
            (None, self.field(leaf)?)
        };
        self.skip_ignored();
        if !self.eat("}") {
            return Err(self.error("a second selection where one field belongs"));
        }
        Ok((condition, field))
    }

    /// A field with its arguments and what is selected below it; `None` for the leaf.
    fn field(&mut self, leaf: &str) -> Result<Option<Field>, ReadError> {
        let name = self.name()?;
        if self.eat(":") {
            return Err(self.error("an alias"));
        }
        let mut field = Field::new(name.clone());
        if self.eat("(") {
            while !self.eat(")") {
                let arg = self.name()?;
                self.expect(":")?;
                let value = self.value()?;
                field = field.arg(arg, value);
            }
        }
        self.skip_ignored();
        match self.peek() {
            Some('@') => Err(self.error("a directive")),
            Some('{') => {
                let (condition, below) = self.selection_set(leaf)?;
                if let Some(condition) = condition {
                    field = field.on_type(condition);
                }
                Ok(Some(match below {
                    Some(below) => field.select(below),
                    None => field,
                }))
            }
            _ if name == leaf && field.args().is_empty() => Ok(None),
            _ => Err(self.error(&format!("a leaf `{name}` other than `{leaf}`"))),
        }
    }

    fn value(&mut self) -> Result<Arg, ReadError> {
        self.skip_ignored();
        match self.peek() {
            Some('"') => self.string().map(Arg::String),
            Some('[') => {
                self.at += 1;
                let mut items = Vec::new();
                while !self.eat("]") {
                    items.push(self.value()?);
                }
                Ok(Arg::List(items))
            }
            Some('{') => {
                self.at += 1;
                let mut fields = Vec::new();
                while !self.eat("}") {
                    let name = self.name()?;
                    self.expect(":")?;
                    fields.push((name, self.value()?));
                }
                Ok(Arg::Object(fields))
            }
            Some('$') => Err(self.error("a variable")),
            Some(c) if c == '-' || c.is_ascii_digit() => self.number(),
            Some(c) if is_name_start(c) => {
                let name = self.name()?;
                Ok(match name.as_str() {
                    "true" => Arg::Boolean(true),
                    "false" => Arg::Boolean(false),
                    "null" => Arg::Null,
                    _ => Arg::Enum(name),
                })
            }
            Some(c) => Err(self.error(&format!("{c:?} where a value belongs"))),
            None => Err(self.error("the end where a value belongs")),
        }
    }

    /// An `IntValue` or a `FloatValue`.
    fn number(&mut self) -> Result<Arg, ReadError> {
        let start = self.at;
        let text = self.text;
        let rest = &text[start..];
        let end = rest
            .find(|c: char| !(c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E')))
            .unwrap_or(rest.len());
        let literal = &rest[..end];
        self.at += end;
        let bad = |what: &str| ReadError {
            at: start,
            reason: format!("found {literal:?}, {what}"),
        };
        if literal.contains(['.', 'e', 'E']) {
            literal
                .parse::<f64>()
                .map(Arg::Float)
                .map_err(|_| bad("not a number"))
        } else {
            literal
                .parse::<i64>()
                .map(Arg::Int)
                .map_err(|_| bad("not an integer in range"))
        }
    }

    /// A `"..."` string with GraphQL's escapes (`\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`, `\t`,
    /// `\uXXXX` with surrogate pairs, `\u{X...}`).
    fn string(&mut self) -> Result<String, ReadError> {
        if self.rest().starts_with("\"\"\"") {
            return Err(self.error("a block string"));
        }
        self.at += 1;
        let mut out = String::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(self.error("the end inside a string"));
            };
            self.at += c.len_utf8();
            match c {
                '"' => return Ok(out),
                '\n' | '\r' => return Err(self.error("a line break inside a string")),
                '\\' => out.push(self.escape()?),
                c => out.push(c),
            }
        }
    }

    fn escape(&mut self) -> Result<char, ReadError> {
        let Some(c) = self.peek() else {
            return Err(self.error("the end inside an escape"));
        };
        self.at += c.len_utf8();
        Ok(match c {
            '"' => '"',
            '\\' => '\\',
            '/' => '/',
            'b' => '\u{8}',
            'f' => '\u{c}',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            'u' => return self.unicode_escape(),
            other => return Err(self.error(&format!("an unknown escape \\{other}"))),
        })
    }

    /// After `\u`: `XXXX` (a high surrogate followed by `\uXXXX` of its low one) or `{X...}`.
    fn unicode_escape(&mut self) -> Result<char, ReadError> {
        let start = self.at;
        let invalid = |reader: &Self| ReadError {
            at: start,
            reason: format!(
                "found an invalid \\u escape {:?}",
                &reader.text[start..reader.at.min(reader.text.len())]
            ),
        };
        if self.eat_exact("{") {
            let rest = self.rest();
            let end = rest.find('}').ok_or_else(|| invalid(self))?;
            let code = u32::from_str_radix(&rest[..end], 16).map_err(|_| invalid(self))?;
            self.at += end + 1;
            return char::from_u32(code).ok_or_else(|| invalid(self));
        }
        let first = self.hex4().ok_or_else(|| invalid(self))?;
        if (0xD800..0xDC00).contains(&first) {
            if !self.eat_exact("\\u") {
                return Err(invalid(self));
            }
            let second = self.hex4().ok_or_else(|| invalid(self))?;
            if !(0xDC00..0xE000).contains(&second) {
                return Err(invalid(self));
            }
            let code = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00);
            return char::from_u32(code).ok_or_else(|| invalid(self));
        }
        char::from_u32(first).ok_or_else(|| invalid(self))
    }

    fn eat_exact(&mut self, text: &str) -> bool {
        if self.rest().starts_with(text) {
            self.at += text.len();
            true
        } else {
            false
        }
    }

    fn hex4(&mut self) -> Option<u32> {
        let digits = self.rest().get(..4)?;
        let code = u32::from_str_radix(digits, 16).ok()?;
        if !digits.chars().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        self.at += 4;
        Some(code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reads_what_dagger_sdk_writes_pretty_or_compact() {
        let pretty = "query{directory{dockerBuild(buildArgs: [\n { name: \"A\", value: \"1\" }\n], noInit: true, x: -1, y: 1.5e3, z: null, e: ANY){... on Directory{id}}}}";
        let chain = read_chain(pretty, "id").unwrap();
        assert_eq!(
            chain.to_string(),
            r#"directory{dockerBuild(buildArgs:[{name:"A",value:"1"}],noInit:true,x:-1,y:1500.0,z:null,e:ANY)}"#
        );
        assert_eq!(
            chain.then(Field::new("sync")).to_string(),
            r#"directory{dockerBuild(buildArgs:[{name:"A",value:"1"}],noInit:true,x:-1,y:1500.0,z:null,e:ANY){... on Directory{sync}}}"#
        );
    }

    #[test]
    fn strings_keep_every_character() {
        let text = r#"query{a(s:"q\"b\\s\/\b\f\n\r\t\u00e9\ud83d\ude00\u{1F600}ü{id}"){id}}"#;
        let chain = read_chain(text, "id").unwrap();
        assert_eq!(
            chain.args()[0].1,
            Arg::String("q\"b\\s/\u{8}\u{c}\n\r\té😀😀ü{id}".into())
        );
    }

    #[test]
    fn refuses_what_dagger_sdk_never_writes() {
        for (text, why) in [
            ("query{a{b}}", "a leaf `b` other than `id`"),
            ("query{a{id} b{id}}", "a second selection"),
            ("query{a{b c}}", "a leaf `b` other than `id`"),
            ("query{a{b{id} c{id}}}", "a second selection"),
            ("query{id}", "nothing above the leaf"),
            ("not graphql", "'n' where \"{\" belongs"),
            ("query{x:a{id}}", "an alias"),
            ("query{a(v:$x){id}}", "a variable"),
            ("query{a @skip(if:true){id}}", "a directive"),
            ("query{...F}", "a fragment spread"),
            ("query Q{a{id}}", "an operation name"),
            ("query{a(v:\"\"\"x\"\"\"){id}}", "a block string"),
            ("query{a(v:\"x\n\"){id}}", "a line break"),
            ("query{a(v:\"\\q\"){id}}", "an unknown escape"),
            ("query{a(v:\"\\ud800\"){id}}", "an invalid \\u escape"),
            (
                "query{a(v:99999999999999999999){id}}",
                "not an integer in range",
            ),
            ("query{a(v:\"x){id}}", "the end inside a string"),
            ("query{a{id}} tail", "text after the query"),
            (
                "query{... on T{a{id}}}",
                "an inline fragment at the top level",
            ),
        ] {
            let err = read_chain(text, "id").unwrap_err();
            assert!(err.reason.contains(why), "{text}: {err}");
        }
    }

    fn name() -> impl Strategy<Value = String> {
        "[_a-zA-Z][_a-zA-Z0-9]{0,6}".prop_filter("a keyword", |n| {
            !matches!(n.as_str(), "true" | "false" | "null")
        })
    }

    fn arg() -> impl Strategy<Value = Arg> {
        let leaf = prop_oneof![
            any::<String>().prop_map(Arg::String),
            any::<i64>().prop_map(Arg::Int),
            (-1.0e12f64..1.0e12).prop_map(Arg::Float),
            any::<bool>().prop_map(Arg::Boolean),
            name().prop_map(Arg::Enum),
            Just(Arg::Null),
        ];
        leaf.prop_recursive(3, 16, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Arg::List),
                prop::collection::vec((name(), inner), 0..4).prop_map(Arg::Object),
            ]
        })
    }

    fn level() -> impl Strategy<Value = (String, Vec<(String, Arg)>, Option<String>)> {
        (
            name(),
            prop::collection::vec((name(), arg()), 0..3),
            prop::option::of(name()),
        )
    }

    proptest! {
        /// Every chain the query builder writes reads back as itself.
        #[test]
        fn a_written_chain_reads_back(levels in prop::collection::vec(level(), 1..5)) {
            let mut chain: Option<Field> = None;
            for (name, args, condition) in levels {
                let mut field = Field::new(name);
                for (arg, value) in args {
                    field = field.arg(arg, value);
                }
                if let Some(condition) = condition {
                    field = field.on_type(condition);
                }
                chain = Some(match chain {
                    None => field,
                    Some(above) => above.then(field),
                });
            }
            let chain = chain.unwrap();
            let text = format!("query{{{}}}", chain.clone().then(Field::new("id")));
            prop_assert_eq!(read_chain(&text, "id").unwrap(), chain);
        }
    }
}
