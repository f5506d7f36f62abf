//! Release tags: `{version}-{sha7}`, e.g. `navidrome:v0.61.1-c86b5d7` ([`release_tag`]), and
//! what an image says about its release (the version guard, the creation time).
//!
//! The scheme is a convention of container pipelines, not a registry rule; the OCI grammar it
//! must fit ([`Tag`]) lives in `dagger_engine::registry`. A pipeline that tags otherwise builds
//! its own [`Tag`]s.
//!
//! # The `v`-prefix rule
//!
//! Upstreams spell their releases differently (Navidrome tags `v0.61.1`, Miniflux `2.2.19`) and
//! CI passes whatever its own tag says (`v2.2.19`). One rule, [`without_v_prefix`], decides when
//! two spellings name the same release: a leading `v` directly followed by a digit is not part of
//! the version. So `v2.2.19` and `2.2.19` are the same release; nothing else is normalised
//! (`V2.2.19`, `release-2.2.19` or `2.2.19+1` are different versions). [`same_release`] compares
//! with it, [`check_version`] is the version guard built on it, and [`VPrefix::Add`] writes it.

use std::fmt;
use std::str::FromStr;

use dagger_engine::civil::{civil_from_days, days_from_civil};
use dagger_engine::registry::{Tag, TAG_LENGTH_MAX};

/// Length of [`CommitSha::short`].
pub const SHORT_SHA_LEN: usize = 7;

/// The longest [`Version`]: leaves room for `-` and a 7-character sha in a [`release_tag`]
/// within the tag grammar's 128 characters.
pub const VERSION_LENGTH_MAX: usize = TAG_LENGTH_MAX - 1 - SHORT_SHA_LEN;

/// A version or commit sha that cannot make a release tag. Each message names the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReleaseTagError {
    /// A version is empty, too long or not tag-safe.
    #[error("invalid version {input:?}: {rule}")]
    Version {
        /// The version as given.
        input: String,
        /// The rule broken.
        rule: &'static str,
    },
    /// A commit sha is not 7 to 40 hex characters.
    #[error("invalid commit sha {input:?}: a commit sha must be 7 to 40 hexadecimal characters")]
    CommitSha {
        /// The sha as given.
        input: String,
    },
}

/// Whether [`Version::parse`] adds a `v` to a bare version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VPrefix {
    /// `0.61.1` becomes `v0.61.1` (a version starting with a digit gets a `v`).
    Add,
    /// The version is kept as given.
    Keep,
}

/// A version as it appears in a tag, e.g. `v0.61.1`: non-empty, tag characters only
/// (`[A-Za-z0-9_][A-Za-z0-9._-]*`), at most [`VERSION_LENGTH_MAX`] characters so that
/// [`release_tag`] always makes a valid tag.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Version(String);

impl Version {
    /// Parses a version, adding a `v` to a bare `0.61.1` when `prefix` is [`VPrefix::Add`].
    ///
    /// ```
    /// use dagger_publish::release::{VPrefix, Version};
    /// assert_eq!(Version::parse("0.61.1", VPrefix::Add).unwrap().as_str(), "v0.61.1");
    /// assert_eq!(Version::parse("0.61.1", VPrefix::Keep).unwrap().as_str(), "0.61.1");
    /// assert!(Version::parse("1.0 beta", VPrefix::Keep).is_err());
    /// ```
    pub fn parse(input: &str, prefix: VPrefix) -> Result<Version, ReleaseTagError> {
        let err = |rule| ReleaseTagError::Version {
            input: input.to_owned(),
            rule,
        };
        if input.is_empty() {
            return Err(err("a version must not be empty"));
        }
        let value = match prefix {
            // The v-prefix rule, written: a bare version gets the `v` it would be read without.
            VPrefix::Add if without_v_prefix(&format!("v{input}")) == input => format!("v{input}"),
            _ => input.to_owned(),
        };
        // Length first: the tag grammar also bounds the length, so a long but tag-safe version
        // would otherwise be told its characters are wrong.
        if value.len() > VERSION_LENGTH_MAX {
            return Err(err(
                "a version must be at most 120 characters, so that `{version}-{sha7}` fits in a 128-character tag",
            ));
        }
        if Tag::parse(&value).is_err() {
            return Err(err(
                "a version must be tag-safe: [A-Za-z0-9_] then [A-Za-z0-9._-] (no spaces, '/', ':', '+', ...)",
            ));
        }
        Ok(Version(value))
    }
}

