//! Direct registry HTTP calls: the digest behind a tag, a repository's tags, and pushing a small
//! OCI image. Built on `oci-client` (auth challenges, tag lists, blob and manifest uploads), with
//! `reqwest` for the one call `oci-client` words too loosely (see [`RegistryApi::manifest_digest`]).
//!
//! Errors carry the registry's error codes (OCI distribution spec, "Error Codes"), and never the
//! password: [`RegistryCredentials`] keeps it in a [`SecretString`] and its `Debug` redacts it.

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use oci_client::client::{ClientConfig, ClientProtocol, Config, ImageLayer};
use oci_client::errors::{OciDistributionError, OciEnvelope};
use oci_client::manifest::{OciImageManifest, IMAGE_LAYER_MEDIA_TYPE, OCI_IMAGE_MEDIA_TYPE};
use oci_client::secrets::RegistryAuth;
use oci_client::Reference;
use reqwest::header::{HeaderMap, ACCEPT, RETRY_AFTER, WWW_AUTHENTICATE};
use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};

use dagger_engine::registry::RegistryHost;
use dagger_engine::registry::{Digest, RepositoryName, Tag};

/// The manifest types a tag can point at: OCI index and manifest, Docker v2 list and manifest.
pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
application/vnd.oci.image.manifest.v1+json, \
application/vnd.docker.distribution.manifest.list.v2+json, \
application/vnd.docker.distribution.manifest.v2+json";

/// Media type of the config blob [`RegistryApi::push_image`] writes.
pub const OCI_CONFIG_MEDIA_TYPE: &str = "application/vnd.oci.image.config.v1+json";

/// Default bound on establishing a connection.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default bound on one whole API call (all its HTTP requests).
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

/// Tags asked for per page of `GET /v2/<name>/tags/list` by default.
pub const DEFAULT_TAGS_PAGE_SIZE: usize = 1000;
/// Pages followed at most before giving up (a registry that ignores `last` would loop forever).
const TAGS_MAX_PAGES: usize = 10_000;

/// A username and password (or API key) for a registry.
#[derive(Clone)]
pub struct RegistryCredentials {
    /// The user name.
    pub username: String,
    /// The password or API key (zot keys start with `zak_`).
    pub password: SecretString,
}

impl RegistryCredentials {
    /// Credentials from a username and a password.
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        RegistryCredentials {
            username: username.into(),
            password: SecretString::from(password.into()),
        }
    }
}

impl fmt::Debug for RegistryCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegistryCredentials")
            .field("username", &self.username)
            .field("password", &"[REDACTED]")
            .finish()
    }
}

/// A failed registry call. Messages name the host (and user), never the password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryApiError {
    /// 401: no credentials, wrong credentials, or an expired key.
    #[error("registry {host} refused the credentials{} (401 UNAUTHORIZED): check the username and password; an API key may have expired", user_suffix(.username))]
    Unauthorized {
        /// The registry host.
        host: String,
        /// The user name sent, if any.
        username: Option<String>,
    },
    /// 403: the user may not do this to this repository.
    #[error("registry {host} denied access to repository {repository} (403{}): the account lacks the permission", codes_suffix(.codes))]
    Denied {
        /// The registry host.
        host: String,
        /// The repository.
        repository: String,
        /// The registry's error codes (e.g. `DENIED`).
        codes: Vec<String>,
    },
    /// 429: rate limited.
    #[error("registry {host} is rate limiting requests (429 TOOMANYREQUESTS){}", retry_suffix(.retry_after))]
    TooManyRequests {
        /// The registry host.
        host: String,
        /// The `Retry-After` delay, when the registry sent one and it could be read.
        retry_after: Option<Duration>,
    },
    /// 5xx: the registry failed.
    #[error("registry {host} failed with HTTP {status}{}", codes_suffix(.codes))]
    Server {
        /// The registry host.
        host: String,
        /// The HTTP status.
        status: u16,
        /// The registry's error codes, if its body had them.
        codes: Vec<String>,
    },
    /// The registry could not be reached: connection refused, DNS failure, timeout.
    #[error("registry {host} is unreachable: {detail}")]
    Unreachable {
        /// The registry host.
        host: String,
        /// What went wrong.
        detail: String,
    },
    /// Any other answer, with its status and codes when known.
    #[error("unexpected answer from registry {host}: {detail}")]
    Protocol {
        /// The registry host.
        host: String,
        /// What was unexpected.
        detail: String,
    },
}

