//! Writing GraphQL values into raw query text: the one place where strings are quoted.

use std::fmt::Write;

/// A GraphQL string literal for `value`, with `"`, `\` and control characters escaped.
///
/// ```
/// assert_eq!(dagger_engine::gql::string("a\"b"), r#""a\"b""#);
/// ```
pub fn string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A GraphQL list of string literals.
///
/// ```
/// assert_eq!(dagger_engine::gql::string_list(["a", "b"]), r#"["a","b"]"#);
/// ```
pub fn string_list<I, S>(values: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let items: Vec<String> = values.into_iter().map(|v| string(v.as_ref())).collect();
    format!("[{}]", items.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(string("a\nb\u{1}"), "\"a\\nb\\u0001\"");
        assert_eq!(string("back\\slash"), "\"back\\\\slash\"");
    }
}
