//! A container's image config and manifest annotations, as the engine keeps them (upstream
//! `core/container.go`: `Container.Config` is a `dockerspec.DockerOCIImageConfig`, and
//! `Container.ImageAnnotations`; `core/schema/container.go` edits them with `UpdateImageConfig`).
//!
//! One rule computes it: [`ImageConfig::of`] starts from the config of the image the container
//! started from (a pushed image read back with `from`, or an imported archive's labels) and
//! folds the chain's steps over it. The readers (`entrypoint`, `user`, `labels`, ...) and the
//! registry model (what a push keeps) both read it from there.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::super::describe::BuildStep;
use super::container::ContainerState;

/// One exposed port (upstream `core.Port`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ExposedPort {
    pub port: i64,
    /// `TCP` or `UDP`.
    pub protocol: String,
    pub description: Option<String>,
    pub skip_healthcheck: bool,
}

/// A Docker healthcheck (upstream `core.HealthcheckConfig`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Healthcheck {
    pub args: Vec<String>,
    pub shell: bool,
    pub interval: Option<String>,
    pub timeout: Option<String>,
    pub start_period: Option<String>,
    pub start_interval: Option<String>,
    pub retries: Option<i64>,
}

/// The image config (and manifest annotations) of a container.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ImageConfig {
    pub entrypoint: Vec<String>,
    /// The default arguments (`Cmd`).
    pub cmd: Vec<String>,
    /// `""` when unset.
    pub user: String,
    /// `""` when unset.
    pub workdir: String,
    /// In order; a later variable of the same name replaces the earlier one in place.
    pub env: Vec<(String, String)>,
    /// In order; a later label of the same name replaces the earlier one and goes last.
    pub labels: Vec<(String, String)>,
    /// Manifest annotations (`withAnnotation`).
    pub annotations: Vec<(String, String)>,
    pub ports: Vec<ExposedPort>,
    pub healthcheck: Option<Healthcheck>,
    /// The platform the image was built for (`None`: the engine's default).
    pub platform: Option<String>,
}

/// Sets `name` in an ordered list of pairs; `last`: the pair moves to the end.
fn set(list: &mut Vec<(String, String)>, name: &str, value: &str, last: bool) {
    match list.iter().position(|(n, _)| n == name) {
        Some(i) if !last => list[i].1 = value.to_string(),
        Some(i) => {
            list.remove(i);
            list.push((name.to_string(), value.to_string()));
        }
        None => list.push((name.to_string(), value.to_string())),
    }
}

impl ImageConfig {
    /// The config of a container: its base image's config with the chain's steps on top.
    pub fn of(c: &ContainerState) -> ImageConfig {
        let mut cfg = c.base.clone();
        cfg.platform = c.platform.clone().or(cfg.platform);
        for (name, value) in &c.image_labels {
            set(&mut cfg.labels, name, value, true);
        }
        for step in &c.steps {
            cfg.apply(step);
        }
        for p in &mut cfg.ports {
            if let Some((description, skip)) = c.port_notes.get(&(p.port, p.protocol.clone())) {
                p.description = description.clone();
                p.skip_healthcheck = *skip;
            }
        }
        cfg
    }

    /// One step's change to the config (upstream `core/schema/container.go`, each field's
    /// `UpdateImageConfig`).
    fn apply(&mut self, step: &BuildStep) {
        match step {
            BuildStep::EnvVariable { name, value } => set(&mut self.env, name, value, false),
            BuildStep::Label { name, value } => set(&mut self.labels, name, value, true),
            BuildStep::Annotation { name, value } => set(&mut self.annotations, name, value, true),
            BuildStep::User { name } => self.user = name.clone(),
            BuildStep::Workdir { path } => self.workdir = path.clone(),
            BuildStep::DefaultArgs { args } => self.cmd = args.clone(),
            // upstream core/schema/container.go (withEntrypoint): the default args are cleared
            // unless keepDefaultArgs (then container_fields.rs records them again after it).
            BuildStep::Entrypoint { args } => {
                self.entrypoint = args.clone();
                self.cmd.clear();
            }
            BuildStep::ExposedPort { port, protocol } => {
                self.ports
                    .retain(|p| !(p.port == *port && &p.protocol == protocol));
                self.ports.push(ExposedPort {
                    port: *port,
                    protocol: protocol.clone(),
                    description: None,
                    skip_healthcheck: false,
                });
            }
            BuildStep::Healthcheck {
                args,
                shell,
                options,
            } => {
                let option = |name: &str| {
                    options
                        .iter()
                        .find(|(n, _)| n == name)
                        .map(|(_, v)| v.clone())
                };
                self.healthcheck = Some(Healthcheck {
                    args: args.clone(),
                    shell: *shell,
                    interval: option("interval"),
                    timeout: option("timeout"),
                    start_period: option("startPeriod"),
                    start_interval: option("startInterval"),
                    retries: option("retries").and_then(|r| r.parse().ok()),
                });
            }
            BuildStep::Unset { what } => self.unset(what),
            _ => {}
        }
    }

    /// The removal an [`BuildStep::Unset`] names.
    fn unset(&mut self, what: &str) {
        let (kind, name) = what.split_once(' ').unwrap_or((what, ""));
        match kind {
            "ENV" => self.env.retain(|(n, _)| n != name),
            "LABEL" => self.labels.retain(|(n, _)| n != name),
            "ANNOTATION" => self.annotations.retain(|(n, _)| n != name),
            "ENTRYPOINT" => self.entrypoint.clear(),
            "CMD" => self.cmd.clear(),
            "USER" => self.user.clear(),
            "WORKDIR" => self.workdir.clear(),
            "HEALTHCHECK" => self.healthcheck = None,
            "EXPOSE" => {
                let (port, protocol) = name.split_once('/').unwrap_or((name, "TCP"));
                self.ports
                    .retain(|p| !(p.port.to_string() == port && p.protocol == protocol));
            }
            _ => {}
        }
    }

    /// The value of environment variable `name`.
    pub fn env_value(&self, name: &str) -> Option<&str> {
        self.env
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The environment as a map (what a command sees, before volatile variables).
    pub fn env_map(&self) -> BTreeMap<String, String> {
        self.env.iter().cloned().collect()
    }
}
