//! The publisher against an engine that answers with the messages a real engine gave (issue 11,
//! verbatim), in dagql's all-or-nothing shape: errors only, `"data": null`, paths of field
//! names. A scripted transport stands in for the engine; nothing else is reachable.

use std::sync::{Arc, Mutex};

use dagger_engine::registry::{repository, Tag};
use dagger_engine::{
    EngineClient, GraphQLErrorEntry, PathSegment, Response, Transport, TransportError,
};
use dagger_publish::{
    ExistingTagPolicy, PublishError, PublishRequest, Publisher, RegistryAuth, RetryPolicy,
    TagExistsEvidence,
};

const TAG_EXISTS: &str = "push content sha256:… (1124 bytes): failed commit on ref \"manifest-sha256:…\": unexpected status from PUT request to https://registry.example.org/v2/team/app/manifests/v2.0.0-1a2b3c4: 403 Forbidden";
const WRONG_KEY: &str = "unexpected status from HEAD request to https://registry.example.org/v2/team/app/blobs/sha256:…: 401 Unauthorized";
const REF: &str = "registry.example.org/team/app:v2.0.0-1a2b3c4";

/// Answers the lookups with "not found" and the pushes with `push_error`, recording queries.
struct Scripted {
    push_error: &'static str,
    queries: Mutex<Vec<String>>,
}

fn error(message: String, path: &[&str]) -> GraphQLErrorEntry {
    GraphQLErrorEntry {
        message,
        path: path
            .iter()
            .map(|p| PathSegment::Field(p.to_string()))
            .collect(),
        extensions: None,
    }
}

#[async_trait::async_trait]
impl Transport for Scripted {
    async fn execute(&self, query: &str) -> Result<Response, TransportError> {
        self.queries.lock().unwrap().push(query.to_string());
        let entry = if query.contains("imageRef") {
            error(
                format!(
                    r#"failed to resolve image "{REF}" (platform: "linux/amd64"): {REF}: not found"#
                ),
                &["container", "withRegistryAuth", "from"],
            )
        } else {
            error(
                self.push_error.to_string(),
                &[
                    "container",
                    "from",
                    "withExec",
                    "withRegistryAuth",
                    "publish",
                ],
            )
        };
        Ok(Response::errors(vec![entry]))
    }
}

async fn publish(
    push_error: &'static str,
    policy: ExistingTagPolicy,
) -> (PublishError, Vec<String>) {
    let scripted = Arc::new(Scripted {
        push_error,
        queries: Mutex::new(Vec::new()),
    });
    let client = EngineClient::new(scripted.clone());
    let container = client
        .dagger()
        .container()
        .from("alpine:3.20")
        .with_exec(vec!["true"]);
    let auth = RegistryAuth::new("registry.example.org", "ci-bot")
        .unwrap()
        .with_password(dagger_sdk::Id("secret-id".into()));
    let request = PublishRequest::new(
        "registry.example.org",
        repository("team", "app").unwrap(),
        [Tag::parse("v2.0.0-1a2b3c4").unwrap()],
    )
    .unwrap()
    .with_auth(auth)
    .unwrap()
    .with_policy(policy)
    .with_retry(RetryPolicy::none());
    let err = Publisher::new(client)
        .publish(&container, &request)
        .await
        .unwrap_err();
    let queries = scripted.queries.lock().unwrap().clone();
    (err, queries)
}

#[tokio::test]
async fn a_re_push_on_a_create_only_account_reads_tag_exists() {
    for policy in [ExistingTagPolicy::Fail, ExistingTagPolicy::Overwrite] {
        let (err, queries) = publish(TAG_EXISTS, policy).await;
        assert!(
            matches!(
                &err,
                PublishError::TagExists {
                    reference,
                    evidence: TagExistsEvidence::RefusedAsExisting
                } if reference == REF
            ),
            "{policy}: {err:?}"
        );
        assert!(err.to_string().starts_with("tag exists"), "{err}");
        if policy == ExistingTagPolicy::Fail {
            // The check ran first, through the engine, after the credential in the same chain.
            assert!(
                queries[0].contains(&format!(
                    r#"withRegistryAuth(address:"registry.example.org",username:"ci-bot",secret:"secret-id"){{from(address:"{REF}"){{imageRef}}}}"#
                )),
                "{queries:#?}"
            );
        }
    }
}

#[tokio::test]
async fn a_wrong_key_reads_rejected_credentials_of_the_user() {
    for policy in [ExistingTagPolicy::Fail, ExistingTagPolicy::Overwrite] {
        let (err, _) = publish(WRONG_KEY, policy).await;
        assert!(
            matches!(&err, PublishError::CredentialsRejected { host, username: Some(user) }
                if host == "registry.example.org" && user == "ci-bot"),
            "{policy}: {err:?}"
        );
        assert!(
            err.to_string()
                .contains("registry registry.example.org rejected the credentials of user ci-bot"),
            "{err}"
        );
    }
}
