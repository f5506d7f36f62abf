//! Local directories and files for the engine: which paths a Directory argument leaves out, and
//! how the recording engine is given the contents the plan needs.

use std::path::Path;

use dagger_engine_sim::MockEngine;
use dagger_module_runtime::ArgDef;

/// Files larger than this are not loaded into the recording engine (the plan needs
/// Dockerfiles and the like, not build outputs).
const MAX_PLAN_FILE: u64 = 1 << 20;

/// The patterns a Directory argument leaves out when the main job loads it
/// (`address(value:).directory(exclude:)`): the argument's own `ignore` patterns, the ones the
/// module registers and `dagger call` applies.
pub fn ignore_patterns(arg: &ArgDef) -> Vec<String> {
    arg.ignore.iter().map(|p| p.to_string()).collect()
}

/// Whether the directory at `relative` is left out by `patterns`, as far as the loader can
/// tell: `name` leaves out that top-level path, `**/name` every directory called `name`.
/// Other patterns are still applied by the engine's `exclude`; the loader only reads more.
fn skipped(relative: &Path, patterns: &[String]) -> bool {
    let name = relative.file_name().and_then(|n| n.to_str());
    patterns.iter().any(|p| match p.strip_prefix("**/") {
        Some(any_level) => name == Some(any_level),
        None => relative == Path::new(p.trim_end_matches('/')),
    })
}

/// Loads a local directory into the recording engine: its text files up to 1 MiB, without
/// the directories `patterns` leave out, so the module can read Dockerfiles from it.
pub fn load_directory(engine: &MockEngine, root: &Path, patterns: &[String]) -> Result<(), String> {
    let mut files: Vec<(String, String)> = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(relative) = path.strip_prefix(root) else {
                continue;
            };
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() {
                if !skipped(relative, patterns) {
                    stack.push(path);
                }
            } else if meta.is_file() && meta.len() <= MAX_PLAN_FILE {
                if let Ok(text) = std::fs::read_to_string(&path) {
                    files.push((relative.to_string_lossy().into_owned(), text));
                }
            }
        }
    }
    let borrowed: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_str()))
        .collect();
    engine.add_host_directory(&root.to_string_lossy(), &borrowed);
    Ok(())
}

/// Loads one local file into the recording engine, as the only file of its directory (a
/// binary archive is represented by its size: the plan needs its name, not its bytes).
pub fn load_file(engine: &MockEngine, path: &Path) -> Result<(), String> {
    let (dir, name) = super::args::split_file(path)?;
    let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let contents = std::fs::read_to_string(path)
        .unwrap_or_else(|_| format!("({} bytes, not text)", meta.len()));
    engine.add_host_directory(&dir, &[(name.as_str(), contents.as_str())]);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_loader_skips_what_the_patterns_leave_out() {
        let patterns: Vec<String> = ["**/target", ".cache"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert!(skipped(Path::new("target"), &patterns));
        assert!(skipped(Path::new("ui/target"), &patterns));
        assert!(skipped(Path::new(".cache"), &patterns));
        assert!(!skipped(Path::new("ui/.cache"), &patterns));
        assert!(!skipped(Path::new("containers"), &patterns));
    }
}
