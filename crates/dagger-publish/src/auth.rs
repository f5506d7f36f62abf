//! The `with_registry_auth` builder: registry credentials from an optional Dagger secret.

use std::fmt;

use dagger_sdk::{Container, Id};

use dagger_engine::registry::{AddressError, RegistryHost};

/// Where a registry password comes from: always a Dagger secret, never a plain string.
///
/// A module receives secrets as IDs ([`PasswordSecret::Id`]); a pipeline may hold a
/// `dagger_sdk::Secret` ([`PasswordSecret::Secret`]), whose ID the engine gives on demand.
/// `Debug` shows neither: only which kind it is.
#[derive(Clone)]
pub enum PasswordSecret {
    /// A secret known by its ID (passed on as is; no engine round trip).
    Id(Id),
    /// A secret object built with `dagger-sdk` (its ID costs one engine round trip).
    Secret(dagger_sdk::Secret),
}

impl fmt::Debug for PasswordSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PasswordSecret::Id(_) => f.write_str("PasswordSecret::Id([REDACTED])"),
            PasswordSecret::Secret(_) => f.write_str("PasswordSecret::Secret([REDACTED])"),
        }
    }
}

impl From<Id> for PasswordSecret {
    fn from(id: Id) -> Self {
        PasswordSecret::Id(id)
    }
}

impl From<dagger_sdk::Secret> for PasswordSecret {
    fn from(secret: dagger_sdk::Secret) -> Self {
        PasswordSecret::Secret(secret)
    }
}

/// Registry credentials for one registry, built before anything is pushed.
///
/// The address is normalised with the engine's own rules ([`RegistryHost::parse`]), so
/// [`RegistryAuth::host`] is exactly the host the engine keys the credential by. With no
/// password the push is anonymous and nothing auth-related is sent to the engine.
///
/// ```
/// use dagger_publish::RegistryAuth;
///
/// let auth = RegistryAuth::new("https://registry.example.org/team/app:v1", "ci-bot").unwrap();
/// assert_eq!(auth.host().as_str(), "registry.example.org");
/// assert_eq!(auth.username(), "ci-bot");
/// assert!(!auth.has_password());
///
/// // A password that may be absent (an optional module argument): `None` means anonymous.
/// let maybe = RegistryAuth::new("ghcr.io", "me").unwrap().with_optional_password(None);
/// assert!(!maybe.has_password());
///
/// let hub = RegistryAuth::anonymous("library/alpine").unwrap();
/// assert_eq!(hub.host().as_str(), "docker.io");
///
/// assert!(RegistryAuth::new("", "me").is_err());
/// ```
#[derive(Clone)]
pub struct RegistryAuth {
    host: RegistryHost,
    username: String,
    password: Option<PasswordSecret>,
}

impl fmt::Debug for RegistryAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegistryAuth")
            .field("host", &self.host.as_str())
            .field("username", &self.username)
            .field(
                "password",
                &if self.password.is_some() {
                    "[REDACTED]"
                } else {
                    "none"
                },
            )
            .finish()
    }
}

impl RegistryAuth {
    /// Credentials of `username` for the registry named by `address` (a host, or any image
    /// address on it), with no password yet: until one is given the push is anonymous.
    pub fn new(address: &str, username: impl Into<String>) -> Result<Self, AddressError> {
        Ok(Self {
            host: RegistryHost::parse(address)?,
            username: username.into(),
            password: None,
        })
    }

    /// No credentials for the registry named by `address`: pushes are anonymous and nothing
    /// auth-related reaches the engine.
    pub fn anonymous(address: &str) -> Result<Self, AddressError> {
        Self::new(address, "")
    }

    /// Sets the user name.
    pub fn with_username(mut self, username: impl Into<String>) -> Self {
        self.username = username.into();
        self
    }

    /// Sets the password: a Dagger secret (object or ID), never a plain string.
    pub fn with_password(mut self, password: impl Into<PasswordSecret>) -> Self {
        self.password = Some(password.into());
        self
    }

    /// Sets the password when one is given, clears it with `None` (an anonymous push): the
    /// shape of an optional `Secret` argument of a module function.
    pub fn with_optional_password(mut self, password: Option<PasswordSecret>) -> Self {
        self.password = password;
        self
    }

    /// The normalised registry host the credential applies to.
    pub fn host(&self) -> &RegistryHost {
        &self.host
    }

    /// The user name.
    pub fn username(&self) -> &str {
        &self.username
    }

    /// Whether a password was given (when not, the push is anonymous).
    pub fn has_password(&self) -> bool {
        self.password.is_some()
    }

    /// The password secret, when one was given.
    pub fn password(&self) -> Option<&PasswordSecret> {
        self.password.as_ref()
    }

    /// Applies the credential to `container` with the engine's `withRegistryAuth`, or returns
    /// the container unchanged when there is no password.
    ///
    /// The secret goes to the engine by ID; its plaintext is never read.
    pub fn apply(&self, container: &Container) -> Container {
        match &self.password {
            None => container.clone(),
            Some(PasswordSecret::Id(id)) => {
                container.with_registry_auth(self.host.as_str(), &self.username, id.clone())
            }
            Some(PasswordSecret::Secret(secret)) => {
                container.with_registry_auth(self.host.as_str(), &self.username, secret.clone())
            }
        }
    }
}

/// Applies `auth` to `container`: the free-function form of [`RegistryAuth::apply`].
pub fn with_registry_auth(container: &Container, auth: &RegistryAuth) -> Container {
    auth.apply(container)
}
