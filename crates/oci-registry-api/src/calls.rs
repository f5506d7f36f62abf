//! The three registry calls.

use std::collections::HashSet;

use dagger_engine::registry::{Digest, RepositoryName, Tag};
use oci_client::client::{Config, ImageLayer};
use oci_client::manifest::{OciImageManifest, IMAGE_LAYER_MEDIA_TYPE, OCI_IMAGE_MEDIA_TYPE};
use oci_client::{Reference, RegistryOperation};
use reqwest::header::{ACCEPT, WWW_AUTHENTICATE};
use reqwest::StatusCode;
use secrecy::ExposeSecret;

use crate::map::is_name_unknown;
use crate::{
    RegistryApi, RegistryApiError, MANIFEST_ACCEPT, OCI_CONFIG_MEDIA_TYPE, TAGS_MAX_PAGES,
};

impl RegistryApi {
    /// The digest the tag points at (`HEAD /v2/<repo>/manifests/<tag>` with the manifest
    /// `Accept` types): `Some` on 200, `None` on 404.
    ///
    /// Done with `reqwest` rather than `oci-client`'s `fetch_manifest_digest`: that one falls
    /// back to a GET whenever the HEAD answer lacks `Docker-Content-Digest` (which is every
    /// 404 and 401), and turns a 429 into an error without its `Retry-After`. Here the HEAD's own
    /// status decides; only a 200 without the digest header falls back to a GET (digest = sha256
    /// of the body, as the spec allows).
    pub async fn manifest_digest(
        &self,
        repository: &RepositoryName,
        tag: &Tag,
    ) -> Result<Option<Digest>, RegistryApiError> {
        let url = format!("{}/v2/{repository}/manifests/{tag}", self.base_url());
        self.bounded("manifest lookup", async {
            let res = self
                .send_authed(reqwest::Method::HEAD, &url, repository, tag)
                .await?;
            let status = res.status();
            if status == StatusCode::NOT_FOUND {
                return Ok(None);
            }
            if status != StatusCode::OK {
                let headers = res.headers().clone();
                return Err(self.error_for_status(status, &headers, &[], repository.as_str()));
            }
            if let Some(value) = res.headers().get("docker-content-digest") {
                let text = value
                    .to_str()
                    .map_err(|_| self.protocol("Docker-Content-Digest is not text".to_owned()))?;
                return Digest::parse(text.trim())
                    .map(Some)
                    .map_err(|e| self.protocol(format!("Docker-Content-Digest header: {e}")));
            }
            let res = self
                .send_authed(reqwest::Method::GET, &url, repository, tag)
                .await?;
            let status = res.status();
            let headers = res.headers().clone();
            let body = res.bytes().await.map_err(|e| self.error_from_reqwest(&e))?;
            match status {
                StatusCode::OK => Ok(Some(Digest::sha256_of(&body))),
                StatusCode::NOT_FOUND => Ok(None),
                _ => Err(self.error_for_status(status, &headers, &body, repository.as_str())),
            }
        })
        .await
    }

    /// Sends a request with basic auth (when credentials are set); on a 401 with a
    /// `WWW-Authenticate: Bearer` challenge, has `oci-client` run the distribution spec's token
    /// flow (docker/distribution `docs/spec/auth/token.md`) for `repository`'s pull scope, with
    /// the same credentials, and sends the request again with the token.
    async fn send_authed(
        &self,
        method: reqwest::Method,
        url: &str,
        repository: &RepositoryName,
        tag: &Tag,
    ) -> Result<reqwest::Response, RegistryApiError> {
        let http = self.http()?;
        let request = |bearer: Option<&str>| {
            let rb = http
                .request(method.clone(), url)
                .header(ACCEPT, MANIFEST_ACCEPT);
            match (bearer, &self.inner.credentials) {
                (Some(token), _) => rb.bearer_auth(token),
                (None, Some(c)) => rb.basic_auth(&c.username, Some(c.password.expose_secret())),
                (None, None) => rb,
            }
        };
        let res = request(None)
            .send()
            .await
            .map_err(|e| self.error_from_reqwest(&e))?;
        let bearer_challenge = res.status() == StatusCode::UNAUTHORIZED
            && res
                .headers()
                .get(WWW_AUTHENTICATE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("bearer "));
        if !bearer_challenge {
            return Ok(res);
        }
        let token = self
            .oci()?
            .auth(
                &self.oci_ref(repository, tag),
                &self.oci_auth(),
                RegistryOperation::Pull,
            )
            .await
            .map_err(|e| self.error_from_oci(e, repository.as_str()))?;
        match token {
            Some(token) => request(Some(&token))
                .send()
                .await
                .map_err(|e| self.error_from_reqwest(&e)),
            // The registry's own `/v2/` probe asked for no token: the 401 stands.
            None => Ok(res),
        }
    }