impl FromStr for Version {
    type Err = ReleaseTagError;
    /// Parses with [`VPrefix::Keep`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s, VPrefix::Keep)
    }
}

/// A git commit sha: 7 to 40 hex characters, stored in lowercase.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CommitSha(String);

impl CommitSha {
    /// Parses a sha (any case in, lowercase out).
    ///
    /// ```
    /// use dagger_publish::release::CommitSha;
    /// let sha = CommitSha::parse("C86B5D7A1").unwrap();
    /// assert_eq!(sha.as_str(), "c86b5d7a1");
    /// assert_eq!(sha.short(), "c86b5d7");
    /// ```
    pub fn parse(input: &str) -> Result<CommitSha, ReleaseTagError> {
        if (SHORT_SHA_LEN..=40).contains(&input.len())
            && input.bytes().all(|c| c.is_ascii_hexdigit())
        {
            Ok(CommitSha(input.to_ascii_lowercase()))
        } else {
            Err(ReleaseTagError::CommitSha {
                input: input.to_owned(),
            })
        }
    }

    /// The first 7 characters.
    pub fn short(&self) -> &str {
        // The sha is ASCII and at least 7 long (checked in `parse`).
        &self.0[..SHORT_SHA_LEN]
    }
}

impl FromStr for CommitSha {
    type Err = ReleaseTagError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

dagger_engine::string_newtype!(Version);
dagger_engine::string_newtype!(CommitSha);

/// The release tag: `{version}-{sha7}`, e.g. `v0.61.1-c86b5d7`.
///
/// ```
/// use dagger_publish::release::{release_tag, CommitSha, VPrefix, Version};
/// let v = Version::parse("0.61.1", VPrefix::Add).unwrap();
/// let sha = CommitSha::parse("c86b5d7a9e").unwrap();
/// assert_eq!(release_tag(&v, &sha).as_str(), "v0.61.1-c86b5d7");
/// ```
pub fn release_tag(version: &Version, sha: &CommitSha) -> Tag {
    // A version is tag-safe and at most VERSION_LENGTH_MAX long, and a short sha is 7 hex
    // characters, so the result always matches the tag grammar (proptest below).
    Tag::parse(&format!("{}-{}", version.as_str(), sha.short()))
        .expect("a tag-safe version of at most 120 characters and 7 hex characters make a tag")
}

/// The version without a leading `v` when a digit follows it (the [`v`-prefix rule](self)):
/// `v0.61.1` → `0.61.1`; `2.2.19`, `vnext` and `V1` are returned as they are.
///
/// ```
/// use dagger_publish::release::without_v_prefix;
/// assert_eq!(without_v_prefix("v0.61.1"), "0.61.1");
/// assert_eq!(without_v_prefix("2.2.19"), "2.2.19");
/// assert_eq!(without_v_prefix("vnext"), "vnext");
/// ```
pub fn without_v_prefix(version: &str) -> &str {
    match version.strip_prefix('v') {
        Some(rest) if rest.starts_with(|c: char| c.is_ascii_digit()) => rest,
        _ => version,
    }
}

/// Whether `a` and `b` name the same release under the [`v`-prefix rule](self).
///
/// ```
/// use dagger_publish::release::same_release;
/// assert!(same_release("v2.2.19", "2.2.19"));
/// assert!(!same_release("v2.2.10", "2.2.19"));
/// assert!(!same_release("V2.2.19", "2.2.19"));
/// ```
pub fn same_release(a: &str, b: &str) -> bool {
    without_v_prefix(a) == without_v_prefix(b)
}

/// The version guard's refusal: the version asked for is not the one the container builds.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{given} is not the version container {container:?} builds: {pinned_by} pins {pinned}; \
     publish it as {pinned} (a leading v before a digit is ignored: v{bare} and {bare} match), \
     or change the pin first"
)]
pub struct VersionMismatch {
    /// The container.
    pub container: String,
    /// The version asked for (`--version`).
    pub given: String,
    /// The version the container builds.
    pub pinned: String,
    /// What pins it, e.g. `its native pipeline`.
    pub pinned_by: String,
    /// `pinned` without its `v` prefix, for the message.
    bare: String,
}

