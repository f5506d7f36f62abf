//! A real OCI registry on loopback for tests: Debian's `docker-registry` package (the CNCF
//! distribution registry 2.8, `/usr/bin/docker-registry serve <config.yml>`), with its storage in
//! a temporary directory and, when users are given, htpasswd (bcrypt) basic auth.
//!
//! The configuration keys follow distribution's `docs/configuration.md` (`storage.filesystem`,
//! `http.addr`, `auth.htpasswd`). The process is killed and its directory removed on drop.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use dagger_engine::registry::RegistryHost;
use oci_registry_api::{RegistryApi, RegistryCredentials};

use crate::oci_backend::OciBackend;

/// The Debian package that provides the registry binary.
pub const REGISTRY_APT_PACKAGE: &str = "docker-registry";
/// The binary name looked up on `PATH` (then in `/usr/bin`).
pub const REGISTRY_BINARY: &str = "docker-registry";

/// How long [`LocalRegistry::start`] waits for `/v2/` to answer.
const READY_TIMEOUT: Duration = Duration::from_secs(20);
/// Attempts with a fresh port, in case another process takes the chosen port first.
const START_ATTEMPTS: usize = 3;
/// bcrypt cost of the htpasswd entries: the minimum, tests need speed, not strength.
const BCRYPT_COST: u32 = 4;

/// A running `docker-registry` on `127.0.0.1:<port>`.
pub struct LocalRegistry {
    child: Child,
    host: RegistryHost,
    port: u16,
    auth: bool,
    // Removed on drop, after the process is gone.
    dir: tempfile::TempDir,
}

impl std::fmt::Debug for LocalRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalRegistry")
            .field("port", &self.port)
            .field("auth", &self.auth)
            .field("dir", &self.dir.path())
            .finish()
    }
}

impl LocalRegistry {
    /// Starts a registry. With `users`, every request needs basic auth as one of them (each
    /// may push and pull anything: distribution has no per-repository rights); without, it is
    /// open. Waits until `GET /v2/` answers.
    ///
    /// Fails with a message naming the binary and the apt package when `docker-registry` is
    /// not installed.
    pub async fn start(users: &[(&str, &str)]) -> Result<LocalRegistry, String> {
        let binary = find_binary().ok_or_else(|| {
            format!(
                "the `{REGISTRY_BINARY}` binary is not installed (not on PATH nor in /usr/bin); \
                 install Debian's `{REGISTRY_APT_PACKAGE}` package: apt-get install -y {REGISTRY_APT_PACKAGE}"
            )
        })?;
        let htpasswd = htpasswd_file(users)?;
        let mut last_error = String::new();
        for _ in 0..START_ATTEMPTS {
            match Self::start_once(&binary, htpasswd.as_deref()).await {
                Ok(registry) => return Ok(registry),
                Err(e) => last_error = e,
            }
        }
        Err(last_error)
    }

    async fn start_once(binary: &Path, htpasswd: Option<&str>) -> Result<LocalRegistry, String> {
        let dir = tempfile::Builder::new()
            .prefix("blumeops-registry-")
            .tempdir()
            .map_err(|e| format!("cannot create a temporary directory for the registry: {e}"))?;
        let port = free_port()?;
        let host = RegistryHost::from_domain(&format!("127.0.0.1:{port}"))
            .map_err(|e| format!("cannot name the registry host: {e}"))?;
        let storage = dir.path().join("storage");
        std::fs::create_dir(&storage)
            .map_err(|e| format!("cannot create {}: {e}", storage.display()))?;

        let mut config = String::new();
        let _ = write!(
            config,
            "version: 0.1\n\
             log:\n  level: warn\n  accesslog:\n    disabled: true\n\
             storage:\n  filesystem:\n    rootdirectory: {storage}\n  delete:\n    enabled: true\n\
             http:\n  addr: 127.0.0.1:{port}\n  secret: {secret}\n",
            storage = yaml_quote(&storage.to_string_lossy()),
            secret = random_hex(16),
        );
        if let Some(entries) = htpasswd {
            let path = dir.path().join("htpasswd");
            std::fs::write(&path, entries)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            let _ = write!(
                config,
                "auth:\n  htpasswd:\n    realm: blumeops-test\n    path: {}\n",
                yaml_quote(&path.to_string_lossy())
            );
        }
        let config_path = dir.path().join("config.yml");
        std::fs::write(&config_path, config)
            .map_err(|e| format!("cannot write {}: {e}", config_path.display()))?;
        let log_path = dir.path().join("registry.log");
        let log = std::fs::File::create(&log_path)
            .map_err(|e| format!("cannot create {}: {e}", log_path.display()))?;
        let log_err = log
            .try_clone()
            .map_err(|e| format!("cannot open {}: {e}", log_path.display()))?;

        let child = Command::new(binary)
            .arg("serve")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .map_err(|e| {
                format!(
                    "cannot run {} (from Debian's `{REGISTRY_APT_PACKAGE}` package): {e}",
                    binary.display()
                )
            })?;
        let mut registry = LocalRegistry {
            child,
            host,
            port,
            auth: htpasswd.is_some(),
            dir,
        };
        registry.wait_ready(&log_path).await?;
        Ok(registry)
    }

