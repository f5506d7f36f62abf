//! Version tags: which registry tags are versions, and their order.
//!
//! A version tag starts with `v` and a digit (`v0.61.1`, `v0.61.1-c86b5d7`, `v2.2.19-nix`).
//! Its *core* is the longest run of dot-separated digit groups after the `v`; the rest, without
//! a leading `-`, `+` or `.`, is its *suffix*.
//!
//! The order ([`compare_version_tags`]), ascending:
//! 1. cores compare numerically part by part (`v1.10` after `v1.9`; leading zeros and length of the
//!    numbers do not matter, there is no overflow); a missing part counts as 0 (`v1.2` = `v1.2.0`);
//! 2. for the same core, the bare release comes first, then the suffixed tags: in this project a
//!    suffix is a build of that release (`v0.61.1-c86b5d7`, `-nix`), not a pre-release, so it sorts
//!    *after* the release (unlike SemVer);
//! 3. suffixes compare identifier by identifier (split at `.`, `-`, `+`): numbers numerically and
//!    before words, words by byte order; a shorter list first when one is a prefix of the other;
//! 4. anything still equal falls back to the tags' byte order, so the order is total and stable.

use std::cmp::Ordering;

/// Whether `tag` is a version tag: `v` followed by an ASCII digit.
pub fn is_version_tag(tag: &str) -> bool {
    let mut chars = tag.chars();
    chars.next() == Some('v') && chars.next().is_some_and(|c| c.is_ascii_digit())
}

/// The version tags among `tags`, deduplicated and sorted by [`compare_version_tags`].
///
/// ```
/// use blumeops::pipeline::versions::version_tags;
/// let tags = ["latest", "v1.10.0", "v1.9.2-abc1234", "v1.9.2", "vnext", "1.0"].map(String::from);
/// assert_eq!(version_tags(tags), ["v1.9.2", "v1.9.2-abc1234", "v1.10.0"]);
/// ```
pub fn version_tags(tags: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = tags.into_iter().filter(|t| is_version_tag(t)).collect();
    out.sort_by(|a, b| compare_version_tags(a, b));
    out.dedup();
    out
}

/// The order of version tags described in the module docs. Tags that are not version tags
/// still get a total order (their core is empty).
pub fn compare_version_tags(a: &str, b: &str) -> Ordering {
    let (core_a, suffix_a) = split(a);
    let (core_b, suffix_b) = split(b);
    compare_cores(&core_a, &core_b)
        .then_with(|| match (suffix_a.is_empty(), suffix_b.is_empty()) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Less,
            (false, true) => Ordering::Greater,
            (false, false) => compare_suffixes(suffix_a, suffix_b),
        })
        .then_with(|| a.cmp(b))
}

/// Splits `v1.2.3-rest` into (["1", "2", "3"], "rest").
fn split(tag: &str) -> (Vec<&str>, &str) {
    let body = tag.strip_prefix('v').unwrap_or(tag);
    let mut parts = Vec::new();
    let mut rest = body;
    loop {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            break;
        }
        parts.push(&rest[..digits]);
        rest = &rest[digits..];
        // Continue only when a dot is followed by another digit group.
        match rest.strip_prefix('.') {
            Some(next) if next.bytes().next().is_some_and(|b| b.is_ascii_digit()) => rest = next,
            _ => break,
        }
    }
    if parts.is_empty() {
        return (parts, body);
    }
    let suffix = rest.strip_prefix(['-', '+', '.']).unwrap_or(rest);
    (parts, suffix)
}

fn compare_cores(a: &[&str], b: &[&str]) -> Ordering {
    let len = a.len().max(b.len());
    (0..len)
        .map(|i| {
            compare_numbers(
                a.get(i).copied().unwrap_or("0"),
                b.get(i).copied().unwrap_or("0"),
            )
        })
        .find(|o| o.is_ne())
        .unwrap_or(Ordering::Equal)
}

