//! How a command line is shown to a person, in step errors and plans alike: as typed in a
//! POSIX shell, each argument quoted only when it needs to be.
//!
//! ```
//! use dagger_engine::command::display_command;
//! let cmd = ["go", "build", "-ldflags", "-w -s", "-o", "/out/app", "."].map(String::from);
//! assert_eq!(display_command(&cmd), "go build -ldflags '-w -s' -o /out/app .");
//! ```

/// A command as a person would type it in a POSIX shell: arguments quoted only when needed.
pub fn display_command(command: &[String]) -> String {
    if command.is_empty() {
        return "(no command reported)".into();
    }
    command
        .iter()
        .map(|arg| shell_quote(arg))
        .collect::<Vec<_>>()
        .join(" ")
}

fn shell_quote(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg.chars().all(|c| {
            c.is_ascii_alphanumeric()
                || matches!(c, '-' | '_' | '.' | '/' | ',' | '=' | ':' | '@' | '+')
        });
    if plain {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}
