//! Reading the engine's registry failures, which reach clients as messages, not codes: what
//! failed (an HTTP status, the network, a build command), which request failed, and which tag
//! a message is about.
//!
//! The engine pulls and pushes with containerd's resolver. An HTTP status reads
//! `unexpected status from <METHOD> request to <URL>: <code> <reason>` (containerd v2.2.3
//! `core/remotes/errors/errors.go`, `ErrUnexpectedStatus`), without the body; when the body
//! was a registry error envelope, a line naming its errors follows (`denied`,
//! `unauthorized: authentication required`; `core/remotes/docker/errcode.go`). Network failures
//! carry Go's wording (`dial tcp ...: no such host`, `connection reset by peer`). A failed `from`
//! reads `failed to resolve image "<name>" (platform: "<platform>"): <cause>`, and a tag the
//! registry lacks has the cause `<name>: not found` (upstream `core/schema/container.go`).
//!
//! The engine's answer carries no data when any field fails (dagql), and an error's `path`
//! names field names of the failing object's chain, not the query's aliases; so an error is
//! tied to a tag only by what its message names: the reference, or the tag's manifest URL.

use dagger_engine::registry::{Digest, ImageRef, RegistryHost};
use dagger_engine::{ExecError, GraphQLErrorEntry, QueryError};

use super::error::{PublishError, RegistryAction, TagExistsEvidence};

/// What a failed request of a push or a pull was, read from the engine's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Failure {
    /// The registry answered this HTTP status to this request.
    Status {
        /// The HTTP status.
        status: u16,
        /// The request's method (`HEAD`, `PUT`, ...), upper case.
        method: String,
        /// The request's URL.
        url: String,
        /// The registry's error codes (`DENIED`), when the engine passed them on.
        codes: Vec<String>,
    },
    /// The registry could not be reached.
    Unreachable,
    /// The connection dropped mid-way (worth a retry).
    Dropped,
    /// A build command failed.
    Exec(ExecError),
    /// Anything else.
    Other,
}

impl Failure {
    /// Reads one engine error.
    pub(crate) fn of(entry: &GraphQLErrorEntry) -> Failure {
        if let Some(exec) = entry.exec_error() {
            return Failure::Exec(exec);
        }
        let msg = entry.message.as_str();
        if let Some(failure) = status(msg) {
            return failure;
        }
        let lower = msg.to_ascii_lowercase();
        const DROPPED: &[&str] = &[
            "connection reset",
            "broken pipe",
            "unexpected eof",
            "server closed idle connection",
        ];
        const UNREACHABLE: &[&str] = &[
            "no such host",
            "connection refused",
            "network is unreachable",
            "no route to host",
            "i/o timeout",
            "tls handshake timeout",
        ];
        if DROPPED.iter().any(|k| lower.contains(k)) {
            Failure::Dropped
        } else if UNREACHABLE.iter().any(|k| lower.contains(k)) {
            Failure::Unreachable
        } else {
            Failure::Other
        }
    }

    /// Whether a retry may help: 5xx, 429, or a dropped connection.
    pub(crate) fn is_transient(&self) -> bool {
        match self {
            Failure::Status { status, .. } => *status >= 500 || *status == 429,
            Failure::Dropped => true,
            _ => false,
        }
    }

    /// Whether the registry refused to store a manifest (`PUT .../manifests/<tag>`): the request
    /// that tags the image.
    pub(crate) fn is_manifest_put(&self) -> bool {
        matches!(self, Failure::Status { method, url, .. }
            if method == "PUT" && url.contains("/manifests/"))
    }
}

/// The codes of the registry error envelope containerd knows (`core/remotes/docker/
/// errdesc.go`) plus the distribution spec's, as containerd prints them lower case.
const CODES: &[&str] = &[
    "BLOB_UNKNOWN",
    "BLOB_UPLOAD_INVALID",
    "BLOB_UPLOAD_UNKNOWN",
    "DIGEST_INVALID",
    "MANIFEST_BLOB_UNKNOWN",
    "MANIFEST_INVALID",
    "MANIFEST_UNKNOWN",
    "NAME_INVALID",
    "NAME_UNKNOWN",
    "SIZE_INVALID",
    "UNAUTHORIZED",
    "DENIED",
    "UNSUPPORTED",
    "TOOMANYREQUESTS",
    "UNAVAILABLE",
    "UNKNOWN",
];