    /// Polls `GET /v2/` until it answers 200 (open) or 401 (auth on), the process exits, or
    /// [`READY_TIMEOUT`] passes.
    async fn wait_ready(&mut self, log_path: &Path) -> Result<(), String> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .map_err(|e| format!("cannot build an HTTP client: {e}"))?;
        let url = format!("http://127.0.0.1:{}/v2/", self.port);
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "docker-registry exited ({status}) before answering on port {}: {}",
                    self.port,
                    log_tail(log_path)
                ));
            }
            if let Ok(res) = client.get(&url).send().await {
                let code = res.status().as_u16();
                if code == 200 || code == 401 {
                    return Ok(());
                }
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "docker-registry did not answer {url} within {}s: {}",
                    READY_TIMEOUT.as_secs(),
                    log_tail(log_path)
                ));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The registry's host, `127.0.0.1:<port>`.
    pub fn host(&self) -> RegistryHost {
        self.host.clone()
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Whether basic auth is on.
    pub fn auth_enabled(&self) -> bool {
        self.auth
    }

    /// A [`RegistryApi`] for this registry (plain HTTP, it is loopback), as `(user, password)`
    /// or anonymous.
    pub fn api(&self, credentials: Option<(&str, &str)>) -> RegistryApi {
        RegistryApi::new(
            self.host(),
            credentials.map(|(u, p)| RegistryCredentials::new(u, p)),
        )
    }

    /// A backend for a simulated registry ([`dagger_engine_sim::RegistryModel::backed_by`]):
    /// the pushes and tag resolutions of the simulated host go to this registry.
    pub fn backend(&self) -> OciBackend {
        OciBackend::new(self.host(), true)
    }

    /// The registry's data directory (blobs and manifests).
    pub fn storage_dir(&self) -> PathBuf {
        self.dir.path().join("storage")
    }
}

impl Drop for LocalRegistry {
    fn drop(&mut self) {
        // Kill errors mean it already exited; wait reaps it either way. The TempDir field is
        // dropped (and removed) after this.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn find_binary() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(REGISTRY_BINARY))
            .find(|p| p.is_file())
    });
    on_path.or_else(|| {
        let p = Path::new("/usr/bin").join(REGISTRY_BINARY);
        p.is_file().then_some(p)
    })
}

/// htpasswd lines (`user:<bcrypt $2y$>`), or `None` when there are no users.
fn htpasswd_file(users: &[(&str, &str)]) -> Result<Option<String>, String> {
    if users.is_empty() {
        return Ok(None);
    }
    let mut out = String::new();
    for (user, password) in users {
        if user.is_empty()
            || user.contains([':', '\n', '\r'])
            || user.chars().any(char::is_whitespace)
        {
            return Err(format!(
                "htpasswd user name {user:?} must be non-empty, without ':' or whitespace"
            ));
        }
        let hash = bcrypt::hash_with_result(password, BCRYPT_COST)
            .map_err(|e| format!("cannot bcrypt the password of user {user:?}: {e}"))?
            .format_for_version(bcrypt::Version::TwoY);
        let _ = writeln!(out, "{user}:{hash}");
    }
    Ok(Some(out))
}

fn free_port() -> Result<u16, String> {
    // The port is free when the listener is dropped; another process could take it before the
    // registry binds it, which `start` covers by trying again.
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|e| format!("cannot find a free loopback port: {e}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("cannot find a free loopback port: {e}"))
}

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::fill(&mut buf[..]);
    hex::encode(buf)
}

/// A YAML double-quoted scalar.
fn yaml_quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

fn log_tail(path: &Path) -> String {
    match std::fs::read_to_string(path) {
        Ok(text) if !text.trim().is_empty() => {
            let lines: Vec<&str> = text.lines().collect();
            let start = lines.len().saturating_sub(10);
            format!("registry log: {}", lines[start..].join(" | "))
        }
        _ => "the registry log is empty".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn htpasswd_entries_are_bcrypt_2y() {
        let file = htpasswd_file(&[("ci", "pw")]).unwrap().unwrap();
        let (user, hash) = file.trim().split_once(':').unwrap();
        assert_eq!(user, "ci");
        assert!(hash.starts_with("$2y$04$"), "{hash}");
        assert!(bcrypt::verify("pw", hash).unwrap());
        assert!(htpasswd_file(&[]).unwrap().is_none());
        assert!(htpasswd_file(&[("a:b", "pw")]).is_err());
        assert!(htpasswd_file(&[("", "pw")]).is_err());
    }

    #[test]
    fn yaml_quoting() {
        assert_eq!(yaml_quote(r#"/tmp/a "b"\c"#), r#""/tmp/a \"b\"\\c""#);
    }
}
