//! `blumeops completions <shell>`: the shell's completion script, from the same command line
//! as the one parsed.

use clap::Command;
use clap_complete::Shell;

use super::command::BIN_NAME;

/// The completion script of `shell` for `command`.
pub fn script(command: &mut Command, shell: Shell) -> Vec<u8> {
    let mut out = Vec::new();
    clap_complete::generate(shell, command, BIN_NAME, &mut out);
    out
}
