//! What the mock engine knows of a container: its build steps, for assertions in tests.

use std::fmt;

use serde::Serialize;

use dagger_engine::command::display_command;

/// One word as a POSIX shell would need it: the quoting of step errors
/// ([`display_command`]), so a plan and an error show a command the same way.
fn quoted(word: &str) -> String {
    display_command(&[word.to_string()])
}

/// A container's platform and build steps, in order (see [`super::MockEngine::describe_container`]).
///
/// `Display` prints one step per line, Dockerfile-like (`FROM alpine`, `RUN echo hi`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContainerDescription {
    /// The platform asked with `container(platform:)`, if any.
    pub platform: Option<String>,
    /// The build steps, in the order they were chained.
    pub steps: Vec<BuildStep>,
    /// The containers whose outputs (a directory or a file) this one copies in: multi-stage
    /// builds, in the order they are used.
    pub stages: Vec<Stage>,
}

/// A container whose output another container copies in (a build stage).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stage {
    /// The path taken from the stage (`/src/build`, `/out/app`).
    pub output: String,
    /// Where the using container puts it.
    pub used_at: String,
    /// The stage's own build.
    pub container: ContainerDescription,
}

impl ContainerDescription {
    /// What the build starts from, for a plan's headers: the first `FROM` image, an imported
    /// archive or a Dockerfile build; `None` for a container built from scratch.
    pub fn base(&self) -> Option<String> {
        self.steps.iter().find_map(|s| match s {
            BuildStep::From { address } => Some(format!("FROM {address}")),
            BuildStep::Import { source } => Some(format!("IMPORT {source}")),
            BuildStep::DockerBuild { context, .. } => Some(format!("DOCKER BUILD of {context}")),
            _ => None,
        })
    }

    /// The labels the build sets (`withLabel`), in order; a later one replaces an earlier one
    /// of the same name (and takes its place last), as in an image config.
    pub fn labels(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        for step in &self.steps {
            if let BuildStep::Label { name, value } = step {
                out.retain(|(n, _)| n != name);
                out.push((name.clone(), value.clone()));
            }
        }
        out
    }

    /// Every cache volume mounted by this build or its stages: (volume, path).
    pub fn cache_volumes(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self
            .stages
            .iter()
            .flat_map(|s| s.container.cache_volumes())
            .collect();
        out.extend(self.steps.iter().filter_map(|s| match s {
            BuildStep::MountedCache { path, volume } => Some((volume.clone(), path.clone())),
            _ => None,
        }));
        out
    }
}

/// One step of a container's build chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum BuildStep {
    /// `from(address)`: the base image (state before it is discarded, as the engine does).
    From {
        /// The image address as given.
        address: String,
    },
    /// `withExec(args)`.
    Exec {
        /// The command and its arguments.
        args: Vec<String>,
        /// The `expect` argument (`SUCCESS`, `FAILURE`, `ANY`).
        expect: String,
    },
    /// `withEnvVariable(name, value)`.
    EnvVariable {
        /// The variable's name.
        name: String,
        /// Its value.
        value: String,
    },
    /// `withMountedCache(path, cache)`: `volume` is the cache volume's key.
    MountedCache {
        /// Where the cache is mounted.
        path: String,
        /// The cache volume's key.
        volume: String,
    },
    /// `withDirectory(path, directory)`: `source` describes the directory and its content digest.
    Directory {
        /// Where the directory goes.
        path: String,
        /// What the directory is, with its content digest.
        source: String,
    },
    /// `withFile(path, file)` or `withNewFile(path, contents)`: `source` describes the file.
    File {
        /// Where the file goes.
        path: String,
        /// What the file is.
        source: String,
    },
    /// `withWorkdir(path)`.
    Workdir {
        /// The working directory.
        path: String,
    },
    /// `withUser(name)`.
    User {
        /// The user, as given.
        name: String,
    },
    /// `withLabel(name, value)`.
    Label {
        /// The label's name.
        name: String,
        /// Its value.
        value: String,
    },
    /// `withAnnotation(name, value)`: an annotation of the image's manifest.
    Annotation {
        /// The annotation's name.
        name: String,
        /// Its value.
        value: String,
    },
    /// `withExposedPort(port, protocol)`.
    ExposedPort {
        /// The port number.
        port: i64,
        /// `TCP` or `UDP`.
        protocol: String,
    },
    /// `withDefaultArgs(args)`.
    DefaultArgs {
        /// The default arguments.
        args: Vec<String>,
    },
    /// `withEntrypoint(args)`.
    Entrypoint {
        /// The entrypoint and its arguments.
        args: Vec<String>,
    },
    /// `import(source)`: `source` describes the tarball file.
    Import {
        /// What the tarball file is.
        source: String,
    },
    /// `Directory.dockerBuild`: the build context (its digest) and the Dockerfile's path.
    DockerBuild {
        /// The build context, by its digest.
        context: String,
        /// The Dockerfile's path in the context.
        dockerfile: String,
    },
    /// `withSecretVariable(name, secret)`: the variable and the secret's name (never its
    /// plaintext); not part of the image (nor its digest).
    SecretVariable {
        /// The variable's name.
        name: String,
        /// The secret's name.
        secret_name: String,
    },
    /// `withRegistryAuth(address, username, secret)`: recorded for inspection; it does not
    /// change the container (nor its digest).
    RegistryAuth {
        /// The normalised registry host.
        host: String,
        /// The user name.
        username: String,
        /// The name of the secret holding the password.
        secret_name: String,
    },
    /// A part of the image config removed (`withoutEnvVariable`, `withoutLabel`,
    /// `withoutEntrypoint`, ...): `what` names it as a Dockerfile would (`ENV NAME`, `CMD`).
    Unset {
        /// What was removed, as a Dockerfile would name it.
        what: String,
    },
    /// `withoutFile(s)` / `withoutDirectory`: a path removed from the filesystem.
    Remove {
        /// The path removed.
        path: String,
    },
    /// `withMountedDirectory` / `withMountedFile` / `withMountedSecret` / `withMountedTemp`:
    /// `source` describes what is mounted; not part of the image.
    Mount {
        /// The mount point.
        path: String,
        /// What is mounted there.
        source: String,
    },
    /// `withoutMount(path)`.
    Unmount {
        /// The mount point.
        path: String,
    },
    /// `withSymlink(target, linkName)`.
    Symlink {
        /// What the link points at.
        target: String,
        /// The link's path.
        link: String,
    },
    /// `withDockerHealthcheck(args, ...)`: the check and its options as given.
    Healthcheck {
        /// The command.
        args: Vec<String>,
        /// Whether `args` is run by a shell (`CMD-SHELL`).
        shell: bool,
        /// `interval`, `timeout`, `startPeriod`, `startInterval`, `retries`, when given.
        options: Vec<(String, String)>,
    },
    /// `withRootfs(directory)`: the filesystem replaced by a directory.
    Rootfs {
        /// The directory that becomes the filesystem.
        source: String,
    },
    /// `withVolatileVariable(name, value)`: seen by commands, not kept in the image config.
    VolatileVariable {
        /// The variable.
        name: String,
        /// Its value.
        value: String,
    },
}

