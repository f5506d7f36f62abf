//! `container_list`: the version tags each container has in the registry, listed by a registry
//! client that runs inside the engine.
//!
//! The engine has no field for a registry's tags list (`GET /v2/<name>/tags/list`), so a small
//! registry client runs in a container: the engine already reaches the registry, and the
//! password goes in as a secret variable, so the module process neither reads it nor opens a
//! connection of its own. All repositories are listed in one engine request.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;

use super::catalog::{validate_container_name, CatalogError};
use super::versions::version_tags;
use dagger_engine::registry::{repository, ReferenceError, RepositoryName};
use dagger_engine::{gql, query_error_from_sdk, EngineClient, QueryError};
use dagger_publish::{Credential, PasswordSecret, RegistryAuth};

/// The registry client's image, pinned by version: skopeo 1.16.1.
///
/// Why skopeo (`skopeo list-tags docker://<repository>` prints `{"Repository": ..., "Tags":
/// [...]}`) rather than crane (`crane ls`): the password must reach the client from a secret
/// variable without ever being written into the command's arguments (which the engine records
/// and shows in its errors), so the command needs a shell to expand `$REGISTRY_PASSWORD`, and
/// skopeo takes it as `--password`; skopeo's image (Fedora based) has `sh`, while crane's is
/// distroless (no shell) and reads credentials only from a Docker config file. A version tag,
/// not a digest: the digest cannot be looked up from where this was written; pin it by digest
/// where that matters.
pub const REGISTRY_CLIENT_IMAGE: &str = "quay.io/skopeo/stable:v1.16.1";

/// The secret variable holding the registry password inside the client's container.
pub const PASSWORD_VARIABLE: &str = "REGISTRY_PASSWORD";

/// The variable set to the current time before the listing, so that the engine never answers
/// from its cache: each call lists afresh (the usual Dagger cache buster; `withExec` has no
/// option to skip the cache in engine v0.21).
pub const CACHE_BUSTER_VARIABLE: &str = "LISTED_AT";

/// The script that runs skopeo with the password from the secret variable; everything else is
/// an argument (`"$@"`), so the command line shows no secret.
const LIST_SCRIPT: &str = "exec skopeo list-tags --password \"$REGISTRY_PASSWORD\" \"$@\"";

/// Why a container list could not be made. No variant carries a password.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ListError {
    /// A container name is invalid (checked before any request).
    #[error(transparent)]
    Name(#[from] CatalogError),
    /// The namespace and a name do not make a repository name.
    #[error("container {name:?} in namespace {namespace:?}: {source}")]
    Repository {
        /// The namespace.
        namespace: String,
        /// The container.
        name: String,
        /// The grammar broken.
        #[source]
        source: Box<ReferenceError>,
    },
    /// The registry refused the credentials (or, without any, anonymous access).
    #[error("{}", credentials_message(.host, .username.as_deref()))]
    CredentialsRejected {
        /// The registry host.
        host: String,
        /// The user name sent, `None` when listing anonymously.
        username: Option<String>,
    },
    /// The registry client failed for a repository.
    #[error(
        "listing the tags of {repository} failed (registry client exit code {exit_code}): {detail}"
    )]
    Registry {
        /// `host/namespace/name`.
        repository: String,
        /// The client's exit code.
        exit_code: i64,
        /// The client's message.
        detail: String,
    },
    /// The registry client answered something that is not a tags list.
    #[error("listing the tags of {repository}: the registry client's answer is not a tags list: {detail}")]
    Output {
        /// `host/namespace/name`.
        repository: String,
        /// What was wrong with it.
        detail: String,
    },
    /// The engine failed to run the registry client.
    #[error("the Dagger engine failed to run the registry client ({REGISTRY_CLIENT_IMAGE}): {0}")]
    Engine(QueryError),
}

fn credentials_message(host: &str, username: Option<&str>) -> String {
    match username {
        Some(user) => format!(
            "registry {host} rejected the credentials of user {user} while listing tags (HTTP 401): the password or API key is wrong or has expired"
        ),
        None => format!(
            "registry {host} refused to list tags anonymously (HTTP 401): pass a registry password"
        ),
    }
}

