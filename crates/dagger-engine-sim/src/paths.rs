//! Path arithmetic shared by the schema and the declared effects.

/// `base` joined with `path` (absolute paths win), normalised (`.`/`..`, repeated `/`).
pub(crate) fn join(base: &str, path: &str) -> String {
    let full = if path.starts_with('/') || base.is_empty() {
        path.to_string()
    } else {
        format!("{base}/{path}")
    };
    let mut parts: Vec<&str> = Vec::new();
    for part in full.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    if full.starts_with('/') {
        format!("/{}", parts.join("/"))
    } else {
        parts.join("/")
    }
}
