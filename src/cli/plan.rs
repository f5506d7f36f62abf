//! The recording engine for a call (local directories loaded, secrets as placeholders, the
//! target registry accepting the given user), and the plan it records, for standard error.

use serde_json::Value;

use super::args::{Call, Given};
use super::source::{ignore_patterns, load_directory, load_file};
use dagger_engine::registry::RegistryHost;
use dagger_engine_sim::{AccountRights, MockEngine};

/// What the recording engine stores as any secret's value: the real one is never read there
/// (a secret from a file or a command stands in with the same value, unread).
const PLACEHOLDER: &str = dagger_engine_sim::RECORDING_SECRET_STAND_IN;

/// The environment variable a secret address reads (`NAME`, `env:NAME`, `env://NAME`), as
/// upstream `core/schema/address.go` maps it; `None` for other providers.
fn env_name(address: &str) -> Option<&str> {
    if !address.contains(':') {
        return Some(address);
    }
    address
        .strip_prefix("env:")
        .map(|rest| rest.strip_prefix("//").unwrap_or(rest))
}

/// A string argument as given, or its default in the definition.
fn string_arg(call: &Call, name: &str) -> Option<String> {
    match call.get(name) {
        Some(Given::Value(Value::String(s))) => Some(s.clone()),
        _ => call
            .function
            .find_arg(name)
            .and_then(|a| a.default.as_ref())
            .and_then(|d| d.as_str().map(str::to_string)),
    }
}

/// The recording engine, set up for `call`.
pub fn recording_engine(call: &Call) -> Result<MockEngine, String> {
    let engine = MockEngine::recording();
    // A network's wait on each answer (a tenth of a second in all), so that requests the call
    // sends together are seen in flight together and the plan's round-trip count is the wait a
    // session pays, not the requests.
    engine.set_latency(std::time::Duration::from_millis(20));
    // It runs no command: each smoke check is answered with its version, and the plan says so.
    crate::pipeline::recording::assume_smoke_checks_pass(
        &engine,
        &crate::pipeline::Catalog::standard(),
    );
    crate::pipeline::recording::assume_tool_images(&engine);
    for (def, given) in &call.given {
        match given {
            Given::Directory(path) => load_directory(&engine, path, &ignore_patterns(def))?,
            Given::File(path) => load_file(&engine, path)?,
            Given::Secret(address) => {
                if let Some(var) = env_name(address) {
                    engine.set_env(var, PLACEHOLDER);
                }
            }
            Given::Value(_) => {}
        }
    }
    if let (Some(registry), Some(username)) = (
        string_arg(call, "registry"),
        string_arg(call, "registry_username"),
    ) {
        // A bad address is the module's to report, with its flag.
        if let Ok(host) = RegistryHost::parse(&registry) {
            engine.registry(host.as_str()).account(
                &username,
                PLACEHOLDER,
                AccountRights::CreateOnly,
            );
        }
    }
    Ok(engine)
}

/// The plan of a successful (or failed) run, for standard error: what was called, then the
/// images, caches, targets and credentials.
pub fn render(call: &Call, engine: &MockEngine, why: &str) -> String {
    let mut out = format!(
        "Plan of `blumeops {}` on the recording engine ({why}): nothing is built or pushed, \
         secrets are not read, and content the recording engine cannot know is marked as a \
         stand-in.\n",
        call.display()
    );
    let plan = engine.plan();
    if !plan.pushes.is_empty() {
        out.push('\n');
        out.push_str(&plan.to_string());
    }
    out
}

/// What a plan prints after each reference of a publishing function's text result.
pub const STAND_IN_MARK: &str = " (stand-in digest: planned with --plan, nothing was pushed)";

/// A publishing function's text result on the recording engine, each line marked as a stand-in.
pub fn mark_stand_in(text: &str) -> String {
    text.lines()
        .map(|line| format!("{line}{STAND_IN_MARK}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The note after a result of the recording engine that names digests.
pub const DIGEST_NOTE: &str = "The digest in the result (standard output) is the recording \
                               engine's stand-in, not a registry's.";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_addresses_name_their_variable_as_upstream_maps_them() {
        assert_eq!(env_name("TOKEN"), Some("TOKEN"));
        assert_eq!(env_name("env:TOKEN"), Some("TOKEN"));
        assert_eq!(env_name("env://TOKEN"), Some("TOKEN"));
        assert_eq!(env_name("file:/run/key"), None);
    }
}
