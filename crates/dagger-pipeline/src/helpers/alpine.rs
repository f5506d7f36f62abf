use dagger_sdk::Container;

use super::strings;
use crate::BuildContext;

/// Who the runtime image runs as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuntimeUser {
    /// Create a system user and group with these ids (no password, no home directory), and
    /// run as it.
    Create {
        /// The user and group name.
        name: String,
        /// The user id.
        uid: u32,
        /// The group id.
        gid: u32,
    },
    /// Run as these ids without creating a user (e.g. 65534, `nobody`).
    Existing {
        /// The user id.
        uid: u32,
        /// The group id.
        gid: u32,
    },
}

impl RuntimeUser {
    /// A new user `name` with ids `uid`/`gid`.
    pub fn create(name: impl Into<String>, uid: u32, gid: u32) -> Self {
        RuntimeUser::Create {
            name: name.into(),
            uid,
            gid,
        }
    }

    /// Run as `uid`/`gid`, creating no user.
    pub fn existing(uid: u32, gid: u32) -> Self {
        RuntimeUser::Existing { uid, gid }
    }

    /// The image's `USER`, numeric (`uid:gid`) so that Kubernetes' `runAsNonRoot` can check it
    /// (a user *name* cannot be verified and is refused).
    pub fn user_spec(&self) -> String {
        match self {
            RuntimeUser::Create { uid, gid, .. } | RuntimeUser::Existing { uid, gid } => {
                format!("{uid}:{gid}")
            }
        }
    }
}

/// An Alpine runtime image of the target platform ([`BuildContext::platform`]): extra
/// packages, then the user.
///
/// ```
/// # fn example(ctx: &dagger_pipeline::BuildContext) {
/// use dagger_pipeline::helpers::{AlpineRuntime, RuntimeUser};
/// let base = AlpineRuntime::new("alpine:3.22", RuntimeUser::existing(65534, 65534))
///     .packages(["ca-certificates", "tzdata"])
///     .container(ctx);
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct AlpineRuntime {
    image: String,
    packages: Vec<String>,
    user: RuntimeUser,
}

impl AlpineRuntime {
    /// A runtime on the Alpine image `image` (e.g. `alpine:3.22`) running as `user`, with no
    /// extra packages.
    pub fn new(image: impl Into<String>, user: RuntimeUser) -> Self {
        Self {
            image: image.into(),
            packages: Vec::new(),
            user,
        }
    }

    /// The base image.
    pub fn image(&self) -> &str {
        &self.image
    }

    /// Extra Alpine packages.
    pub fn packages<I, S>(mut self, packages: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.packages.extend(strings(packages));
        self
    }

    /// The commands that create the user, empty for [`RuntimeUser::Existing`] (busybox
    /// `addgroup`/`adduser`: `-S` system account, `-D` no password, `-H` no home).
    pub fn user_commands(&self) -> Vec<Vec<String>> {
        match &self.user {
            RuntimeUser::Create { name, uid, gid } => vec![
                strings(["addgroup", "-S", "-g", &gid.to_string(), name]),
                strings([
                    "adduser",
                    "-S",
                    "-D",
                    "-H",
                    "-u",
                    &uid.to_string(),
                    "-G",
                    name,
                    "-s",
                    "/sbin/nologin",
                    name,
                ]),
            ],
            RuntimeUser::Existing { .. } => Vec::new(),
        }
    }

    /// The runtime container, its `USER` set (files added later are still owned by root). Its
    /// commands (`apk add`, `adduser`) run under the engine's emulation for a foreign platform.
    pub fn container(&self, ctx: &BuildContext) -> Container {
        let mut c = ctx.target_container().from(&self.image);
        if !self.packages.is_empty() {
            let mut apk = strings(["apk", "add", "--no-cache"]);
            apk.extend(self.packages.iter().cloned());
            c = ctx.exec(&c, "apk add (runtime packages)", apk);
        }
        for command in self.user_commands() {
            let step = format!("{} (runtime user)", command[0]);
            c = ctx.exec(&c, &step, command);
        }
        c.with_user(self.user.user_spec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_user_has_fixed_ids() {
        let rt = AlpineRuntime::new("alpine:3.22", RuntimeUser::create("app", 1000, 1001));
        let cmds = rt.user_commands();
        assert_eq!(cmds[0], ["addgroup", "-S", "-g", "1001", "app"]);
        assert!(cmds[1].windows(2).any(|w| w == ["-u", "1000"]));
        assert!(cmds[1].windows(2).any(|w| w == ["-G", "app"]));
        assert_eq!(rt.user.user_spec(), "1000:1001");
    }

    #[test]
    fn existing_user_creates_nothing() {
        let rt = AlpineRuntime::new("alpine:3.22", RuntimeUser::existing(65534, 65534));
        assert!(rt.user_commands().is_empty());
        assert_eq!(rt.user.user_spec(), "65534:65534");
    }
}