/// The version guard: `Ok` when `given` names the release `pinned` (by `pinned_by`) under the
/// [`v`-prefix rule](self), otherwise a [`VersionMismatch`] naming both versions.
///
/// ```
/// use dagger_publish::release::check_version;
/// assert!(check_version("miniflux", "v2.2.19", "2.2.19", "its native pipeline").is_ok());
/// let err = check_version("navidrome", "v0.50.0", "v0.61.1", "its native pipeline").unwrap_err();
/// assert!(err.to_string().contains("v0.50.0") && err.to_string().contains("v0.61.1"));
/// ```
pub fn check_version(
    container: &str,
    given: &str,
    pinned: &str,
    pinned_by: &str,
) -> Result<(), VersionMismatch> {
    if same_release(given, pinned) {
        return Ok(());
    }
    Err(VersionMismatch {
        container: container.into(),
        given: given.into(),
        pinned: pinned.into(),
        pinned_by: pinned_by.into(),
        bare: without_v_prefix(pinned).into(),
    })
}

/// A creation time that cannot be used for `org.opencontainers.image.created`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CreatedError {
    /// Not an RFC 3339 date-time.
    #[error("invalid creation time {input:?}: {rule} (RFC 3339, e.g. 2025-06-01T12:00:00Z)")]
    Rfc3339 {
        /// The text as given.
        input: String,
        /// The rule broken.
        rule: &'static str,
    },
    /// `SOURCE_DATE_EPOCH` is not a whole number of seconds.
    #[error(
        "invalid SOURCE_DATE_EPOCH {input:?}: it must be a whole, non-negative number of seconds \
         since 1970-01-01T00:00:00Z, at most 253402300799 (9999-12-31T23:59:59Z)"
    )]
    SourceDateEpoch {
        /// The value as given.
        input: String,
    },
}

/// The creation time of an image (`org.opencontainers.image.created`): a moment, written in
/// RFC 3339 in UTC (`2025-06-01T12:00:00Z`, fractions of a second kept, trailing zeros dropped).
///
/// Never the wall clock: an image built twice from the same inputs gets the same labels, so the
/// engine's cache holds and the build is reproducible. The default is the Unix epoch
/// ([`Created::UNIX_EPOCH`], as `ko` does); CI passes the commit time (`--created`, or in the
/// main job `SOURCE_DATE_EPOCH`, [`Created::from_source_date_epoch`]).
///
/// ```
/// use dagger_publish::release::Created;
/// let created = Created::parse("2025-06-01T14:00:00+02:00").unwrap();
/// assert_eq!(created.to_string(), "2025-06-01T12:00:00Z");
/// assert_eq!(Created::from_source_date_epoch("1748779200").unwrap(), created);
/// assert_eq!(Created::default().to_string(), "1970-01-01T00:00:00Z");
/// assert!(Created::parse("2025-06-01 12:00").is_err());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Created {
    /// Seconds since 1970-01-01T00:00:00Z (negative before it).
    seconds: i64,
    /// Nanoseconds within the second.
    nanos: u32,
}

/// The last second RFC 3339 can write with a four-digit year (9999-12-31T23:59:59Z).
const MAX_SECONDS: i64 = 253_402_300_799;

