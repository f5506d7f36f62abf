//! Registry answers to [`RegistryApiError`]s: HTTP statuses with their headers and error
//! envelopes, and `oci-client`'s errors.

use std::time::Duration;

use oci_client::errors::{OciDistributionError, OciEnvelope};
use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::StatusCode;

use crate::error::codes_suffix;
use crate::{RegistryApi, RegistryApiError};

impl RegistryApi {
    /// Maps an HTTP status (with its headers and body) to an error.
    pub(crate) fn error_for_status(
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
    pub(crate) fn error_from_oci(
        &self,
        err: OciDistributionError,
        repository: &str,
    ) -> RegistryApiError {
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

    pub(crate) fn error_from_reqwest(&self, e: &reqwest::Error) -> RegistryApiError {
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

pub(crate) fn is_name_unknown(e: &OciDistributionError) -> bool {
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

#[cfg(test)]
mod tests {
    use dagger_engine::registry::RegistryHost;

    use super::*;
    use crate::RegistryCredentials;

    fn api(creds: Option<RegistryCredentials>) -> RegistryApi {
        RegistryApi::new(RegistryHost::parse("registry.example.com").unwrap(), creds)
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
}
