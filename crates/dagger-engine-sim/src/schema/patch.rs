//! `Directory.withPatch` / `withPatchFile` (upstream `core/directory.go`, WithPatch, which runs
//! `git apply`): a unified diff (as `git diff` writes it) applied to the directory's files.
//! New files (`--- /dev/null`) and deletions (`+++ /dev/null`) are understood; a hunk whose
//! context does not match fails as `git apply` does (`error: patch failed: <path>:<line>`).

use super::directory::{join, DirState};
use super::FieldError;

/// One hunk: the old text's first line (1-based) and its lines, tagged ` `, `-` or `+`.
struct Hunk {
    old_start: usize,
    lines: Vec<(char, String)>,
}

/// One file's change.
struct FilePatch {
    old: Option<String>,
    new: Option<String>,
    hunks: Vec<Hunk>,
}

fn strip_prefix(path: &str) -> Option<String> {
    let path = path.split('\t').next().unwrap_or(path).trim();
    if path == "/dev/null" {
        return None;
    }
    let path = path
        .strip_prefix("a/")
        .or_else(|| path.strip_prefix("b/"))
        .unwrap_or(path);
    Some(join("", path))
}

fn parse(patch: &str) -> Result<Vec<FilePatch>, FieldError> {
    let mut files: Vec<FilePatch> = Vec::new();
    let mut lines = patch.lines().peekable();
    while let Some(line) = lines.next() {
        if let Some(old) = line.strip_prefix("--- ") {
            let new = lines
                .next()
                .and_then(|l| l.strip_prefix("+++ "))
                .ok_or_else(|| FieldError::new("error: corrupt patch: `---` without `+++`"))?;
            files.push(FilePatch {
                old: strip_prefix(old),
                new: strip_prefix(new),
                hunks: Vec::new(),
            });
        } else if let Some(header) = line.strip_prefix("@@ -") {
            let file = files
                .last_mut()
                .ok_or_else(|| FieldError::new("error: corrupt patch: a hunk before any file"))?;
            let old_start = header
                .split([',', ' '])
                .next()
                .and_then(|n| n.parse::<usize>().ok())
                .ok_or_else(|| FieldError::new(format!("error: corrupt patch at line {line:?}")))?;
            let mut hunk = Hunk {
                old_start,
                lines: Vec::new(),
            };
            while let Some(next) = lines.peek() {
                let tag = next.chars().next().unwrap_or(' ');
                if next.starts_with("--- ") || next.starts_with("@@ ") || next.starts_with("diff ")
                {
                    break;
                }
                match tag {
                    ' ' | '-' | '+' => hunk
                        .lines
                        .push((tag, next[1.min(next.len())..].to_string())),
                    '\\' => {}
                    _ if next.is_empty() => hunk.lines.push((' ', String::new())),
                    _ => break,
                }
                lines.next();
            }
            file.hunks.push(hunk);
        }
    }
    if files.is_empty() {
        return Err(FieldError::new("error: No valid patches in input"));
    }
    Ok(files)
}

/// Applies `patch` to `d`.
pub(crate) fn apply(mut d: DirState, patch: &str) -> Result<DirState, FieldError> {
    for file in parse(patch)? {
        let path = file
            .new
            .clone()
            .or(file.old.clone())
            .ok_or_else(|| FieldError::new("error: corrupt patch: no file named"))?;
        let old_text = match &file.old {
            Some(old) => d.tree.get(old).cloned().ok_or_else(|| {
                FieldError::new(format!("error: {old}: No such file or directory"))
            })?,
            None => {
                if d.tree.contains_key(&path) {
                    return Err(FieldError::new(format!(
                        "error: {path}: already exists in working directory"
                    )));
                }
                String::new()
            }
        };
        let ends_with_newline = old_text.is_empty() || old_text.ends_with('\n');
        let old_lines: Vec<&str> = old_text.lines().collect();
        let mut out: Vec<String> = Vec::new();
        let mut at = 0usize;
        for hunk in &file.hunks {
            let start = hunk.old_start.saturating_sub(1);
            let start = if hunk.lines.iter().all(|(t, _)| *t == '+') && hunk.old_start > 0 {
                hunk.old_start
            } else {
                start
            };
            if start < at || start > old_lines.len() {
                return Err(FieldError::new(format!(
                    "error: patch failed: {path}:{}",
                    hunk.old_start
                )));
            }
            out.extend(old_lines[at..start].iter().map(|l| l.to_string()));
            at = start;
            for (tag, text) in &hunk.lines {
                match tag {
                    '+' => out.push(text.clone()),
                    _ => {
                        if old_lines.get(at) != Some(&text.as_str()) {
                            return Err(FieldError::new(format!(
                                "error: patch failed: {path}:{}",
                                hunk.old_start
                            )));
                        }
                        if *tag == ' ' {
                            out.push(text.clone());
                        }
                        at += 1;
                    }
                }
            }
        }
        out.extend(
            old_lines[at.min(old_lines.len())..]
                .iter()
                .map(|l| l.to_string()),
        );
        if let Some(old) = &file.old {
            d.tree.remove(old);
        }
        if let Some(new) = &file.new {
            let mut text = out.join("\n");
            if !out.is_empty() && ends_with_newline {
                text.push('\n');
            }
            d.tree.insert(new.clone(), text);
        }
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(files: &[(&str, &str)]) -> DirState {
        DirState::of(
            files
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn applies_changes_new_files_and_deletions() {
        let d = dir(&[("a.txt", "one\ntwo\nthree\n"), ("gone.txt", "x\n")]);
        let patch = "diff --git a/a.txt b/a.txt\n--- a/a.txt\n+++ b/a.txt\n@@ -1,3 +1,3 @@\n one\n-two\n+TWO\n three\n--- /dev/null\n+++ b/new.txt\n@@ -0,0 +1 @@\n+hello\n--- a/gone.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-x\n";
        let d = apply(d, patch).unwrap();
        assert_eq!(d.tree["a.txt"], "one\nTWO\nthree\n");
        assert_eq!(d.tree["new.txt"], "hello\n");
        assert!(!d.tree.contains_key("gone.txt"));
    }

    #[test]
    fn a_hunk_that_does_not_match_fails_like_git_apply() {
        let d = dir(&[("a.txt", "one\n")]);
        let err = apply(d, "--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-two\n+2\n").unwrap_err();
        assert_eq!(err.message, "error: patch failed: a.txt:1");
        assert!(apply(dir(&[]), "nothing").is_err());
    }
}
