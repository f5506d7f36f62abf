//! What the main job's plan needs from the catalog on the recording engine (feature `cli`).
//!
//! The recording engine runs no command, so a smoke check would read nothing and fail every
//! plan of a native pipeline. [`assume_smoke_checks_pass`] declares, for each native
//! pipeline's check, the output it requires, marked as assumed: the plan then shows each check
//! (its command, platform and that answer) and goes on to the pushes, as the real run would
//! when the checks pass.

use dagger_engine_sim::MockEngine;

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
