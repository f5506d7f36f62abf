//! What the recording engine would have done, for a person to read before a real push.

use std::collections::BTreeSet;
use std::fmt;

use super::describe::{BuildStep, ContainerDescription};
use super::schema::query::DEFAULT_PLATFORM;
use super::{CommandOutputRead, MockEngine, PublishRecord};

/// The plan of a run on the recording engine: every image it would push, with its build steps
/// (one build per platform of a multi-platform image), cache volumes, the commands whose output
/// was read before any push (checks), and the registry credentials that apply (host and user;
/// the password only as `[REDACTED]` with the secret's name).
///
/// `Display` reads top-down: each image first (its base image and steps), then the stages it
/// copies from, each with a header naming what it builds, where that goes and its base image;
/// then the cache volumes, the targets and the registry auth. Commands are quoted as step errors
/// quote them; content the recording engine cannot know (what a command would write, a git tree
/// it does not fetch) is shown with a stand-in digest of its own and marked `(stand-in: ...)`.
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

    /// Each distinct build once, in the order first pushed (all tags of one container share
    /// one build).
    pub fn builds(&self) -> Vec<&PublishRecord> {
        let mut shown: Vec<&PublishRecord> = Vec::new();
        for push in &self.pushes {
            if !shown.iter().any(|s| s.container == push.container) {
                shown.push(push);
            }
        }
        shown
    }
}

/// One container of a build, flattened: the image (`None`) or a numbered stage.
struct Part<'a> {
    number: Option<usize>,
    container: &'a ContainerDescription,
    /// For a stage: what it builds, where it is copied to, and into which part.
    output: Option<(&'a str, &'a str, Option<usize>)>,
}

fn part_name(number: Option<usize>) -> String {
    match number {
        Some(n) => format!("stage {n}"),
        None => "the image".into(),
    }
}

/// The image and its stages, top-down: the image first, then each stage before the stages it
/// copies from (breadth first), numbered in that order.
fn flatten(image: &ContainerDescription) -> Vec<Part<'_>> {
    let mut parts = vec![Part {
        number: None,
        container: image,
        output: None,
    }];
    let mut next = 0;
    while next < parts.len() {
        let (container, number) = (parts[next].container, parts[next].number);
        for stage in &container.stages {
            let n = parts.len();
            parts.push(Part {
                number: Some(n),
                container: &stage.container,
                output: Some((&stage.output, &stage.used_at, number)),
            });
        }
        next += 1;
    }
    parts
}

fn write_part(f: &mut fmt::Formatter<'_>, parts: &[Part<'_>], index: usize) -> fmt::Result {
    let part = &parts[index];
    let base = part
        .container
        .base()
        .unwrap_or_else(|| "from scratch".into());
    match part.output {
        None => writeln!(
            f,
            "  The image ({base}), built once and pushed as every target below:"
        )?,
        Some((output, used_at, into)) => writeln!(
            f,
            "  {} ({base}) builds {output}, copied to {used_at} in {}:",
            capitalised(&part_name(part.number)),
            part_name(into)
        )?,
    }
    if let Some(platform) = &part.container.platform {
        let runs = part
            .container
            .steps
            .iter()
            .any(|s| matches!(s, BuildStep::Exec { .. }));
        writeln!(f, "      {}", platform_line(platform, runs))?;
    }
    // The stages this part copies from, by the path they land at.
    let from_stage = |path: &str| {
        parts
            .iter()
            .find(|p| matches!(p.output, Some((_, used_at, into)) if used_at == path && into == part.number))
            .map(|p| (p.number, p.output.map_or("", |o| o.0)))
    };
    let steps = part
        .container
        .steps
        .iter()
        .filter(|s| !matches!(s, BuildStep::RegistryAuth { .. }));
    for (i, step) in steps.enumerate() {
        let copied = match step {
            BuildStep::Directory { path, source } | BuildStep::File { path, source } => {
                from_stage(path).map(|(n, output)| (n, output, path, source))
            }
            _ => None,
        };
        match copied {
            Some((Some(n), output, path, source)) => writeln!(
                f,
                "      {:>3}. COPY to {path}: {output} of stage {n}, {source}",
                i + 1
            )?,
            _ => writeln!(f, "      {:>3}. {step}", i + 1)?,
        }
    }
    Ok(())
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
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

/// Writes `image` and its stages, top-down.
fn write_image(f: &mut fmt::Formatter<'_>, image: &ContainerDescription) -> fmt::Result {
    let parts = flatten(image);
    for index in 0..parts.len() {
        write_part(f, &parts, index)?;
    }
    Ok(())
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.pushes.is_empty() {
            writeln!(f, "Nothing would be pushed.")?;
            return self.write_checks(f);
        }
        let builds = self.builds();
        for (n, build) in builds.iter().enumerate() {
            if builds.len() > 1 {
                writeln!(f, "Build {} of {}:", n + 1, builds.len())?;
            }
            write_image(f, &build.container)?;
            for (i, variant) in build.variants.iter().enumerate() {
                writeln!(
                    f,
                    "\n  Platform variant {} of {} (published with the image above as one \
                     multi-platform image):",
                    i + 2,
                    build.variants.len() + 1
                )?;
                write_image(f, variant)?;
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