impl Created {
    /// 1970-01-01T00:00:00Z, the default.
    pub const UNIX_EPOCH: Created = Created {
        seconds: 0,
        nanos: 0,
    };

    /// Parses an RFC 3339 date-time (`2025-06-01T12:00:00Z`, `2025-06-01T14:00:00.5+02:00`;
    /// `t` and `z` in lowercase are accepted, as RFC 3339 allows). Leap seconds (`:60`) are
    /// refused: an image's creation time never needs one.
    pub fn parse(input: &str) -> Result<Created, CreatedError> {
        let fail = |rule| CreatedError::Rfc3339 {
            input: input.to_owned(),
            rule,
        };
        let b = input.as_bytes();
        let digits = |from: usize, len: usize| -> Option<i64> {
            let part = b.get(from..from + len)?;
            if part.iter().all(u8::is_ascii_digit) {
                Some(part.iter().fold(0, |n, d| n * 10 + i64::from(d - b'0')))
            } else {
                None
            }
        };
        let at = |i: usize, c: u8| b.get(i) == Some(&c);
        let (Some(year), Some(month), Some(day)) = (digits(0, 4), digits(5, 2), digits(8, 2))
        else {
            return Err(fail("the date must be YYYY-MM-DD"));
        };
        if !(at(4, b'-') && at(7, b'-')) {
            return Err(fail("the date must be YYYY-MM-DD"));
        }
        if !(at(10, b'T') || at(10, b't')) {
            return Err(fail("the date and the time are separated by T"));
        }
        let (Some(hour), Some(minute), Some(second)) =
            (digits(11, 2), digits(14, 2), digits(17, 2))
        else {
            return Err(fail("the time must be hh:mm:ss"));
        };
        if !(at(13, b':') && at(16, b':')) {
            return Err(fail("the time must be hh:mm:ss"));
        }
        if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
            return Err(fail("the date does not exist"));
        }
        if hour > 23 || minute > 59 {
            return Err(fail("the time does not exist"));
        }
        if second > 59 {
            return Err(fail("leap seconds (:60) are not supported"));
        }
        let mut i = 19;
        let mut nanos: u32 = 0;
        if at(i, b'.') {
            let start = i + 1;
            let mut end = start;
            while b.get(end).is_some_and(u8::is_ascii_digit) {
                end += 1;
            }
            if end == start || end - start > 9 {
                return Err(fail("a fraction of a second has 1 to 9 digits"));
            }
            for (k, d) in b[start..end].iter().enumerate() {
                nanos += u32::from(d - b'0') * 10u32.pow(8 - k as u32);
            }
            i = end;
        }
        let offset_minutes = match b.get(i) {
            Some(b'Z' | b'z') if b.len() == i + 1 => 0,
            Some(sign @ (b'+' | b'-')) if b.len() == i + 6 && at(i + 3, b':') => {
                let (Some(h), Some(m)) = (digits(i + 1, 2), digits(i + 4, 2)) else {
                    return Err(fail("the offset must be Z or +hh:mm / -hh:mm"));
                };
                if h > 23 || m > 59 {
                    return Err(fail("the offset must be Z or +hh:mm / -hh:mm"));
                }
                let minutes = h * 60 + m;
                if *sign == b'-' {
                    -minutes
                } else {
                    minutes
                }
            }
            _ => return Err(fail("the offset must be Z or +hh:mm / -hh:mm")),
        };
        let local =
            days_from_civil(year, month, day) * 86_400 + hour * 3_600 + minute * 60 + second;
        let seconds = local - offset_minutes * 60;
        if !(days_from_civil(0, 1, 1) * 86_400..=MAX_SECONDS).contains(&seconds) {
            return Err(fail("in UTC the year must be between 0000 and 9999"));
        }
        Ok(Created { seconds, nanos })
    }

    /// The time `SOURCE_DATE_EPOCH` names (<https://reproducible-builds.org/specs/source-date-epoch/>):
    /// whole seconds since the Unix epoch, ASCII digits only.
    pub fn from_source_date_epoch(value: &str) -> Result<Created, CreatedError> {
        let fail = || CreatedError::SourceDateEpoch {
            input: value.to_owned(),
        };
        if value.is_empty() || !value.bytes().all(|c| c.is_ascii_digit()) {
            return Err(fail());
        }
        let seconds: i64 = value.parse().map_err(|_| fail())?;
        if seconds > MAX_SECONDS {
            return Err(fail());
        }
        Ok(Created { seconds, nanos: 0 })
    }

    /// Seconds since 1970-01-01T00:00:00Z.
    pub fn unix_seconds(&self) -> i64 {
        self.seconds
    }
}

