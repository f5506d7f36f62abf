//! What the main job's plan needs from the catalog on the recording engine (feature `cli`).
//!
//! The recording engine runs no command, so a smoke check would read nothing and fail every
//! plan of a native pipeline. [`assume_smoke_checks_pass`] declares, for each native
//! pipeline's check, the output it requires, marked as assumed: the plan then shows each check
//! (its command, platform and that answer) and goes on to the pushes, as the real run would
//! when the checks pass.

use dagger_engine_sim::MockEngine;

use super::list::REGISTRY_CLIENT_IMAGE;
use super::Catalog;

/// The text the plan's smoke checks answer: the expected version, then this note.
pub const ASSUMED_NOTE: &str = "(assumed by the plan: the recording engine runs no command)";

/// Makes each native pipeline's smoke check on `engine` print the version it requires,
/// followed by [`ASSUMED_NOTE`].
///
/// ```
/// use blumeops::pipeline::{recording::assume_smoke_checks_pass, Catalog};
/// let engine = dagger_engine_sim::MockEngine::recording();
/// assume_smoke_checks_pass(&engine, &Catalog::standard());
/// ```
pub fn assume_smoke_checks_pass(engine: &MockEngine, catalog: &Catalog) {
    for name in catalog.native_names() {
        let Some(check) = catalog.native(&name).and_then(|p| p.smoke_check()) else {
            continue;
        };
        let command: Vec<&str> = check.command().iter().map(String::as_str).collect();
        engine.set_exec_stdout(&command, &format!("{} {ASSUMED_NOTE}\n", check.expect()));
    }
}

/// Makes the images of the tools the module runs (the registry client of `container-list`)
/// known to `engine`'s registry model, as a real engine would pull them: the recording engine
/// fetches nothing, and a plan must show the call, not fail on the pull.
///
/// ```
/// use blumeops::pipeline::recording::assume_tool_images;
/// let engine = dagger_mock_engine::MockEngine::recording();
/// assume_tool_images(&engine);
/// ```
pub fn assume_tool_images(engine: &MockEngine) {
    let runner = format!(
        "{}:{}",
        super::tasks::workflows::RUNNER_IMAGE,
        super::tasks::workflows::DEFAULT_RUNNER_VERSION
    );
    for image in [
        REGISTRY_CLIENT_IMAGE,
        super::tasks::nix::NIX_IMAGE,
        runner.as_str(),
    ] {
        // Constants of this crate, so they always parse; a failure would only leave the plan
        // to say the engine could not resolve the image.
        let _ = engine.public_image(image);
    }
}