/// `unexpected status from <METHOD> request to <URL>: <NNN> <Reason>` and the error lines
/// after it.
fn status(msg: &str) -> Option<Failure> {
    const MARK: &str = "unexpected status from ";
    let at = msg.find(MARK)?;
    let rest = &msg[at + MARK.len()..];
    let (method, rest) = rest.split_once(" request to ")?;
    let (first_line, errors) = match rest.split_once('\n') {
        Some((line, more)) => (line, more),
        None => (rest, ""),
    };
    // The URL has no spaces; the status follows its last ": ".
    let (url, status_text) = first_line.rsplit_once(": ")?;
    let status: u16 = status_text.split(' ').next()?.parse().ok()?;
    if !(100..600).contains(&status) || url.contains(' ') {
        return None;
    }
    let codes = errors
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && *l != "errors:")
        .filter_map(|l| {
            let code = l.split(": ").next().unwrap_or(l);
            let code = code.to_ascii_uppercase().replace(' ', "_");
            CODES.contains(&code.as_str()).then_some(code)
        })
        .collect();
    Some(Failure::Status {
        status,
        method: method.trim().to_ascii_uppercase(),
        url: url.to_string(),
        codes,
    })
}

/// How the engine names a reference: `docker.io/library/x` for a one-component repository on
/// Docker Hub (docker/distribution `reference.ParseNormalizedNamed`).
fn engine_name(reference: &ImageRef) -> String {
    let repository = reference.repository.as_str();
    if reference.host.as_str() == "docker.io" && !repository.contains('/') {
        format!("docker.io/library/{repository}:{}", reference.tag)
    } else {
        reference.to_string()
    }
}

/// Whether an engine message is about `reference`: it names the reference (a failed `from`:
/// `"host/repository:tag"`, `host/repository:tag: not found`) or the tag's manifest URL (a push:
/// `.../v2/<repository>/manifests/<tag>`).
pub(crate) fn names(message: &str, reference: &ImageRef) -> bool {
    let name = engine_name(reference);
    if message.contains(&format!("\"{name}\"")) || message.contains(&format!("{name}: ")) {
        return true;
    }
    let repository = name
        .split_once('/')
        .map(|(_, r)| r.rsplit_once(':').map_or(r, |(repo, _)| repo))
        .unwrap_or_default();
    let manifest = format!("/v2/{repository}/manifests/{}", reference.tag);
    message.match_indices(&manifest).any(|(at, _)| {
        matches!(
            message[at + manifest.len()..].chars().next(),
            None | Some(':' | '"' | ' ' | '\n')
        )
    })
}

/// What a failed `from` of a tag says about the tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Resolution {
    /// The registry does not have the tag (`<name>: not found`).
    Absent,
    /// The tag exists but has no image for the engine's platform; the digest is the index's.
    Present(Digest),
    /// The lookup itself failed.
    Failed(Failure),
}

/// Reads the error of a failed `from` of `reference`. Only `<name>: not found` means absent;
/// a platform the image lacks means present (`no manifest matches requested platform for
/// <digest>`, upstream `engine/server/resolver`; `no match for platform in manifest <digest>:
/// not found`, containerd `core/images/image.go`).
pub(crate) fn resolution(entry: &GraphQLErrorEntry, reference: &ImageRef) -> Resolution {
    let msg = entry.message.as_str();
    if msg.contains(&format!("{}: not found", engine_name(reference))) {
        return Resolution::Absent;
    }
    for mark in [
        "no manifest matches requested platform for ",
        "no match for platform in manifest ",
    ] {
        if let Some(at) = msg.find(mark) {
            let tail = &msg[at + mark.len()..];
            let end = tail
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == ':'))
                .unwrap_or(tail.len());
            if let Ok(digest) = Digest::parse(tail[..end].trim_end_matches(':')) {
                return Resolution::Present(digest);
            }
        }
    }
    Resolution::Failed(Failure::of(entry))
}

/// Who and what a failure is about, for its [`PublishError`].
pub(crate) struct Subject<'a> {
    /// The registry host.
    pub host: &'a RegistryHost,
    /// `host/repository:tag`.
    pub reference: String,
    /// The user whose credentials were sent, `None` when anonymous.
    pub username: Option<&'a str>,
    /// What was asked of the registry.
    pub action: RegistryAction,
}

