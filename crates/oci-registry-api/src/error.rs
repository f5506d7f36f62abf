//! What a registry call can fail with.

use std::time::Duration;

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

pub(crate) fn codes_suffix(codes: &[String]) -> String {
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
