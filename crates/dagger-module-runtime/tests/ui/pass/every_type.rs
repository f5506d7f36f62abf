//! A module with every kind of argument and result the macros support.
#![deny(missing_docs, unreachable_pub)]

use std::fmt;
use std::str::FromStr;

use dagger_module_runtime::dagger_sdk::{Container, Directory, File, Platform, Query, Secret};
use dagger_module_runtime::{functions, object, CallContext, FunctionError, IdOf};

/// A version parsed on arrival.
#[derive(Debug)]
pub struct Version(String);

impl FromStr for Version {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        s.strip_prefix('v')
            .map(|v| Version(v.to_string()))
            .ok_or_else(|| format!("{s:?} does not start with v"))
    }
}

/// A choice given as a String with allowed values.
#[derive(Debug, Clone, Copy)]
pub enum Mode {
    /// Fast.
    Fast,
    /// Safe.
    Safe,
}

impl Mode {
    /// Every mode.
    pub const ALL: [Mode; 2] = [Mode::Fast, Mode::Safe];
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Mode::Fast => "fast",
            Mode::Safe => "safe",
        })
    }
}

impl FromStr for Mode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Mode::ALL
            .into_iter()
            .find(|m| m.to_string() == s)
            .ok_or_else(|| format!("{s:?} is not a mode"))
    }
}

const DEFAULT_NAME: &str = "world";

/// Everything at once.
#[object(name = "every-type")]
pub struct EveryType;

#[functions]
impl EveryType {
    /// Scalars, lists and options.
    pub fn scalars(
        &self,
        #[arg(default = DEFAULT_NAME, doc = "A name")] name: String,
        #[arg(default = 3)] count: i64,
        #[arg(default = 0.5)] ratio: f64,
        small: Option<u8>,
        #[arg(default = ["a", "b"])] tags: Vec<String>,
        platform: Option<Platform>,
    ) -> Vec<String> {
        let _ = (count, ratio, small, platform);
        tags.into_iter().map(|t| format!("{name}:{t}")).collect()
    }

    /// Parsed arguments and allowed values.
    #[function(cache = "never")]
    pub fn parsed(
        &self,
        #[arg(parse)] version: Version,
        #[arg(parse, default = "fast", values = Mode::ALL)] mode: Mode,
        #[arg(parse)] more: Option<Vec<Version>>,
    ) -> Result<String, FunctionError> {
        Ok(format!("{version:?} {mode} {}", more.unwrap_or_default().len()))
    }

    /// Engine objects, with the context, a default path and ignore patterns.
    #[function(cache = "6h", deprecated = "use scalars")]
    pub async fn objects(
        &self,
        ctx: &CallContext,
        dag: &Query,
        #[arg(ignore = ["**/target"])] src: Directory,
        #[arg(default_path = "/README.md")] readme: Option<File>,
        password: Option<IdOf<Secret>>,
    ) -> dagger_module_runtime::eyre::Result<Container> {
        let _ = (ctx, readme, password);
        Ok(dag.container().with_directory("/src", src))
    }

    /// Nothing back, no receiver, session cache.
    #[function(cache = "session", name = "touch_it")]
    pub async fn touch() {}

    /// A plain number, with an error any Display type gives.
    pub(crate) fn fallible(&self) -> Result<u32, std::fmt::Error> {
        Ok(1)
    }
}

fn main() {}