/// For each container of `names`, in the order given, its version tags in
/// `<namespace>/<name>` on the registry of `auth` (with its password when it has one): tags
/// starting with `v` and a digit, sorted as [`versions`](super::versions) documents. A
/// repository the registry does not know has no tags.
///
/// Every name is checked before the first request. The listing runs inside the engine
/// ([`REGISTRY_CLIENT_IMAGE`]), one engine request for all names (one more when the password
/// is a `dagger_sdk::Secret` object rather than an ID); never from the engine's cache.
pub async fn container_list(
    client: &EngineClient,
    auth: &RegistryAuth,
    namespace: &str,
    names: &[String],
) -> Result<Vec<(String, Vec<String>)>, ListError> {
    let mut repositories = Vec::with_capacity(names.len());
    for name in names {
        validate_container_name(name)?;
        let repo = repository(namespace, name).map_err(|source| ListError::Repository {
            namespace: namespace.into(),
            name: name.clone(),
            source: Box::new(source),
        })?;
        repositories.push((name.clone(), repo));
    }
    if repositories.is_empty() {
        return Ok(Vec::new());
    }
    // The user name and the password's secret ID, when the credential is a password.
    let (username, secret_id) = match auth.credential() {
        Credential::Anonymous => (None, None),
        Credential::Password {
            username,
            password: PasswordSecret::Id(id),
        } => (Some(username.as_str()), Some(id.0.clone())),
        Credential::Password {
            username,
            password: PasswordSecret::Secret(secret),
        } => (
            Some(username.as_str()),
            Some(
                secret
                    .id()
                    .await
                    .map_err(|e| ListError::Engine(query_error_from_sdk(&e)))?
                    .0,
            ),
        ),
    };
    let listed_at = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default()
        .to_string();
    let fields: Vec<String> = repositories
        .iter()
        .enumerate()
        .map(|(i, (_, repo))| {
            let exec = list_command(auth, username, repo);
            // Each call's selection holds the next: container{from(..){...{withExec(..){..}}}}.
            let mut calls = vec![format!(
                "from(address:{})",
                gql::string(REGISTRY_CLIENT_IMAGE)
            )];
            if let Some(id) = &secret_id {
                calls.push(format!(
                    "withSecretVariable(name:{},secret:{})",
                    gql::string(PASSWORD_VARIABLE),
                    gql::string(id)
                ));
            }
            calls.push(format!(
                "withEnvVariable(name:{},value:{})",
                gql::string(CACHE_BUSTER_VARIABLE),
                gql::string(&listed_at)
            ));
            calls.push(format!(
                "withExec(args:{},expect:ANY)",
                gql::string_list(&exec)
            ));
            calls.push("exitCode stdout stderr".into());
            // One brace per call opened by the join, one for `container`.
            let depth = calls.len() - 1;
            format!("r{i}:container{{{}{}}}", calls.join("{"), "}".repeat(depth))
        })
        .collect();
    let answer = client
        .query(&format!("query{{{}}}", fields.join(" ")))
        .await
        .map_err(ListError::Engine)?;
    repositories
        .into_iter()
        .enumerate()
        .map(|(i, (name, repo))| {
            let reference = format!("{}/{repo}", auth.host());
            let outcome = answer
                .get(format!("r{i}"))
                .and_then(exec_outcome)
                .ok_or_else(|| {
                    ListError::Engine(QueryError::MissingData {
                        what: format!("the registry client's outcome for {reference}"),
                    })
                })?;
            let tags = read_tags(auth, &reference, outcome)?;
            Ok((name, version_tags(tags)))
        })
        .collect()
}

/// The client's command for `repo`: with a password, through `sh` so that it comes from the
/// secret variable; without, skopeo alone (no credentials in the container, so anonymous).
fn list_command(auth: &RegistryAuth, username: Option<&str>, repo: &RepositoryName) -> Vec<String> {
    let target = format!("docker://{}/{repo}", auth.host());
    if let Some(username) = username {
        vec![
            "sh".into(),
            "-c".into(),
            LIST_SCRIPT.into(),
            "skopeo".into(),
            "--username".into(),
            username.into(),
            target,
        ]
    } else {
        vec!["skopeo".into(), "list-tags".into(), target]
    }
}

/// What the exec answered: exit code, stdout, stderr.
struct ExecOutcome {
    exit_code: i64,
    stdout: String,
    stderr: String,
}

/// The `{exitCode stdout stderr}` object at the end of a chain's answer (each level above it
/// is an object with one field).
fn exec_outcome(value: &Value) -> Option<ExecOutcome> {
    let map = value.as_object()?;
    if let Some(code) = map.get("exitCode") {
        return Some(ExecOutcome {
            exit_code: code.as_i64()?,
            stdout: map.get("stdout")?.as_str()?.to_string(),
            stderr: map.get("stderr")?.as_str()?.to_string(),
        });
    }
    match map.values().collect::<Vec<_>>().as_slice() {
        [only] => exec_outcome(only),
        _ => None,
    }
}

