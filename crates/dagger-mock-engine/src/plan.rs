//! What the recording engine would have done, for a person to read before a real push.

use std::collections::BTreeSet;
use std::fmt;

use super::describe::{BuildStep, ContainerDescription};
use super::schema::query::DEFAULT_PLATFORM;
use super::{CommandOutputRead, MockEngine, PublishRecord};

/// The plan of a run on the recording engine: every image it would push, with its build steps
/// (one build per platform of a multi-platform image), cache volumes, the commands whose output
/// was read before (checks), and the registry credentials that apply (host and user; the
/// password only as `[REDACTED]` with the secret's name).
#[derive(Debug, Clone)]
pub struct Plan {
    /// The pushes, in order.
    pub pushes: Vec<PublishRecord>,
    /// The command outputs read (checks such as a smoke check), in order.
    pub checks: Vec<CommandOutputRead>,
}

impl MockEngine {
    /// The plan of everything published and checked so far.
    pub fn plan(&self) -> Plan {
        Plan {
            pushes: self.published(),
            checks: self.output_reads(),
        }
    }
}

/// `platform <p>`, saying when its commands would run under the engine's emulation.
fn platform_line(platform: &str, runs_commands: bool) -> String {
    if platform == DEFAULT_PLATFORM || !runs_commands {
        format!("platform {platform}")
    } else {
        format!(
            "platform {platform} (not the engine's {DEFAULT_PLATFORM}: its commands run under the \
             engine's emulation)"
        )
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
        let runs = build
            .steps
            .iter()
            .any(|s| matches!(s, BuildStep::Exec { .. }));
        writeln!(f, "{indent}{}", platform_line(platform, runs))?;
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

impl Plan {
    fn write_checks(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.checks.is_empty() {
            return Ok(());
        }
        writeln!(f, "\nChecks (commands run and read before any push):")?;
        for check in &self.checks {
            let platform = check.platform.as_deref().unwrap_or(DEFAULT_PLATFORM);
            writeln!(
                f,
                "  RUN {} on {}, {}: {}",
                check.command.join(" "),
                platform_line(platform, true),
                check.field,
                check.value.trim_end()
            )?;
        }
        Ok(())
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.pushes.is_empty() {
            writeln!(f, "Nothing would be pushed.")?;
            return self.write_checks(f);
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
            for (i, variant) in build.variants.iter().enumerate() {
                writeln!(
                    f,
                    "  platform variant {} of {} (published with it as one multi-platform image):",
                    i + 2,
                    build.variants.len() + 1
                )?;
                write_build(f, variant, "    ")?;
            }
        }
        self.write_checks(f)?;
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