impl FromStr for Created {
    type Err = CreatedError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for Created {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.seconds.div_euclid(86_400);
        let rest = self.seconds.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        write!(
            f,
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
            rest / 3_600,
            rest / 60 % 60,
            rest % 60
        )?;
        if self.nanos > 0 {
            let fraction = format!("{:09}", self.nanos);
            write!(f, ".{}", fraction.trim_end_matches('0'))?;
        }
        f.write_str("Z")
    }
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn versions_and_shas() {
        let cases: &[(&str, VPrefix, Option<&str>)] = &[
            ("0.61.1", VPrefix::Add, Some("v0.61.1")),
            ("0.61.1", VPrefix::Keep, Some("0.61.1")),
            ("v0.61.1", VPrefix::Add, Some("v0.61.1")),
            ("nightly", VPrefix::Add, Some("nightly")),
            ("1.2.3-rc.1", VPrefix::Add, Some("v1.2.3-rc.1")),
            ("", VPrefix::Add, None),
            ("1.0 beta", VPrefix::Add, None),
            ("a/b", VPrefix::Keep, None),
            ("1.0+build", VPrefix::Keep, None),
            ("-1", VPrefix::Keep, None),
            (".1", VPrefix::Add, None),
        ];
        for (input, prefix, want) in cases {
            let got = Version::parse(input, *prefix).ok();
            assert_eq!(
                got.as_ref().map(Version::as_str),
                *want,
                "{input:?} {prefix:?}"
            );
        }
        assert!(Version::parse(&"1".repeat(VERSION_LENGTH_MAX), VPrefix::Keep).is_ok());
        assert!(Version::parse(&"1".repeat(VERSION_LENGTH_MAX), VPrefix::Add).is_err());

        for (input, ok) in [
            ("c86b5d7", true),
            ("C86B5D7", true),
            (&*"f".repeat(40), true),
            ("c86b5d", false),
            (&*"f".repeat(41), false),
            ("c86b5dz", false),
            ("", false),
        ] {
            assert_eq!(CommitSha::parse(input).is_ok(), ok, "{input:?}");
        }
        let sha = CommitSha::parse("C86B5D7ABC").unwrap();
        assert_eq!(sha.as_str(), "c86b5d7abc");
        assert_eq!(sha.short(), "c86b5d7");
        let v = Version::parse(&"1".repeat(VERSION_LENGTH_MAX), VPrefix::Keep).unwrap();
        assert_eq!(release_tag(&v, &sha).as_str().len(), TAG_LENGTH_MAX);
        assert!(Tag::parse(release_tag(&v, &sha).as_str()).is_ok());
    }