    /// All tags of a repository (`GET /v2/<repo>/tags/list`, following pagination with `n` and
    /// `last`). An unknown repository (404 `NAME_UNKNOWN`) has no tags.
    pub async fn list_tags(
        &self,
        repository: &RepositoryName,
    ) -> Result<Vec<String>, RegistryApiError> {
        let oci = self.oci()?;
        let page_size = self.inner.tags_page_size;
        // The tag in the reference is not used by the tags endpoint.
        let reference = Reference::with_tag(
            self.inner.host.to_string(),
            repository.to_string(),
            "latest".to_owned(),
        );
        let auth = self.oci_auth();
        self.bounded("tag listing", async {
            // Pagination per the distribution spec ("Listing Tags"): ask for `n`, then again
            // with `last` = the last tag seen, until a page has fewer than `n` tags. Registries
            // that ignore `n`/`last` (distribution 2.8, the Debian package, answers every tag
            // in one page, in no particular order) are handled: a page with more than `n` tags
            // is the whole list, and a page with nothing new ends the walk.
            let mut tags: Vec<String> = Vec::new();
            let mut seen: HashSet<String> = HashSet::new();
            let mut last: Option<String> = None;
            for _ in 0..TAGS_MAX_PAGES {
                let page = match oci
                    .list_tags(&reference, &auth, Some(page_size), last.as_deref())
                    .await
                {
                    Ok(page) => page.tags,
                    Err(e) if is_name_unknown(&e) => return Ok(Vec::new()),
                    Err(e) => return Err(self.error_from_oci(e, repository.as_str())),
                };
                let exactly_full = page.len() == page_size;
                let page_last = page.last().cloned();
                let mut new = 0;
                for t in page {
                    if seen.insert(t.clone()) {
                        tags.push(t);
                        new += 1;
                    }
                }
                if !exactly_full || new == 0 {
                    return Ok(tags);
                }
                last = page_last;
            }
            Err(self.protocol(format!(
                "tags/list of {repository} did not end after {TAGS_MAX_PAGES} pages"
            )))
        })
        .await
    }

    /// Pushes a small single-platform OCI image: each layer and the config as blobs
    /// (layers typed `application/vnd.oci.image.layer.v1.tar`, config
    /// `application/vnd.oci.image.config.v1+json`), then the manifest under `tag`.
    /// Answers the manifest's digest (sha256 of the exact bytes sent), so pushing the same
    /// content again gives the same digest.
    pub async fn push_image(
        &self,
        repository: &RepositoryName,
        tag: &Tag,
        config: Vec<u8>,
        layers: Vec<Vec<u8>>,
    ) -> Result<Digest, RegistryApiError> {
        let oci = self.oci()?;
        let reference = self.oci_ref(repository, tag);
        let auth = self.oci_auth();
        let layers: Vec<ImageLayer> = layers
            .into_iter()
            .map(|data| ImageLayer::new(data, IMAGE_LAYER_MEDIA_TYPE.to_owned(), None))
            .collect();
        let config = Config::new(config, OCI_CONFIG_MEDIA_TYPE.to_owned(), None);
        let manifest = OciImageManifest::build(&layers, &config, None);
        let manifest_bytes = serde_json::to_vec(&manifest)
            .map_err(|e| self.protocol(format!("cannot encode the manifest: {e}")))?;
        let content_type = reqwest::header::HeaderValue::from_static(OCI_IMAGE_MEDIA_TYPE);
        let repo = repository.as_str();
        self.bounded("image push", async {
            // Stores the credentials in the client, as `push` would.
            oci.store_auth_if_needed(reference.resolve_registry(), &auth)
                .await;
            for (layer, descriptor) in layers.iter().zip(&manifest.layers) {
                oci.push_blob(&reference, layer.data.clone(), &descriptor.digest)
                    .await
                    .map_err(|e| self.error_from_oci(e, repo))?;
            }
            oci.push_blob(&reference, config.data.clone(), &manifest.config.digest)
                .await
                .map_err(|e| self.error_from_oci(e, repo))?;
            oci.push_manifest_raw(&reference, manifest_bytes.clone(), content_type)
                .await
                .map_err(|e| self.error_from_oci(e, repo))?;
            Ok(Digest::sha256_of(&manifest_bytes))
        })
        .await
    }
}