fn user_suffix(username: &Option<String>) -> String {
    match username {
        Some(u) => format!(" for user {u:?}"),
        None => " (no credentials were sent)".to_owned(),
    }
}

fn codes_suffix(codes: &[String]) -> String {
    if codes.is_empty() {
        String::new()
    } else {
        format!(" {}", codes.join(", "))
    }
}

fn retry_suffix(retry_after: &Option<Duration>) -> String {
    match retry_after {
        Some(d) => format!("; retry after {}s", d.as_secs()),
        None => String::new(),
    }
}

impl RegistryApiError {
    /// Whether trying again later may succeed: 5xx, 429, and unreachable registries.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            RegistryApiError::Server { .. }
                | RegistryApiError::TooManyRequests { .. }
                | RegistryApiError::Unreachable { .. }
        )
    }

    /// The registry's error codes, when the error carries some.
    pub fn codes(&self) -> &[String] {
        match self {
            RegistryApiError::Denied { codes, .. } | RegistryApiError::Server { codes, .. } => {
                codes
            }
            _ => &[],
        }
    }
}

/// Talks to one registry host with fixed credentials. Cheap to clone (shared clients).
#[derive(Clone)]
pub struct RegistryApi {
    inner: Arc<Inner>,
}

#[derive(Clone)]
struct Inner {
    host: RegistryHost,
    tags_page_size: usize,
    credentials: Option<RegistryCredentials>,
    plain_http: bool,
    connect_timeout: Duration,
    request_timeout: Duration,
    /// `Err` holds why the client could not be built (TLS setup); every call reports it.
    oci: Result<oci_client::Client, String>,
    http: Result<reqwest::Client, String>,
}

impl fmt::Debug for RegistryApi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegistryApi")
            .field("host", &self.inner.host)
            .field("credentials", &self.inner.credentials)
            .field("plain_http", &self.inner.plain_http)
            .finish_non_exhaustive()
    }
}

impl RegistryApi {
    /// A client for `host`. HTTPS, except plain HTTP for loopback hosts (`localhost`,
    /// `127.0.0.0/8`, `[::1]`), which Docker treats as insecure registries; see
    /// [`RegistryApi::with_plain_http`]. Connections are bounded by [`DEFAULT_CONNECT_TIMEOUT`]
    /// and each call by [`DEFAULT_REQUEST_TIMEOUT`].
    pub fn new(host: RegistryHost, credentials: Option<RegistryCredentials>) -> Self {
        let plain_http = host.is_loopback();
        Self::build(
            host,
            credentials,
            plain_http,
            DEFAULT_CONNECT_TIMEOUT,
            DEFAULT_REQUEST_TIMEOUT,
        )
    }

    /// The same client, with plain HTTP on (`true`) or off.
    pub fn with_plain_http(self, plain_http: bool) -> Self {
        let i = &self.inner;
        Self::build(
            i.host.clone(),
            i.credentials.clone(),
            plain_http,
            i.connect_timeout,
            i.request_timeout,
        )
    }

    /// The same client, with other bounds on connecting and on each call.
    pub fn with_timeouts(self, connect: Duration, request: Duration) -> Self {
        let i = &self.inner;
        Self::build(
            i.host.clone(),
            i.credentials.clone(),
            i.plain_http,
            connect,
            request,
        )
    }

    /// The same client, asking for `n` tags per page of the tags list (at least 1).
    pub fn with_tags_page_size(self, n: usize) -> Self {
        let mut inner = (*self.inner).clone();
        inner.tags_page_size = n.max(1);
        RegistryApi {
            inner: Arc::new(inner),
        }
    }

