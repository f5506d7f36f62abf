//! What the recording engine would have done, for a person to read before a real push.

use std::collections::BTreeSet;
use std::fmt;

use super::describe::{BuildStep, ContainerDescription};
use super::{MockEngine, PublishRecord};

/// The plan of a run on the recording engine: every image it would push, with its build steps,
/// cache volumes, and the registry credentials that apply (host and user; the password only as
/// `[REDACTED]` with the secret's name).
#[derive(Debug, Clone)]
pub struct Plan {
    /// The pushes, in order.
    pub pushes: Vec<PublishRecord>,
}

impl MockEngine {
    /// The plan of everything published so far.
    pub fn plan(&self) -> Plan {
        Plan {
            pushes: self.published(),
        }
    }
}

impl Plan {
    /// The cache volumes the builds (and their stages) mount: (volume, path).
    pub fn cache_volumes(&self) -> BTreeSet<(String, String)> {
        self.pushes
            .iter()
            .flat_map(|p| p.container.cache_volumes())
            .collect()
    }
}

fn write_build(
    f: &mut fmt::Formatter<'_>,
    build: &ContainerDescription,
    indent: &str,
) -> fmt::Result {
    for stage in &build.stages {
        writeln!(
            f,
            "{indent}stage (its {} is copied to {}):",
            stage.output, stage.used_at
        )?;
        write_build(f, &stage.container, &format!("{indent}    "))?;
    }
    if let Some(platform) = &build.platform {
        writeln!(f, "{indent}platform {platform}")?;
    }
    let steps = build
        .steps
        .iter()
        .filter(|s| !matches!(s, BuildStep::RegistryAuth { .. }));
    for (i, step) in steps.enumerate() {
        writeln!(f, "{indent}{:>3}. {step}", i + 1)?;
    }
    Ok(())
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.pushes.is_empty() {
            return writeln!(f, "Nothing would be pushed.");
        }
        // All tags of one container share one build: show each distinct build once.
        let mut shown: Vec<&PublishRecord> = Vec::new();
        for push in &self.pushes {
            if !shown.iter().any(|s| s.container == push.container) {
                shown.push(push);
            }
        }
        for (n, build) in shown.iter().enumerate() {
            writeln!(
                f,
                "Build {} (built once, pushed as every target below):",
                n + 1
            )?;
            write_build(f, &build.container, "  ")?;
            if build.platform_variants > 0 {
                writeln!(
                    f,
                    "  + {} more platform variant(s)",
                    build.platform_variants
                )?;
            }
        }
        let caches = self.cache_volumes();
        writeln!(f, "\nCache volumes:")?;
        if caches.is_empty() {
            writeln!(f, "  (none)")?;
        }
        for (volume, path) in caches {
            writeln!(f, "  {volume} at {path}")?;
        }
        writeln!(f, "\nTargets:")?;
        for push in &self.pushes {
            writeln!(f, "  {}", push.address)?;
        }
        writeln!(f, "\nRegistry auth:")?;
        let mut hosts: Vec<&PublishRecord> = Vec::new();
        for push in &self.pushes {
            if !hosts.iter().any(|h| h.host == push.host) {
                hosts.push(push);
            }
        }
        for push in hosts {
            match &push.auth {
                Some(auth) => writeln!(
                    f,
                    "  {}: user {}, password [REDACTED] (secret {})",
                    auth.host, auth.username, auth.secret_name
                )?,
                None => writeln!(f, "  {}: anonymous (no password given)", push.host)?,
            }
        }
        Ok(())
    }
}

/// One line a person can read: `published <ref>, with credentials for host <h> and user <u>
/// from secret <s>` (or `anonymously`).
impl fmt::Display for PublishRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "published {}", self.reference)?;
        match &self.auth {
            Some(a) => write!(
                f,
                ", with credentials for host {} and user {} from secret {}",
                a.host, a.username, a.secret_name
            ),
            None => write!(f, ", anonymously"),
        }
    }
}