impl RegistryApi {
    /// Points `tag` at the manifest `digest` of `repository` (a retag): the manifest is read by
    /// digest and stored again, byte for byte, under the tag, so the tag answers the same
    /// digest. Answers that digest.
    pub async fn tag_manifest(
        &self,
        repository: &RepositoryName,
        digest: &Digest,
        tag: &Tag,
    ) -> Result<Digest, RegistryApiError> {
        let oci = self.oci()?;
        let target = self.oci_ref(repository, tag);
        let source = Reference::with_digest(
            target.registry().to_string(),
            repository.to_string(),
            digest.to_string(),
        );
        let auth = self.oci_auth();
        let repo = repository.as_str();
        self.bounded("manifest retag", async {
            let (bytes, _) = oci
                .pull_manifest_raw(&source, &auth, MANIFEST_MEDIA_TYPES)
                .await
                .map_err(|e| self.error_from_oci(e, repo))?;
            let media_type = serde_json::from_slice::<serde_json::Value>(&bytes)
                .ok()
                .and_then(|m| m["mediaType"].as_str().map(str::to_string))
                .unwrap_or_else(|| OCI_IMAGE_MEDIA_TYPE.to_string());
            let content_type = reqwest::header::HeaderValue::from_str(&media_type)
                .map_err(|e| self.protocol(format!("manifest media type {media_type:?}: {e}")))?;
            oci.push_manifest_raw(&target, bytes.clone(), content_type)
                .await
                .map_err(|e| self.error_from_oci(e, repo))?;
            Ok(Digest::sha256_of(&bytes))
        })
        .await
    }
}

/// The manifest kinds a retag copies: OCI and Docker images and indexes.
const MANIFEST_MEDIA_TYPES: &[&str] = &[
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
];

#[cfg(test)]
mod tests {
    use dagger_engine::registry::RegistryHost;

    use super::*;
    use crate::RegistryCredentials;

    #[tokio::test]
    async fn refused_connection_is_unreachable_and_transient() {
        // Bind then drop a listener to get a port nothing listens on.
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let host = RegistryHost::parse(&format!("127.0.0.1:{port}")).unwrap();
        let a = RegistryApi::new(host, Some(RegistryCredentials::new("u", "pw-not-shown")));
        let repo = RepositoryName::parse("a/b").unwrap();
        let tag = Tag::parse("t").unwrap();
        let e = a.manifest_digest(&repo, &tag).await.unwrap_err();
        assert!(
            matches!(e, RegistryApiError::Unreachable { .. }) && e.is_transient(),
            "{e:?}"
        );
        let e = a.list_tags(&repo).await.unwrap_err();
        assert!(matches!(e, RegistryApiError::Unreachable { .. }), "{e:?}");
        let e = a
            .push_image(&repo, &tag, b"{}".to_vec(), vec![])
            .await
            .unwrap_err();
        assert!(matches!(e, RegistryApiError::Unreachable { .. }), "{e:?}");
        assert!(!format!("{e} {e:?}").contains("pw-not-shown"));
    }
}
