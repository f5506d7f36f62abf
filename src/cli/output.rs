//! Where the main job writes: the result alone on standard output, everything else on standard
//! error; and the exit codes.

use std::io::{self, Write};
use std::process::ExitCode;

/// Success.
pub const OK: u8 = 0;
/// A failure after the arguments were accepted (build, registry, engine).
pub const FAILURE: u8 = 1;
/// An argument error, found before anything is built or pushed.
pub const USAGE: u8 = 2;
/// Standard output was closed before the result was written (`| head -1`): the program ends
/// at once and without a message, with the code a shell shows for a program stopped by
/// SIGPIPE (128 + 13), so `set -o pipefail` sees it as it sees `yes | head -1`.
pub const CLOSED_STDOUT: u8 = 141;

/// Writes `text` (and a newline) on standard output; a closed standard output is
/// [`CLOSED_STDOUT`], any other write failure [`FAILURE`] with a message on standard error.
pub fn result(text: &str) -> Result<(), ExitCode> {
    let mut out = io::stdout().lock();
    let written = out
        .write_all(text.as_bytes())
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush());
    match written {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Err(ExitCode::from(CLOSED_STDOUT)),
        Err(e) => {
            error(&format!(
                "writing the result to standard output failed: {e}"
            ));
            Err(ExitCode::from(FAILURE))
        }
    }
}

/// Writes raw bytes (a completion script, help text) on standard output, like [`result`].
pub fn bytes(data: &[u8]) -> Result<(), ExitCode> {
    let mut out = io::stdout().lock();
    match out.write_all(data).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Err(ExitCode::from(CLOSED_STDOUT)),
        Err(e) => {
            error(&format!("writing to standard output failed: {e}"));
            Err(ExitCode::from(FAILURE))
        }
    }
}

/// Writes `text` on standard error as it is (the plan, notes). A closed standard error is
/// ignored: the result and the exit code still tell the outcome.
pub fn info(text: &str) {
    let mut err = io::stderr().lock();
    let _ = err.write_all(text.as_bytes());
    if !text.ends_with('\n') {
        let _ = err.write_all(b"\n");
    }
}

/// `error: <message>` on standard error.
pub fn error(message: &str) {
    info(&format!("error: {message}"));
}
