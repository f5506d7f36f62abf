//! The existing-tag check against the mock engine's registry model, so publish tests need no
//! network: [`MockEngine`] is a [`TagLookup`] answering as a registry's `HEAD
//! /v2/<name>/manifests/<tag>` would (an unreachable host fails to connect, wrong credentials get
//! 401, a missing tag 404). A host backed by a real registry is asked for real.

use async_trait::async_trait;
use secrecy::ExposeSecret;

use super::MockEngine;
use dagger_engine::registry::{Digest, RegistryHost, RepositoryName, Tag};
use dagger_publish::TagLookup;
use oci_registry_api::{RegistryApi, RegistryApiError, RegistryCredentials};

#[async_trait]
impl TagLookup for MockEngine {
    async fn manifest_digest(
        &self,
        host: &RegistryHost,
        credentials: Option<&RegistryCredentials>,
        repository: &RepositoryName,
        tag: &Tag,
    ) -> Result<Option<Digest>, RegistryApiError> {
        let backend = {
            let mut state = self.shared.lock();
            let reg = state.registry(host.as_str());
            if reg.unreachable {
                return Err(RegistryApiError::Unreachable {
                    host: host.to_string(),
                    detail: format!("dial tcp: lookup {}: no such host", host.hostname()),
                });
            }
            match &reg.backend {
                Some(api) => Some(api.clone()),
                None => {
                    let allowed = match credentials {
                        Some(c) => reg.accounts.get(&c.username).is_some_and(|(expected, _)| {
                            expected.as_str() == c.password.expose_secret()
                        }),
                        None => reg.allow_anonymous_push,
                    };
                    if !allowed {
                        return Err(RegistryApiError::Unauthorized {
                            host: host.to_string(),
                            username: credentials.map(|c| c.username.clone()),
                        });
                    }
                    let found = reg
                        .repositories
                        .get(repository.as_str())
                        .and_then(|tags| tags.get(tag.as_str()))
                        .cloned();
                    return found
                        .map(|d| {
                            Digest::parse(&d).map_err(|e| RegistryApiError::Protocol {
                                host: host.to_string(),
                                detail: e.to_string(),
                            })
                        })
                        .transpose();
                }
            }
        };
        match backend {
            // The real registry decides, with the credentials given to the check.
            Some(api) => {
                RegistryApi::new(api.host().clone(), credentials.cloned())
                    .manifest_digest(repository, tag)
                    .await
            }
            None => Ok(None),
        }
    }
}
