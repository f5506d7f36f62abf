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

impl PasswordSecret {
    /// The secret's ID, when it is known without asking the engine.
    pub fn id(&self) -> Option<&Id> {
        match self {
            PasswordSecret::Id(id) => Some(id),
            PasswordSecret::Secret(_) => None,
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

/// A registry user name, as HTTP basic auth carries it beside the password.
///
/// Not empty, no `:` (basic auth splits `user:password` at the first `:`, so the registry
/// would read the rest as part of the password and answer 401 blaming the key), no control
/// character (a newline would forge a line in a plan or a log), no leading or trailing
/// whitespace (a copy-paste slip the registry would reject as an unknown user).
///
/// ```
/// use dagger_publish::Username;
/// assert_eq!(Username::parse("zot-ci").unwrap().as_str(), "zot-ci");
/// assert!(Username::parse("zot:ci").unwrap_err().to_string().contains("':'"));
/// assert!(Username::parse("root\nregistry.evil.example: user root").is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Username(String);

impl Username {
    /// Checks `name` against the rules above.
    pub fn parse(name: &str) -> Result<Self, AuthError> {
        let broken = |rule: &'static str| AuthError::Username { rule };
        if name.is_empty() {
            return Err(broken("it must not be empty"));
        }
        if name.contains(':') {
            return Err(broken(
                "it must not contain ':' (basic auth ends the user name at the first ':')",
            ));
        }
        if name.chars().any(char::is_control) {
            return Err(broken(
                "it must not contain a control character such as a newline",
            ));
        }
        if name.trim() != name {
            return Err(broken("it must not start or end with whitespace"));
        }
        Ok(Self(name.to_owned()))
    }

    /// The user name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Registry credentials that cannot be built: the address or the user name breaks its rule.
/// Converts into [`crate::PublishError`], so `?` works in a publish path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// The registry address is one the engine would refuse.
    #[error(transparent)]
    Address(#[from] AddressError),
    /// The user name breaks a rule (the name is not repeated: it may be a mistyped secret).
    #[error("registry user name is not valid: {rule}")]
    Username {
        /// The rule it broke.
        rule: &'static str,
    },
}

/// How a [`RegistryAuth`] authenticates: the one place publish, the existing-tag check and
/// `with_registry_auth` read it from.
#[derive(Debug, Clone, Copy)]
pub enum Credential<'a> {
    /// No credentials: nothing auth-related reaches the engine.
    Anonymous,
    /// A user name and a password secret, stored in the engine's session with
    /// `withRegistryAuth`.
    Password {
        /// The user name.
        username: &'a Username,
        /// The password secret (never its plaintext).
        password: &'a PasswordSecret,
    },
}

/// Registry credentials for one registry, built before anything is pushed.
///
/// The address is normalised with the engine's own rules ([`RegistryHost::parse`]), so
/// [`RegistryAuth::host`] is exactly the host the engine keys the credential by. With no
/// password the push is anonymous ([`Credential::Anonymous`]) and nothing auth-related is sent
/// to the engine.
///
/// ```
/// use dagger_publish::{Credential, RegistryAuth};
///
/// let auth = RegistryAuth::new("https://registry.example.org/team/app:v1", "ci-bot").unwrap();
/// assert_eq!(auth.host().as_str(), "registry.example.org");
/// assert_eq!(auth.username(), Some("ci-bot"));
/// assert!(matches!(auth.credential(), Credential::Anonymous));
///
/// // A password that may be absent (an optional `Secret` argument of a module function, as
/// // it arrives): `None` means anonymous.
/// let password: Option<dagger_sdk::Secret> = None;
/// let maybe = RegistryAuth::new("ghcr.io", "me").unwrap().with_optional_password(password);
/// assert!(!maybe.has_password());
///
/// let hub = RegistryAuth::anonymous("library/alpine").unwrap();
/// assert_eq!(hub.host().as_str(), "docker.io");
///
/// assert!(RegistryAuth::new("", "me").is_err());
/// assert!(RegistryAuth::new("ghcr.io", "me:you").is_err());
/// ```
#[derive(Clone)]
pub struct RegistryAuth {
    host: RegistryHost,
    username: Option<Username>,
    password: Option<PasswordSecret>,
}

impl fmt::Debug for RegistryAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegistryAuth")
            .field("host", &self.host.as_str())
            .field("username", &self.username.as_ref().map(Username::as_str))
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
    pub fn new(address: &str, username: &str) -> Result<Self, AuthError> {
        Ok(Self {
            host: RegistryHost::parse(address)?,
            username: Some(Username::parse(username)?),
            password: None,
        })
    }

    /// No credentials for the registry named by `address`: pushes are anonymous and nothing
    /// auth-related reaches the engine. A password given later needs a user name
    /// ([`RegistryAuth::with_username`]).
    pub fn anonymous(address: &str) -> Result<Self, AuthError> {
        Ok(Self {
            host: RegistryHost::parse(address)?,
            username: None,
            password: None,
        })
    }

    /// Sets the user name (checked: [`Username::parse`]).
    pub fn with_username(mut self, username: &str) -> Result<Self, AuthError> {
        self.username = Some(Username::parse(username)?);
        Ok(self)
    }

    /// Sets the password: a Dagger secret (object or ID), never a plain string.
    pub fn with_password(mut self, password: impl Into<PasswordSecret>) -> Self {
        self.password = Some(password.into());
        self
    }

    /// Sets the password when one is given, clears it with `None` (an anonymous push): takes
    /// an optional `Secret` argument of a module function as it arrives
    /// (`Option<dagger_sdk::Secret>`, `Option<Id>` or `Option<PasswordSecret>`).
    pub fn with_optional_password<P: Into<PasswordSecret>>(mut self, password: Option<P>) -> Self {
        self.password = password.map(Into::into);
        self
    }

    /// The normalised registry host the credential applies to.
    pub fn host(&self) -> &RegistryHost {
        &self.host
    }

    /// The user name, when one was given.
    pub fn username(&self) -> Option<&str> {
        self.username.as_ref().map(Username::as_str)
    }

    /// How this authenticates: [`Credential::Password`] with a user name and a password,
    /// otherwise [`Credential::Anonymous`] (a user name without a password sends nothing).
    pub fn credential(&self) -> Credential<'_> {
        match (&self.username, &self.password) {
            (Some(username), Some(password)) => Credential::Password { username, password },
            _ => Credential::Anonymous,
        }
    }

    /// Whether the push sends credentials ([`Credential::Password`]).
    pub fn has_password(&self) -> bool {
        matches!(self.credential(), Credential::Password { .. })
    }

    /// The password secret, when one was given.
    pub fn password(&self) -> Option<&PasswordSecret> {
        self.password.as_ref()
    }

    /// The same credential with its password known by `id` (the ID the engine gave for a
    /// `dagger_sdk::Secret`), so that queries can name it without another round trip.
    pub fn with_password_id(&self, id: Id) -> Self {
        Self {
            password: Some(PasswordSecret::Id(id)),
            ..self.clone()
        }
    }

    /// Applies the credential to `container` with the engine's `withRegistryAuth`, or returns
    /// the container unchanged when it is anonymous.
    ///
    /// The secret goes to the engine by ID; its plaintext is never read.
    pub fn apply(&self, container: &Container) -> Container {
        match self.credential() {
            Credential::Anonymous => container.clone(),
            Credential::Password {
                username,
                password: PasswordSecret::Id(id),
            } => container.with_registry_auth(self.host.as_str(), username.as_str(), id.clone()),
            Credential::Password {
                username,
                password: PasswordSecret::Secret(secret),
            } => {
                container.with_registry_auth(self.host.as_str(), username.as_str(), secret.clone())
            }
        }
    }
}

/// Applies `auth` to `container`: the free-function form of [`RegistryAuth::apply`].
pub fn with_registry_auth(container: &Container, auth: &RegistryAuth) -> Container {
    auth.apply(container)
}
