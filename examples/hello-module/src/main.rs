//! The `greeter` Dagger module: four functions written with the Rust SDK's attribute macros.

use dagger_module_runtime::dagger_sdk::{Directory, Query, Secret};
use dagger_module_runtime::{eyre, functions, object};

/// Greetings, word counts and a look inside a container.
#[object]
struct Greeter;

#[functions]
impl Greeter {
    /// Say hello to someone.
    pub fn hello(
        &self,
        #[arg(default = "world", doc = "Who to greet")] name: String,
        #[arg(default = false, doc = "Greet in capitals")] shout: bool,
    ) -> String {
        let hi = format!("hello, {name}!");
        match shout {
            true => hi.to_uppercase(),
            false => hi,
        }
    }

    /// Count the words of the files at the top of a directory.
    pub async fn word_count(&self, src: Directory) -> eyre::Result<i64> {
        let (entries, mut words) = (src.entries().await?, 0);
        for name in entries.iter().filter(|n| !n.ends_with('/')) {
            words += src.file(name).contents().await?.split_whitespace().count();
        }
        Ok(words.try_into()?)
    }

    /// The Alpine release inside the `alpine:<tag>` image.
    pub async fn alpine_version(
        &self,
        dag: &Query,
        #[arg(default = "3.22", doc = "The image's tag")] tag: String,
    ) -> eyre::Result<String> {
        let alpine = dag.container().from(format!("alpine:{tag}"));
        let release = alpine
            .with_exec(vec!["cat", "/etc/alpine-release"])
            .stdout()
            .await?;
        Ok(release.trim().to_string())
    }

    /// Check a registry login: whether a password was given, never its value.
    pub fn login_check(registry: String, username: String, password: Option<Secret>) -> String {
        let how = password.map_or("anonymous", |_| "with a password");
        format!("{username}@{registry}: {how}")
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    dagger_module_runtime::run(Greeter).await
}
