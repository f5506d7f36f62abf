//! Where log lines go and which are kept, for both binaries: stderr, filtered by `RUST_LOG`.
//!
//! `RUST_LOG` is read as a list of `target=level` directives and bare levels
//! (`warn`, `info,dagger_publish=debug`), with `tracing-subscriber`'s `Targets` filter: the
//! `EnvFilter` syntax for spans and fields (`[span{field=value}]`) is not supported, which keeps
//! the regular-expression engine out of the module binary's build. A value that cannot be read
//! is reported on stderr and the default level is used.

use std::str::FromStr;

use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// The filter `RUST_LOG` asks for, or `default` for every target when it is unset or empty;
/// with a value that cannot be read, `default` and the message that says so.
///
/// ```
/// use blumeops::logging::log_filter;
/// use tracing_subscriber::filter::LevelFilter;
/// let (_, problem) = log_filter(Some("info,dagger_publish=debug"), LevelFilter::WARN);
/// assert_eq!(problem, None);
/// let (fallback, problem) = log_filter(Some("info,=x"), LevelFilter::WARN);
/// assert!(problem.unwrap().contains("RUST_LOG"));
/// assert_eq!(fallback.default_level(), Some(LevelFilter::WARN));
/// ```
pub fn log_filter(rust_log: Option<&str>, default: LevelFilter) -> (Targets, Option<String>) {
    let fallback = || Targets::new().with_default(default);
    match rust_log.map(str::trim).filter(|v| !v.is_empty()) {
        None => (fallback(), None),
        Some(value) => match Targets::from_str(value) {
            Ok(targets) => (targets, None),
            Err(e) => (
                fallback(),
                Some(format!(
                    "RUST_LOG={value:?} is not a list of `target=level` directives or levels ({e}); logging at {default}"
                )),
            ),
        },
    }
}

/// Sends log lines to stderr as plain text (CI logs show no colours), filtered by `RUST_LOG` or
/// `default`. A `RUST_LOG` that cannot be read is said on stderr.
pub fn init(default: LevelFilter) {
    init_with_writer(default, std::io::stderr);
}

/// [`init`], with log lines written by `writer` (the main job's redacts secrets given on its
/// command line).
pub fn init_with_writer<W>(default: LevelFilter, writer: W)
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    let rust_log = std::env::var("RUST_LOG").ok();
    let (filter, problem) = log_filter(rust_log.as_deref(), default);
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(writer)
        .with_ansi(false)
        .with_target(false);
    tracing_subscriber::registry()
        .with(layer)
        .with(filter)
        .init();
    if let Some(message) = problem {
        tracing::warn!("{message}");
    }
}