/// The tags in skopeo's answer, or what its failure means: a repository the registry does not
/// know (`name unknown`, containers/image's wording of `NAME_UNKNOWN`) has no tags; 401 is a
/// rejected credential; anything else is the client's message.
fn read_tags(
    auth: &RegistryAuth,
    reference: &str,
    outcome: ExecOutcome,
) -> Result<Vec<String>, ListError> {
    if outcome.exit_code == 0 {
        let parsed: Value =
            serde_json::from_str(&outcome.stdout).map_err(|e| ListError::Output {
                repository: reference.into(),
                detail: e.to_string(),
            })?;
        return match parsed.get("Tags") {
            Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|t| {
                    t.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| ListError::Output {
                            repository: reference.into(),
                            detail: format!("a tag is not a string: {t}"),
                        })
                })
                .collect(),
            _ => Err(ListError::Output {
                repository: reference.into(),
                detail: "no \"Tags\" list".into(),
            }),
        };
    }
    let detail = fatal_message(&outcome.stderr);
    let lower = detail.to_ascii_lowercase();
    if lower.contains("name unknown") || lower.contains("not known to registry") {
        return Ok(Vec::new());
    }
    if lower.contains("unauthorized") || lower.contains("authentication required") {
        return Err(ListError::CredentialsRejected {
            host: auth.host().to_string(),
            username: auth
                .has_password()
                .then(|| auth.username().unwrap_or_default().to_string()),
        });
    }
    Err(ListError::Registry {
        repository: reference.into(),
        exit_code: outcome.exit_code,
        detail,
    })
}

/// The message of skopeo's fatal line (`time="..." level=fatal msg="..."`, logrus' text format
/// with the message quoted as Go's `%q` does), or the last line of stderr.
fn fatal_message(stderr: &str) -> String {
    let last = stderr
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim();
    let Some(quoted) = last.split_once(" msg=").map(|(_, m)| m) else {
        return last.to_string();
    };
    match quoted.strip_prefix('"') {
        Some(body) => {
            let mut out = String::new();
            let mut chars = body.chars();
            while let Some(c) = chars.next() {
                match c {
                    '"' => break,
                    '\\' => match chars.next() {
                        Some('n') => out.push('\n'),
                        Some('t') => out.push('\t'),
                        Some(other) => out.push(other),
                        None => break,
                    },
                    other => out.push(other),
                }
            }
            out
        }
        None => quoted.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fatal_message_is_read_from_logrus_lines() {
        assert_eq!(
            fatal_message(
                "time=\"2024-08-12T10:00:00Z\" level=fatal msg=\"Error listing repository tags: fetching tags list: a \\\"b\\\"\"\n"
            ),
            "Error listing repository tags: fetching tags list: a \"b\""
        );
        assert_eq!(fatal_message("plain failure\n\n"), "plain failure");
        assert_eq!(fatal_message(""), "");
    }

    #[test]
    fn the_command_carries_no_password() {
        let auth = RegistryAuth::new("registry.example.org", "ci").unwrap();
        let repo = repository("team", "app").unwrap();
        let with = list_command(&auth, Some("zot-ci"), &repo);
        assert_eq!(with[..3], ["sh", "-c", LIST_SCRIPT]);
        assert_eq!(
            with.last().unwrap(),
            "docker://registry.example.org/team/app"
        );
        assert!(LIST_SCRIPT.contains(&format!("\"${PASSWORD_VARIABLE}\"")));
        assert_eq!(
            list_command(&auth, None, &repo),
            [
                "skopeo",
                "list-tags",
                "docker://registry.example.org/team/app"
            ]
        );
    }

    #[test]
    fn failures_are_read_by_their_meaning() {
        let auth = RegistryAuth::new("r.example", "ci").unwrap();
        let fail = |stderr: &str| ExecOutcome {
            exit_code: 1,
            stdout: String::new(),
            stderr: stderr.into(),
        };
        let unknown = "level=fatal msg=\"Error listing repository tags: fetching tags list: name unknown: repository name not known to registry\"";
        assert_eq!(
            read_tags(&auth, "r.example/t/a", fail(unknown)).unwrap(),
            Vec::<String>::new()
        );
        let denied = "level=fatal msg=\"Error listing repository tags: fetching tags list: unauthorized: authentication required\"";
        assert_eq!(
            read_tags(&auth, "r.example/t/a", fail(denied)).unwrap_err(),
            ListError::CredentialsRejected {
                host: "r.example".into(),
                username: None
            }
        );
        let other = read_tags(&auth, "r.example/t/a", fail("boom")).unwrap_err();
        assert!(other.to_string().contains("exit code 1): boom"), "{other}");
        let ok = ExecOutcome {
            exit_code: 0,
            stdout: r#"{"Repository":"r.example/t/a","Tags":["v1","latest"]}"#.into(),
            stderr: String::new(),
        };
        assert_eq!(
            read_tags(&auth, "r.example/t/a", ok).unwrap(),
            ["v1", "latest"]
        );
        let garbage = ExecOutcome {
            exit_code: 0,
            stdout: "not json".into(),
            stderr: String::new(),
        };
        assert!(matches!(
            read_tags(&auth, "r.example/t/a", garbage),
            Err(ListError::Output { .. })
        ));
    }
}