    fn build(
        host: RegistryHost,
        credentials: Option<RegistryCredentials>,
        plain_http: bool,
        connect_timeout: Duration,
        request_timeout: Duration,
    ) -> Self {
        let oci_config = ClientConfig {
            protocol: if plain_http {
                ClientProtocol::Http
            } else {
                ClientProtocol::Https
            },
            connect_timeout: Some(connect_timeout),
            read_timeout: Some(request_timeout),
            // Index manifests are never pulled here; nothing to resolve.
            platform_resolver: None,
            ..ClientConfig::default()
        };
        // oci-client's reqwest is built without a TLS provider of its own (Cargo.toml): ring,
        // the one reqwest 0.12 uses, is installed for the process unless one already is.
        let _ = rustls::crypto::ring::default_provider().install_default();
        // `Client::new` would fall back to a default client on error, losing the timeouts;
        // `try_from` keeps the error.
        let oci = oci_client::Client::try_from(oci_config).map_err(|e| e.to_string());
        let http = reqwest::Client::builder()
            .connect_timeout(connect_timeout)
            .timeout(request_timeout)
            .redirect(reqwest::redirect::Policy::limited(5))
            .build()
            .map_err(|e| e.to_string());
        RegistryApi {
            inner: Arc::new(Inner {
                host,
                tags_page_size: DEFAULT_TAGS_PAGE_SIZE,
                credentials,
                plain_http,
                connect_timeout,
                request_timeout,
                oci,
                http,
            }),
        }
    }

    /// The registry host.
    pub fn host(&self) -> &RegistryHost {
        &self.inner.host
    }

    /// Whether requests use plain HTTP.
    pub fn plain_http(&self) -> bool {
        self.inner.plain_http
    }

    /// The host name requests go to: Docker Hub's API lives at `registry-1.docker.io`.
    fn api_host(&self) -> &str {
        if self.inner.host.is_docker_hub() {
            "registry-1.docker.io"
        } else {
            self.inner.host.as_str()
        }
    }

    fn base_url(&self) -> String {
        let scheme = if self.inner.plain_http {
            "http"
        } else {
            "https"
        };
        format!("{scheme}://{}", self.api_host())
    }

    fn username(&self) -> Option<String> {
        self.inner.credentials.as_ref().map(|c| c.username.clone())
    }

    fn oci_auth(&self) -> RegistryAuth {
        match &self.inner.credentials {
            Some(c) => {
                RegistryAuth::Basic(c.username.clone(), c.password.expose_secret().to_owned())
            }
            None => RegistryAuth::Anonymous,
        }
    }

    fn oci_ref(&self, repository: &RepositoryName, tag: &Tag) -> Reference {
        // oci-client maps `docker.io` to `index.docker.io` itself (`resolve_registry`).
        Reference::with_tag(
            self.inner.host.to_string(),
            repository.to_string(),
            tag.to_string(),
        )
    }

    fn oci(&self) -> Result<&oci_client::Client, RegistryApiError> {
        self.inner
            .oci
            .as_ref()
            .map_err(|e| self.protocol(format!("cannot build the HTTP client: {e}")))
    }

    fn http(&self) -> Result<&reqwest::Client, RegistryApiError> {
        self.inner
            .http
            .as_ref()
            .map_err(|e| self.protocol(format!("cannot build the HTTP client: {e}")))
    }

    fn protocol(&self, detail: String) -> RegistryApiError {
        RegistryApiError::Protocol {
            host: self.inner.host.to_string(),
            detail,
        }
    }