    #[test]
    fn the_v_prefix_rule() {
        for (a, b, same) in [
            ("v2.2.19", "2.2.19", true),
            ("2.2.19", "2.2.19", true),
            ("v0.61.1", "v0.61.1", true),
            ("v0.50.0", "v0.61.1", false),
            ("V2.2.19", "2.2.19", false),
            ("vv2.2.19", "2.2.19", false),
            ("vnext", "next", false),
            ("release-2.2.19", "2.2.19", false),
        ] {
            assert_eq!(same_release(a, b), same, "{a} {b}");
            assert_eq!(same_release(b, a), same, "{b} {a}");
        }
        let err =
            check_version("navidrome", "v0.50.0", "v0.61.1", "its native pipeline").unwrap_err();
        assert_eq!(
            err.to_string(),
            "v0.50.0 is not the version container \"navidrome\" builds: its native pipeline pins \
             v0.61.1; publish it as v0.61.1 (a leading v before a digit is ignored: v0.61.1 and \
             0.61.1 match), or change the pin first"
        );
        assert_eq!(
            (err.given.as_str(), err.pinned.as_str()),
            ("v0.50.0", "v0.61.1")
        );
    }

    #[test]
    fn creation_times() {
        for (input, want) in [
            ("1970-01-01T00:00:00Z", "1970-01-01T00:00:00Z"),
            ("2025-06-01T14:00:00+02:00", "2025-06-01T12:00:00Z"),
            ("2025-06-01t12:00:00.500z", "2025-06-01T12:00:00.5Z"),
            ("2024-02-29T23:30:00-01:00", "2024-03-01T00:30:00Z"),
            (
                "1969-12-31T23:59:59.000000001Z",
                "1969-12-31T23:59:59.000000001Z",
            ),
            ("9999-12-31T23:59:59Z", "9999-12-31T23:59:59Z"),
        ] {
            assert_eq!(Created::parse(input).unwrap().to_string(), want, "{input}");
        }
        for (input, rule) in [
            ("", "YYYY-MM-DD"),
            ("2025-6-01T12:00:00Z", "YYYY-MM-DD"),
            ("2025-06-01 12:00:00Z", "separated by T"),
            ("2025-06-01T12:00Z", "hh:mm:ss"),
            ("2023-02-29T12:00:00Z", "does not exist"),
            ("2025-13-01T12:00:00Z", "does not exist"),
            ("2025-06-01T24:00:00Z", "does not exist"),
            ("2016-12-31T23:59:60Z", "leap seconds"),
            ("2025-06-01T12:00:00.Z", "1 to 9 digits"),
            ("2025-06-01T12:00:00", "offset"),
            ("2025-06-01T12:00:00+0200", "offset"),
            ("2025-06-01T12:00:00Z ", "offset"),
            ("9999-12-31T23:59:59-01:00", "between 0000 and 9999"),
        ] {
            let err = Created::parse(input).unwrap_err();
            assert!(err.to_string().contains(rule), "{input}: {err}");
        }
        assert_eq!(
            Created::from_source_date_epoch("0").unwrap(),
            Created::UNIX_EPOCH
        );
        assert_eq!(
            Created::from_source_date_epoch("1748779200")
                .unwrap()
                .to_string(),
            "2025-06-01T12:00:00Z"
        );
        for bad in [
            "",
            "-1",
            "1.5",
            " 1",
            "253402300800",
            "99999999999999999999",
        ] {
            assert!(Created::from_source_date_epoch(bad).is_err(), "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn created_round_trips(seconds in -62_167_219_200i64..=253_402_300_799, nanos in 0u32..1_000_000_000) {
            let created = Created { seconds, nanos };
            prop_assert_eq!(Created::parse(&created.to_string()).unwrap(), created);
        }

        #[test]
        fn created_never_panics(s in "\\PC{0,40}") {
            let _ = Created::parse(&s);
        }

        #[test]
        fn parsing_is_idempotent_and_tags_are_valid(s in "\\PC{0,140}", sha in "[0-9a-fA-F]{7,40}") {
            if let Ok(v) = Version::parse(&s, VPrefix::Add) {
                prop_assert_eq!(Version::parse(v.as_str(), VPrefix::Add).unwrap(), v.clone());
                let c = CommitSha::parse(&sha).unwrap();
                prop_assert_eq!(CommitSha::parse(c.as_str()).unwrap(), c.clone());
                prop_assert!(Tag::parse(release_tag(&v, &c).as_str()).is_ok());
            }
        }
    }
}
