//! Where the main job writes: the result alone on standard output, everything else on standard
//! error; and the exit codes.

use std::borrow::Cow;
use std::io::{self, Write};
use std::process::ExitCode;
use std::sync::OnceLock;

/// Texts that must never be written, whatever writes them: the sensitive parts of the secret
/// addresses given on the command line ([`sensitive_part`]).
static REDACTED: OnceLock<Vec<String>> = OnceLock::new();

/// What replaces a sensitive text.
pub const REDACTION: &str = "[REDACTED]";

/// Shorter texts are not filtered: they would mask ordinary words of every message.
const MIN_REDACTED_LEN: usize = 4;

/// The part of a secret address that may itself be a secret, as the Dagger CLI reads it
/// (upstream `core/schema/address.go`): a bare value (no `:`), which it takes as an
/// environment variable's name but which is often the password itself
/// (`--registry-password "$KEY"`), and a `cmd:` address's command, which can carry a token.
/// `env:NAME` and `file:PATH` name where the secret is, not the secret.
pub fn sensitive_part(address: &str) -> Option<&str> {
    if !address.contains(':') {
        return Some(address);
    }
    let command = address
        .strip_prefix("cmd://")
        .or_else(|| address.strip_prefix("cmd:"))?;
    Some(command)
}

/// From now on, every text this module writes (result, plan, notes, errors, log lines through
/// [`RedactingStderr`]) has these replaced with [`REDACTION`]. Set once, after the command
/// line is read.
pub fn redact_everywhere(texts: impl IntoIterator<Item = String>) {
    let mut texts: Vec<String> = texts
        .into_iter()
        .filter(|t| t.len() >= MIN_REDACTED_LEN)
        .collect();
    // Longest first, so that a text containing another is replaced whole.
    texts.sort_by_key(|t| std::cmp::Reverse(t.len()));
    let _ = REDACTED.set(texts);
}

/// `text` with every sensitive text replaced.
pub fn redacted(text: &str) -> Cow<'_, str> {
    let Some(texts) = REDACTED.get() else {
        return Cow::Borrowed(text);
    };
    let mut out = Cow::Borrowed(text);
    for secret in texts {
        if out.contains(secret.as_str()) {
            out = Cow::Owned(out.replace(secret.as_str(), REDACTION));
        }
    }
    out
}

/// Standard error through [`redacted`]: the writer of the main job's log lines.
#[derive(Debug, Default, Clone, Copy)]
pub struct RedactingStderr;

impl Write for RedactingStderr {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        io::stderr().lock().write_all(redacted(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stderr().flush()
    }
}

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
    let text = redacted(text);
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
    let text = redacted(text);
    let mut err = io::stderr().lock();
    let _ = err.write_all(text.as_bytes());
    if !text.ends_with('\n') {
        let _ = err.write_all(b"\n");
    }
}

/// `error: <message>` on standard error, cut to a size a person can read
/// ([`dagger_engine::text::bounded`]: an error may quote a huge argument).
pub fn error(message: &str) {
    info(&format!("error: {}", dagger_engine::text::bounded(message)));
}