    /// Runs one call under the request bound.
    async fn bounded<T>(
        &self,
        what: &str,
        call: impl std::future::Future<Output = Result<T, RegistryApiError>>,
    ) -> Result<T, RegistryApiError> {
        match tokio::time::timeout(self.inner.request_timeout, call).await {
            Ok(result) => result,
            Err(_) => Err(RegistryApiError::Unreachable {
                host: self.inner.host.to_string(),
                detail: format!(
                    "{what} timed out after {}s",
                    self.inner.request_timeout.as_secs()
                ),
            }),
        }
    }

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
        let scope = format!("repository:{repository}:pull");
        self.bounded("manifest lookup", async {
            let res = self
                .send_authed(reqwest::Method::HEAD, &url, &scope)
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
            let res = self.send_authed(reqwest::Method::GET, &url, &scope).await?;
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
    /// `WWW-Authenticate: Bearer realm=...` challenge, gets a token for `scope` from the realm
    /// (with the same credentials) and sends the request again with it — the token flow of
    /// the distribution spec's auth docs (docker/distribution `docs/spec/auth/token.md`).
    async fn send_authed(
        &self,
        method: reqwest::Method,
        url: &str,
        scope: &str,
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
        if res.status() != StatusCode::UNAUTHORIZED {
            return Ok(res);
        }
        let Some(challenge) = res
            .headers()
            .get(WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok())
            .and_then(BearerChallenge::parse)
        else {
            return Ok(res);
        };
        let token = self.fetch_token(http, &challenge, scope).await?;
        request(Some(&token))
            .send()
            .await
            .map_err(|e| self.error_from_reqwest(&e))
    }

    async fn fetch_token(
        &self,
        http: &reqwest::Client,
        challenge: &BearerChallenge,
        scope: &str,
    ) -> Result<String, RegistryApiError> {
        let mut query = vec![("scope", scope.to_owned())];
        if let Some(service) = &challenge.service {
            query.push(("service", service.clone()));
        }
        let mut rb = http.get(&challenge.realm).query(&query);
        if let Some(c) = &self.inner.credentials {
            rb = rb.basic_auth(&c.username, Some(c.password.expose_secret()));
        }
        let res = rb.send().await.map_err(|e| self.error_from_reqwest(&e))?;
        let status = res.status();
        if !status.is_success() {
            let headers = res.headers().clone();
            return Err(self.error_for_status(status, &headers, &[], ""));
        }
        #[derive(serde::Deserialize)]
        struct TokenAnswer {
            token: Option<String>,
            access_token: Option<String>,
        }
        let answer: TokenAnswer = res
            .json()
            .await
            .map_err(|e| self.protocol(format!("token endpoint answer: {e}")))?;
        answer
            .token
            .or(answer.access_token)
            .ok_or_else(|| self.protocol("token endpoint answered without a token".to_owned()))
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

    /// Maps an HTTP status (with its headers and body) to an error.
    fn error_for_status(
        &self,
        status: StatusCode,
        headers: &HeaderMap,
        body: &[u8],
        repository: &str,
    ) -> RegistryApiError {
        let codes = envelope_codes(body);
        self.error_for_code(
            status.as_u16(),
            codes,
            retry_after(headers),
            repository,
            None,
        )
    }

    fn error_for_code(
        &self,
        status: u16,
        codes: Vec<String>,
        retry_after: Option<Duration>,
        repository: &str,
        url: Option<&str>,
    ) -> RegistryApiError {
        let host = self.inner.host.to_string();
        match status {
            401 => RegistryApiError::Unauthorized {
                host,
                username: self.username(),
            },
            403 => RegistryApiError::Denied {
                host,
                repository: repository.to_owned(),
                codes,
            },
            429 => RegistryApiError::TooManyRequests { host, retry_after },
            500..=599 => RegistryApiError::Server {
                host,
                status,
                codes,
            },
            _ => RegistryApiError::Protocol {
                host,
                detail: format!(
                    "HTTP {status}{}{}",
                    codes_suffix(&codes),
                    url.map(|u| format!(" from {u}")).unwrap_or_default()
                ),
            },
        }
    }

    /// Maps an `oci-client` error. `oci-client` keeps the status only for answers without an
    /// error envelope (`ServerError`) and drops all headers, so a 4xx with an envelope is
    /// classified by its codes, and `Retry-After` is never known on this path.
    fn error_from_oci(&self, err: OciDistributionError, repository: &str) -> RegistryApiError {
        let host = self.inner.host.to_string();
        match err {
            OciDistributionError::UnauthorizedError { .. }
            | OciDistributionError::AuthenticationFailure(_) => RegistryApiError::Unauthorized {
                host,
                username: self.username(),
            },
            OciDistributionError::RegistryError { envelope, url } => {
                let codes = codes_of(&envelope);
                let has = |c: &str| codes.iter().any(|x| x == c);
                let status = if has("UNAUTHORIZED") {
                    401
                } else if has("DENIED") {
                    403
                } else if has("TOOMANYREQUESTS") {
                    429
                } else {
                    // A 4xx whose exact status oci-client does not keep.
                    0
                };
                if status == 0 {
                    RegistryApiError::Protocol {
                        host,
                        detail: format!("HTTP 4xx{} from {url}", codes_suffix(&codes)),
                    }
                } else {
                    self.error_for_code(status, codes, None, repository, Some(&url))
                }
            }
            OciDistributionError::ServerError { code, url, message } => self.error_for_code(
                code,
                envelope_codes(message.as_bytes()),
                None,
                repository,
                Some(&url),
            ),
            OciDistributionError::RequestError(e) => {
                if e.is_connect() || e.is_timeout() || e.is_request() {
                    RegistryApiError::Unreachable {
                        host,
                        detail: error_chain(&e),
                    }
                } else if let Some(status) = e.status() {
                    self.error_for_code(status.as_u16(), Vec::new(), None, repository, None)
                } else {
                    RegistryApiError::Protocol {
                        host,
                        detail: error_chain(&e),
                    }
                }
            }
            other => RegistryApiError::Protocol {
                host,
                detail: other.to_string(),
            },
        }
    }

    fn error_from_reqwest(&self, e: &reqwest::Error) -> RegistryApiError {
        let host = self.inner.host.to_string();
        if e.is_connect() || e.is_timeout() || e.is_request() {
            RegistryApiError::Unreachable {
                host,
                detail: error_chain(e),
            }
        } else {
            RegistryApiError::Protocol {
                host,
                detail: error_chain(e),
            }
        }
    }
}

/// An error and its sources, joined (reqwest's own message hides "connection refused").
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    text
}

fn is_name_unknown(e: &OciDistributionError) -> bool {
    match e {
        OciDistributionError::RegistryError { envelope, .. } => {
            codes_of(envelope).iter().any(|c| c == "NAME_UNKNOWN")
        }
        OciDistributionError::ServerError {
            code: 404, message, ..
        } => envelope_codes(message.as_bytes())
            .iter()
            .any(|c| c == "NAME_UNKNOWN"),
        _ => false,
    }
}

fn codes_of(envelope: &OciEnvelope) -> Vec<String> {
    envelope
        .errors
        .iter()
        .map(|e| match serde_json::to_value(&e.code) {
            Ok(serde_json::Value::String(s)) => s,
            _ => format!("{:?}", e.code),
        })
        .collect()
}

/// The `code`s of an OCI error envelope body (`{"errors":[{"code":...}]}`), if it is one.
fn envelope_codes(body: &[u8]) -> Vec<String> {
    #[derive(serde::Deserialize)]
    struct Envelope {
        errors: Vec<Entry>,
    }
    #[derive(serde::Deserialize)]
    struct Entry {
        code: String,
    }
    serde_json::from_slice::<Envelope>(body)
        .map(|e| e.errors.into_iter().map(|x| x.code).collect())
        .unwrap_or_default()
}

/// `Retry-After` in seconds. The HTTP-date form is not read (it would need a date parser;
/// registries send seconds in practice) and gives `None`.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

/// A `WWW-Authenticate: Bearer realm="...",service="..."` challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
struct BearerChallenge {
    realm: String,
    service: Option<String>,
}

impl BearerChallenge {
    fn parse(header: &str) -> Option<BearerChallenge> {
        let (scheme, params) = header.trim().split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return None;
        }
        let mut realm = None;
        let mut service = None;
        let mut rest = params.trim();
        while !rest.is_empty() {
            let (key, after) = rest.split_once('=')?;
            let after = after.trim_start();
            let (value, next) = if let Some(quoted) = after.strip_prefix('"') {
                let end = quoted.find('"')?;
                (&quoted[..end], &quoted[end + 1..])
            } else {
                match after.find(',') {
                    Some(i) => (&after[..i], &after[i..]),
                    None => (after, ""),
                }
            };
            match key.trim().to_ascii_lowercase().as_str() {
                "realm" => realm = Some(value.to_owned()),
                "service" => service = Some(value.to_owned()),
                _ => {}
            }
            rest = next.trim_start().trim_start_matches(',').trim_start();
        }
        Some(BearerChallenge {
            realm: realm?,
            service,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(creds: Option<RegistryCredentials>) -> RegistryApi {
        RegistryApi::new(RegistryHost::parse("registry.example.com").unwrap(), creds)
    }

    #[test]
    fn plain_http_only_for_loopback() {
        for (host, plain) in [
            ("127.0.0.1:5000", true),
            ("localhost:5000", true),
            ("registry.example.org", false),
            ("docker.io", false),
        ] {
            let a = RegistryApi::new(RegistryHost::parse(host).unwrap(), None);
            assert_eq!(a.plain_http(), plain, "{host}");
        }
        assert!(api(None).with_plain_http(true).plain_http());
        assert_eq!(api(None).base_url(), "https://registry.example.com");
        let hub = RegistryApi::new(RegistryHost::parse("docker.io").unwrap(), None);
        assert_eq!(hub.base_url(), "https://registry-1.docker.io");
    }

    #[test]
    fn debug_never_shows_the_password() {
        let creds = RegistryCredentials::new("ci-bot", "zak_supersecret");
        let a = api(Some(creds.clone()));
        let text = format!("{creds:?} {a:?}");
        assert!(!text.contains("zak_supersecret"), "{text}");
        assert!(text.contains("ci-bot"), "{text}");
    }

    #[test]
    fn statuses_map_to_variants() {
        let a = api(Some(RegistryCredentials::new("u", "p")));
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, "17".parse().unwrap());
        let body = br#"{"errors":[{"code":"DENIED","message":"no"}]}"#;
        assert_eq!(
            a.error_for_status(StatusCode::FORBIDDEN, &HeaderMap::new(), body, "x/y"),
            RegistryApiError::Denied {
                host: "registry.example.com".into(),
                repository: "x/y".into(),
                codes: vec!["DENIED".into()]
            }
        );
        assert_eq!(
            a.error_for_status(StatusCode::TOO_MANY_REQUESTS, &headers, &[], "x"),
            RegistryApiError::TooManyRequests {
                host: "registry.example.com".into(),
                retry_after: Some(Duration::from_secs(17))
            }
        );
        let e = a.error_for_status(StatusCode::UNAUTHORIZED, &HeaderMap::new(), &[], "x");
        let msg = e.to_string();
        assert!(
            msg.contains("registry.example.com")
                && msg.contains("\"u\"")
                && msg.contains("expired"),
            "{msg}"
        );
        let e = a.error_for_status(StatusCode::BAD_GATEWAY, &HeaderMap::new(), b"oops", "x");
        assert!(matches!(e, RegistryApiError::Server { status: 502, .. }) && e.is_transient());
        let e = a.error_for_status(
            StatusCode::BAD_REQUEST,
            &HeaderMap::new(),
            br#"{"errors":[{"code":"NAME_INVALID"}]}"#,
            "x",
        );
        assert!(
            matches!(&e, RegistryApiError::Protocol { detail, .. } if detail.contains("400") && detail.contains("NAME_INVALID")),
            "{e}"
        );
        assert!(!e.is_transient());
    }

    #[test]
    fn oci_errors_map_by_codes() {
        let a = api(None);
        let envelope: OciEnvelope = serde_json::from_str(
            r#"{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}"#,
        )
        .unwrap();
        let e = a.error_from_oci(
            OciDistributionError::RegistryError {
                envelope,
                url: "u".into(),
            },
            "x",
        );
        assert_eq!(
            e,
            RegistryApiError::TooManyRequests {
                host: "registry.example.com".into(),
                retry_after: None
            }
        );
        let e = a.error_from_oci(
            OciDistributionError::ServerError {
                code: 503,
                url: "u".into(),
                message: String::new(),
            },
            "x",
        );
        assert!(matches!(e, RegistryApiError::Server { status: 503, .. }));
        let e = a.error_from_oci(
            OciDistributionError::UnauthorizedError { url: "u".into() },
            "x",
        );
        assert!(e.to_string().contains("no credentials were sent"), "{e}");
        let unknown: OciEnvelope =
            serde_json::from_str(r#"{"errors":[{"code":"NAME_UNKNOWN"}]}"#).unwrap();
        assert!(is_name_unknown(&OciDistributionError::RegistryError {
            envelope: unknown,
            url: "u".into()
        }));
    }

    #[test]
    fn bearer_challenges() {
        assert_eq!(
            BearerChallenge::parse(
                r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:a:pull""#
            ),
            Some(BearerChallenge {
                realm: "https://auth.docker.io/token".into(),
                service: Some("registry.docker.io".into())
            })
        );
        assert_eq!(
            BearerChallenge::parse("Bearer realm=https://r/token"),
            Some(BearerChallenge {
                realm: "https://r/token".into(),
                service: None
            })
        );
        assert_eq!(
            BearerChallenge::parse(r#"Basic realm="Registry Realm""#),
            None
        );
        assert_eq!(BearerChallenge::parse(r#"Bearer service="x""#), None);
        assert_eq!(
            BearerChallenge::parse(r#"Bearer realm="unterminated"#),
            None
        );
    }

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

    type Handler = dyn Fn(&str, &str) -> (u16, Vec<(&'static str, String)>, String) + Send + Sync;

    /// A tiny HTTP/1.1 server on loopback: one request per connection, answered by `handler`
    /// from the method and the path with its query. For statuses a real registry will not
    /// produce on demand (429, 5xx, paginated tag lists).
    async fn fake_registry(handler: Arc<Handler>) -> RegistryHost {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                let handler = handler.clone();
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                        match sock.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let head = String::from_utf8_lossy(&buf).to_string();
                    let mut first = head.lines().next().unwrap_or("").split(' ');
                    let method = first.next().unwrap_or("").to_owned();
                    let target = first.next().unwrap_or("").to_owned();
                    let (status, headers, body) = handler(&method, &target);
                    let mut out = format!(
                        "HTTP/1.1 {status} X\r\nConnection: close\r\nContent-Length: {}\r\n",
                        body.len()
                    );
                    for (k, v) in headers {
                        out.push_str(&format!("{k}: {v}\r\n"));
                    }
                    out.push_str("\r\n");
                    if method != "HEAD" {
                        out.push_str(&body);
                    }
                    let _ = sock.write_all(out.as_bytes()).await;
                    let _ = sock.shutdown().await;
                });
            }
        });
        RegistryHost::parse(&format!("127.0.0.1:{port}")).unwrap()
    }

    fn query_param<'a>(target: &'a str, key: &str) -> Option<&'a str> {
        target
            .split_once('?')?
            .1
            .split('&')
            .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
    }

    #[tokio::test]
    async fn tags_pagination_with_n_and_last() {
        let all: Vec<String> = (0..10).map(|i| format!("t{i:02}")).collect();
        let served = all.clone();
        let host = fake_registry(Arc::new(move |_m: &str, target: &str| {
            let n: usize = query_param(target, "n")
                .and_then(|n| n.parse().ok())
                .unwrap_or(1000);
            let last = query_param(target, "last").unwrap_or("");
            let page: Vec<&String> = served
                .iter()
                .filter(|t| t.as_str() > last)
                .take(n)
                .collect();
            (
                200,
                vec![("Content-Type", "application/json".into())],
                serde_json::json!({"name": "r", "tags": page}).to_string(),
            )
        }))
        .await;
        for page in [1, 3, 10, 11] {
            let api = RegistryApi::new(host.clone(), None).with_tags_page_size(page);
            let got = api
                .list_tags(&RepositoryName::parse("r").unwrap())
                .await
                .unwrap();
            assert_eq!(got, all, "page size {page}");
        }
    }

    #[tokio::test]
    async fn head_statuses_are_classified() {
        let host = fake_registry(Arc::new(|_m: &str, target: &str| {
            let json = vec![("Content-Type", "application/json".to_owned())];
            match target {
                t if t.contains("/slow/") => {
                    (429, vec![("Retry-After", "42".to_owned())], String::new())
                }
                t if t.contains("/broken/") => (
                    503,
                    json,
                    r#"{"errors":[{"code":"UNAVAILABLE"}]}"#.to_owned(),
                ),
                t if t.contains("/denied/") => {
                    (403, json, r#"{"errors":[{"code":"DENIED"}]}"#.to_owned())
                }
                t if t.contains("/nodigest/") => (200, json, r#"{"schemaVersion":2}"#.to_owned()),
                t if t.contains("/weird/") => (302, vec![], String::new()),
                _ => (
                    404,
                    json,
                    r#"{"errors":[{"code":"MANIFEST_UNKNOWN"}]}"#.to_owned(),
                ),
            }
        }))
        .await;
        let api = RegistryApi::new(host.clone(), Some(RegistryCredentials::new("ci", "pw")));
        let t = Tag::parse("v1").unwrap();
        let digest = |r: &str| {
            let api = api.clone();
            let repo = RepositoryName::parse(r).unwrap();
            let t = t.clone();
            async move { api.manifest_digest(&repo, &t).await }
        };
        assert_eq!(
            digest("slow/x").await.unwrap_err(),
            RegistryApiError::TooManyRequests {
                host: host.to_string(),
                retry_after: Some(Duration::from_secs(42))
            }
        );
        let e = digest("broken/x").await.unwrap_err();
        assert!(
            matches!(e, RegistryApiError::Server { status: 503, .. }) && e.is_transient(),
            "{e:?}"
        );
        // HEAD answers have no body, so the codes are unknown here.
        assert!(matches!(
            digest("denied/x").await.unwrap_err(),
            RegistryApiError::Denied { .. }
        ));
        // 200 without Docker-Content-Digest: the GET body's sha256.
        assert_eq!(
            digest("nodigest/x").await.unwrap(),
            Some(Digest::sha256_of(br#"{"schemaVersion":2}"#))
        );
        let e = digest("weird/x").await.unwrap_err();
        assert!(
            matches!(&e, RegistryApiError::Protocol { detail, .. } if detail.contains("302")),
            "{e:?}"
        );
        assert_eq!(digest("absent/x").await.unwrap(), None);
    }

    #[tokio::test]
    async fn bearer_token_flow_for_head() {
        // The fake server cannot see headers, so the token request is recognised by its path
        // and the retried HEAD by a second call counter.
        let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let port_cell: Arc<std::sync::OnceLock<u16>> = Arc::new(std::sync::OnceLock::new());
        let (c, pc) = (calls.clone(), port_cell.clone());
        let hex = "c".repeat(64);
        let host = fake_registry(Arc::new(move |_m: &str, target: &str| {
            let port = pc.get().copied().unwrap_or(0);
            if target.starts_with("/token") {
                assert!(
                    target.contains("scope=repository%3Aa%2Fb%3Apull")
                        || target.contains("scope=repository:a/b:pull"),
                    "{target}"
                );
                assert!(target.contains("service=reg"), "{target}");
                return (200, vec![], r#"{"token":"t0k"}"#.to_owned());
            }
            if c.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
                let challenge =
                    format!(r#"Bearer realm="http://127.0.0.1:{port}/token",service="reg""#);
                return (401, vec![("WWW-Authenticate", challenge)], String::new());
            }
            (
                200,
                vec![(
                    "Docker-Content-Digest",
                    format!("sha256:{}", "c".repeat(64)),
                )],
                String::new(),
            )
        }))
        .await;
        let _ = port_cell.set(host.port().unwrap_or(0));
        let api = RegistryApi::new(host, Some(RegistryCredentials::new("ci", "pw")));
        let got = api
            .manifest_digest(
                &RepositoryName::parse("a/b").unwrap(),
                &Tag::parse("v1").unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(got.map(|d| d.to_string()), Some(format!("sha256:{hex}")));
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 2);
    }
}
