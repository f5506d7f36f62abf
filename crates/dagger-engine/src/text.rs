//! Messages of a bounded size: an error may quote what it was given, and what it was given may
//! be megabytes (an argument, an engine's answer). One rule for every place that reports one.

/// The most bytes of a message a person is shown: enough for any real error, a command's
/// stderr tail and a table of containers.
pub const MAX_MESSAGE_BYTES: usize = 16 * 1024;

/// `message` cut to at most [`MAX_MESSAGE_BYTES`] on a character boundary, with how much was
/// left out; shorter messages are returned whole.
///
/// ```
/// use dagger_engine::text::{bounded, MAX_MESSAGE_BYTES};
/// assert_eq!(bounded("short"), "short");
/// let long = format!("invalid version {:?}", "x".repeat(2 << 20));
/// let cut = bounded(&long);
/// assert!(cut.len() < MAX_MESSAGE_BYTES + 100);
/// assert!(cut.ends_with("bytes left out)"), "{}", &cut[cut.len() - 60..]);
/// ```
pub fn bounded(message: &str) -> std::borrow::Cow<'_, str> {
    if message.len() <= MAX_MESSAGE_BYTES {
        return std::borrow::Cow::Borrowed(message);
    }
    let mut end = MAX_MESSAGE_BYTES;
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    std::borrow::Cow::Owned(format!(
        "{}… (message cut: {} bytes left out)",
        &message[..end],
        message.len() - end
    ))
}