/// The typed error of a failure that is final (not retried, or retried `attempts` times):
/// 401 on any request → the credentials; 403 on the manifest's `PUT` → the tag exists; 403
/// anywhere else → the account's permissions; with or without the registry's error body.
pub(crate) fn publish_error(
    failure: Failure,
    entry: &GraphQLErrorEntry,
    subject: &Subject<'_>,
    attempts: u32,
) -> PublishError {
    let host = subject.host.to_string();
    let username = subject.username.map(str::to_string);
    let transient = failure.is_transient();
    let manifest = failure.is_manifest_put();
    match failure {
        Failure::Exec(exec) => PublishError::BuildFailed { exec, step: None },
        _ if transient => PublishError::RetriesExhausted {
            host,
            attempts,
            last: entry.message.clone(),
        },
        Failure::Status { status: 401, .. } => PublishError::CredentialsRejected { host, username },
        Failure::Status { status: 403, .. } if manifest => PublishError::TagExists {
            reference: subject.reference.clone(),
            evidence: TagExistsEvidence::RefusedAsExisting,
        },
        Failure::Status {
            status: 403, codes, ..
        } => PublishError::PermissionDenied {
            host,
            reference: subject.reference.clone(),
            username,
            codes,
            action: subject.action,
        },
        Failure::Status { status, codes, .. } => PublishError::RegistryRefused {
            host,
            reference: subject.reference.clone(),
            status,
            codes,
            message: entry.message.clone(),
        },
        Failure::Unreachable => PublishError::RegistryUnreachable {
            host,
            detail: entry.message.clone(),
        },
        Failure::Dropped | Failure::Other => {
            PublishError::Engine(QueryError::GraphQL(vec![entry.clone()]))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dagger_engine::registry::repository;

    fn entry(msg: &str) -> GraphQLErrorEntry {
        GraphQLErrorEntry::message(msg)
    }

    fn image(tag: &str) -> ImageRef {
        ImageRef::new(
            RegistryHost::parse("registry.example.org").unwrap(),
            repository("team", "app").unwrap(),
            dagger_engine::registry::Tag::parse(tag).unwrap(),
        )
    }

    /// The two messages of issue 11, verbatim as a real engine gave them.
    const TAG_EXISTS: &str = "push content sha256:… (1124 bytes): failed commit on ref \"manifest-sha256:…\": unexpected status from PUT request to https://registry.example.org/v2/team/app/manifests/v2.0.0-1a2b3c4: 403 Forbidden";
    const WRONG_KEY: &str = "unexpected status from HEAD request to https://registry.example.org/v2/team/app/blobs/sha256:…: 401 Unauthorized";

    #[test]
    fn containerd_status_wording_is_read_with_or_without_a_body() {
        let f = Failure::of(&entry(TAG_EXISTS));
        assert!(f.is_manifest_put());
        assert_eq!(
            f,
            Failure::Status {
                status: 403,
                method: "PUT".into(),
                url: "https://registry.example.org/v2/team/app/manifests/v2.0.0-1a2b3c4".into(),
                codes: vec![],
            }
        );
        let with_body = format!("{TAG_EXISTS}\ndenied: requested access to the resource is denied");
        assert!(matches!(Failure::of(&entry(&with_body)),
            Failure::Status { status: 403, codes, .. } if codes == ["DENIED"]));
        let several = "unexpected status from POST request to https://h/v2/x/blobs/uploads/: 400 Bad Request\nerrors:\nunknown: name invalid\nunsupported\n";
        assert!(matches!(Failure::of(&entry(several)),
            Failure::Status { status: 400, codes, .. } if codes == ["UNKNOWN", "UNSUPPORTED"]));
        let f = Failure::of(&entry(WRONG_KEY));
        assert!(matches!(f, Failure::Status { status: 401, ref method, .. } if method == "HEAD"));
        assert!(!f.is_manifest_put());
        assert!(Failure::of(&entry(
            "unexpected status from HEAD request to https://h/v2/x/blobs/sha256:00: 503 Service Unavailable"
        ))
        .is_transient());
    }

    #[test]
    fn network_wording_is_read() {
        assert_eq!(
            Failure::of(&entry("failed to do request: Head \"https://nope.invalid/v2/\": dial tcp: lookup nope.invalid: no such host")),
            Failure::Unreachable
        );
        assert_eq!(
            Failure::of(&entry(
                "failed to copy: read tcp 1.2.3.4:5->6.7.8.9:443: read: connection reset by peer"
            )),
            Failure::Dropped
        );
        assert_eq!(Failure::of(&entry("something else")), Failure::Other);
        // A port number is not a status.
        assert_eq!(
            Failure::of(&entry(
                "dial tcp 127.0.0.1:5000: connect: connection refused"
            )),
            Failure::Unreachable
        );
    }

    #[test]
    fn messages_are_tied_to_the_tag_they_name() {
        let v2 = image("v2.0.0-1a2b3c4");
        let v2_short = image("v2.0.0");
        assert!(names(TAG_EXISTS, &v2));
        assert!(
            !names(TAG_EXISTS, &v2_short),
            "a tag that is a prefix is another tag"
        );
        assert!(!names(WRONG_KEY, &v2), "a blob request names no tag");
        let absent = r#"failed to resolve image "registry.example.org/team/app:v2.0.0" (platform: "linux/amd64"): registry.example.org/team/app:v2.0.0: not found"#;
        assert!(names(absent, &v2_short));
        assert!(!names(absent, &v2));
        assert_eq!(resolution(&entry(absent), &v2_short), Resolution::Absent);
        let put = "failed to do request: Put \"https://registry.example.org/v2/team/app/manifests/v2.0.0\": read tcp: connection reset by peer";
        assert!(names(put, &v2_short));
    }

    #[test]
    fn only_the_references_own_not_found_means_absent() {
        let v1 = image("v1");
        let digest = format!("sha256:{}", "b".repeat(64));
        let platform = format!(
            r#"failed to resolve image "registry.example.org/team/app:v1" (platform: "linux/amd64"): no manifest matches requested platform for {digest}"#
        );
        assert_eq!(
            resolution(&entry(&platform), &v1),
            Resolution::Present(Digest::parse(&digest).unwrap())
        );
        let containerd = format!("no match for platform in manifest {digest}: not found");
        assert!(matches!(
            resolution(&entry(&containerd), &v1),
            Resolution::Present(_)
        ));
        let denied = r#"failed to resolve image "registry.example.org/team/app:v1" (platform: "linux/amd64"): unexpected status from HEAD request to https://registry.example.org/v2/team/app/manifests/v1: 401 Unauthorized"#;
        assert!(matches!(
            resolution(&entry(denied), &v1),
            Resolution::Failed(Failure::Status { status: 401, .. })
        ));
        let hub = ImageRef::new(
            RegistryHost::parse("docker.io").unwrap(),
            dagger_engine::registry::RepositoryName::parse("app").unwrap(),
            dagger_engine::registry::Tag::parse("1").unwrap(),
        );
        assert_eq!(
            resolution(&entry("docker.io/library/app:1: not found"), &hub),
            Resolution::Absent
        );
    }

    #[test]
    fn final_failures_map_to_the_errors_people_act_on() {
        let host = RegistryHost::parse("registry.example.org").unwrap();
        let subject = Subject {
            host: &host,
            reference: image("v2.0.0-1a2b3c4").to_string(),
            username: Some("ci-bot"),
            action: RegistryAction::Push,
        };
        let of = |msg: &str| publish_error(Failure::of(&entry(msg)), &entry(msg), &subject, 1);
        let e = of(TAG_EXISTS);
        assert!(e.to_string().starts_with("tag exists"), "{e}");
        let e = of(WRONG_KEY);
        assert!(
            e.to_string()
                .contains("registry registry.example.org rejected the credentials of user ci-bot"),
            "{e}"
        );
        let e = of("unexpected status from POST request to https://registry.example.org/v2/team/app/blobs/uploads/: 403 Forbidden\ndenied");
        assert!(
            matches!(&e, PublishError::PermissionDenied { codes, .. } if codes == &["DENIED"]),
            "{e:?}"
        );
        let e = of("unexpected status from POST request to https://h/v2/x/blobs/uploads/: 503 Service Unavailable");
        assert!(e.is_transient());
    }
}