impl fmt::Display for BuildStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildStep::From { address } => write!(f, "FROM {address}"),
            BuildStep::Exec { args, expect } if expect == "SUCCESS" => {
                write!(f, "RUN {}", display_command(args))
            }
            BuildStep::Exec { args, expect } => {
                write!(f, "RUN {} (expect {expect})", display_command(args))
            }
            BuildStep::EnvVariable { name, value } => write!(f, "ENV {name}={}", quoted(value)),
            BuildStep::SecretVariable { name, secret_name } => {
                write!(f, "SECRET ENV {name} (secret {secret_name})")
            }
            BuildStep::MountedCache { path, volume } => write!(f, "CACHE {volume} -> {path}"),
            BuildStep::Directory { path, source } | BuildStep::File { path, source } => {
                write!(f, "COPY to {path}: {source}")
            }
            BuildStep::Workdir { path } => write!(f, "WORKDIR {path}"),
            BuildStep::User { name } => write!(f, "USER {name}"),
            BuildStep::Label { name, value } => write!(f, "LABEL {name}={}", quoted(value)),
            BuildStep::Annotation { name, value } => {
                write!(f, "ANNOTATION {name}={}", quoted(value))
            }
            BuildStep::ExposedPort { port, protocol } => write!(f, "EXPOSE {port}/{protocol}"),
            BuildStep::DefaultArgs { args } => write!(f, "CMD {args:?}"),
            BuildStep::Entrypoint { args } => write!(f, "ENTRYPOINT {args:?}"),
            BuildStep::Import { source } => write!(f, "IMPORT {source}"),
            BuildStep::DockerBuild {
                context,
                dockerfile,
            } => write!(f, "DOCKER BUILD {context} -f {dockerfile}"),
            BuildStep::RegistryAuth {
                host,
                username,
                secret_name,
            } => write!(
                f,
                "# registry auth {username}@{host} (secret {secret_name})"
            ),
            BuildStep::Unset { what } => write!(f, "UNSET {what}"),
            BuildStep::Remove { path } => write!(f, "REMOVE {path}"),
            BuildStep::Mount { path, source } => write!(f, "MOUNT {source} -> {path}"),
            BuildStep::Unmount { path } => write!(f, "UNMOUNT {path}"),
            BuildStep::Symlink { target, link } => write!(f, "SYMLINK {link} -> {target}"),
            BuildStep::Healthcheck { args, shell, .. } if *shell => {
                write!(f, "HEALTHCHECK CMD-SHELL {args:?}")
            }
            BuildStep::Healthcheck { args, .. } => write!(f, "HEALTHCHECK CMD {args:?}"),
            BuildStep::Rootfs { source } => write!(f, "ROOTFS {source}"),
            BuildStep::VolatileVariable { name, value } => {
                write!(f, "VOLATILE ENV {name}={}", quoted(value))
            }
        }
    }
}

impl fmt::Display for ContainerDescription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for stage in &self.stages {
            writeln!(f, "# stage: {} -> {}", stage.output, stage.used_at)?;
            for line in stage.container.to_string().lines() {
                writeln!(f, "    {line}")?;
            }
        }
        if let Some(p) = &self.platform {
            writeln!(f, "# platform {p}")?;
        }
        for step in &self.steps {
            writeln!(f, "{step}")?;
        }
        Ok(())
    }
}
