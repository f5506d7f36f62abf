//! [`RegistryApi`]: one registry host with fixed credentials, its HTTP clients and time bounds.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use dagger_engine::registry::{RegistryHost, RepositoryName, Tag};
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::secrets::RegistryAuth;
use oci_client::Reference;
use secrecy::ExposeSecret;

use crate::{
    RegistryApiError, RegistryCredentials, DEFAULT_CONNECT_TIMEOUT, DEFAULT_REQUEST_TIMEOUT,
    DEFAULT_TAGS_PAGE_SIZE,
};

/// Talks to one registry host with fixed credentials. Cheap to clone (shared clients).
#[derive(Clone)]
pub struct RegistryApi {
    pub(crate) inner: Arc<Inner>,
}

#[derive(Clone)]
pub(crate) struct Inner {
    pub(crate) host: RegistryHost,
    pub(crate) tags_page_size: usize,
    pub(crate) credentials: Option<RegistryCredentials>,
    pub(crate) plain_http: bool,
    pub(crate) connect_timeout: Duration,
    pub(crate) request_timeout: Duration,
    /// `Err` holds why the client could not be built (TLS setup); every call reports it.
    pub(crate) oci: Result<oci_client::Client, String>,
    pub(crate) http: Result<reqwest::Client, String>,
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
    pub(crate) fn api_host(&self) -> &str {
        if self.inner.host.is_docker_hub() {
            "registry-1.docker.io"
        } else {
            self.inner.host.as_str()
        }
    }

    pub(crate) fn base_url(&self) -> String {
        let scheme = if self.inner.plain_http {
            "http"
        } else {
            "https"
        };
        format!("{scheme}://{}", self.api_host())
    }

    pub(crate) fn username(&self) -> Option<String> {
        self.inner.credentials.as_ref().map(|c| c.username.clone())
    }

    pub(crate) fn oci_auth(&self) -> RegistryAuth {
        match &self.inner.credentials {
            Some(c) => {
                RegistryAuth::Basic(c.username.clone(), c.password.expose_secret().to_owned())
            }
            None => RegistryAuth::Anonymous,
        }
    }

    pub(crate) fn oci_ref(&self, repository: &RepositoryName, tag: &Tag) -> Reference {
        // oci-client maps `docker.io` to `index.docker.io` itself (`resolve_registry`).
        Reference::with_tag(
            self.inner.host.to_string(),
            repository.to_string(),
            tag.to_string(),
        )
    }

    pub(crate) fn oci(&self) -> Result<&oci_client::Client, RegistryApiError> {
        self.inner
            .oci
            .as_ref()
            .map_err(|e| self.protocol(format!("cannot build the HTTP client: {e}")))
    }

    pub(crate) fn http(&self) -> Result<&reqwest::Client, RegistryApiError> {
        self.inner
            .http
            .as_ref()
            .map_err(|e| self.protocol(format!("cannot build the HTTP client: {e}")))
    }

    pub(crate) fn protocol(&self, detail: String) -> RegistryApiError {
        RegistryApiError::Protocol {
            host: self.inner.host.to_string(),
            detail,
        }
    }

    /// Runs one call under the request bound.
    pub(crate) async fn bounded<T>(
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
}