/// Compares two digit strings as numbers of any size.
fn compare_numbers(a: &str, b: &str) -> Ordering {
    let a = a.trim_start_matches('0');
    let b = b.trim_start_matches('0');
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

fn compare_suffixes(a: &str, b: &str) -> Ordering {
    let ids_a: Vec<&str> = a.split(['.', '-', '+']).collect();
    let ids_b: Vec<&str> = b.split(['.', '-', '+']).collect();
    for (x, y) in ids_a.iter().zip(&ids_b) {
        let numeric = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
        let order = match (numeric(x), numeric(y)) {
            (true, true) => compare_numbers(x, y),
            (true, false) => Ordering::Less,
            (false, true) => Ordering::Greater,
            (false, false) => x.cmp(y),
        };
        if order.is_ne() {
            return order;
        }
    }
    ids_a.len().cmp(&ids_b.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn version_tag_filter() {
        for yes in ["v0", "v1.2.3", "v0.61.1-c86b5d7", "v2-nix"] {
            assert!(is_version_tag(yes), "{yes}");
        }
        for no in [
            "",
            "v",
            "vnext",
            "V1.2",
            "1.2.3",
            "latest",
            "release-v1",
            "v.1",
        ] {
            assert!(!is_version_tag(no), "{no}");
        }
    }

    #[test]
    fn sorted_numerically_with_builds_after_their_release() {
        let tags = strings(&[
            "v1.10.0",
            "v0.61.1-c86b5d7-nix",
            "latest",
            "v0.61.1",
            "v1.9.2",
            "v0.61.1-c86b5d7",
            "v0.9.0",
            "v0.61.0-ffff000",
            "v1.9.2",
            "main",
        ]);
        assert_eq!(
            version_tags(tags),
            strings(&[
                "v0.9.0",
                "v0.61.0-ffff000",
                "v0.61.1",
                "v0.61.1-c86b5d7",
                "v0.61.1-c86b5d7-nix",
                "v1.9.2",
                "v1.10.0",
            ])
        );
    }

    #[test]
    fn missing_parts_count_as_zero_and_ties_break_by_text() {
        assert_eq!(compare_version_tags("v1.2", "v1.2.0"), Ordering::Less);
        assert_eq!(
            compare_cores(&["1", "2"], &["1", "2", "0"]),
            Ordering::Equal
        );
        assert_eq!(compare_version_tags("v1.02", "v1.2"), Ordering::Less);
        assert_eq!(compare_version_tags("v1.2", "v1.2"), Ordering::Equal);
    }

    #[test]
    fn huge_numbers_do_not_overflow() {
        assert_eq!(
            compare_version_tags("v99999999999999999999999", "v100000000000000000000000"),
            Ordering::Less
        );
    }

    #[test]
    fn suffix_identifiers() {
        assert_eq!(
            compare_version_tags("v1.0-rc.2", "v1.0-rc.10"),
            Ordering::Less
        );
        assert_eq!(compare_version_tags("v1.0-2", "v1.0-rc"), Ordering::Less);
        assert_eq!(compare_version_tags("v1.0-rc", "v1.0-rc.1"), Ordering::Less);
        assert_eq!(compare_version_tags("v1.0rc1", "v1.0"), Ordering::Greater);
        assert_eq!(split("v1.2.x"), (vec!["1", "2"], "x"));
        assert_eq!(split("v1..2"), (vec!["1"], ".2"));
    }

    #[test]
    fn the_order_is_total_and_consistent() {
        let tags = strings(&[
            "v1", "v1.0", "v1-a", "v1.0-a", "v1+a", "v1.0.0", "v01", "x", "",
        ]);
        for a in &tags {
            assert_eq!(compare_version_tags(a, a), Ordering::Equal);
            for b in &tags {
                assert_eq!(
                    compare_version_tags(a, b),
                    compare_version_tags(b, a).reverse()
                );
                if a != b {
                    assert_ne!(compare_version_tags(a, b), Ordering::Equal, "{a} {b}");
                }
                for c in &tags {
                    if compare_version_tags(a, b).is_lt() && compare_version_tags(b, c).is_lt() {
                        assert!(compare_version_tags(a, c).is_lt(), "{a} {b} {c}");
                    }
                }
            }
        }
    }
}
