//! Medians and spreads of wall-time samples, and the bench/test mode switch.

use std::time::Duration;

/// `cargo bench` passes `--bench`; `cargo test --all-targets` runs a bench target without it,
/// and then every scenario runs once, as a smoke test, with nothing timed or asserted on time.
pub(crate) fn bench_mode() -> bool {
    std::env::args().any(|a| a == "--bench")
}

/// Samples per scenario: `BLUMEOPS_BENCH_SAMPLES` or `default` in bench mode, 1 otherwise.
pub(crate) fn samples(default: usize) -> usize {
    if !bench_mode() {
        return 1;
    }
    std::env::var("BLUMEOPS_BENCH_SAMPLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(default)
}

/// Wall-time samples of one scenario.
#[derive(Debug, Clone, Default)]
pub(crate) struct Samples(pub Vec<Duration>);

impl Samples {
    fn sorted(&self) -> Vec<Duration> {
        let mut v = self.0.clone();
        v.sort();
        v
    }

    fn quantile(&self, q: f64) -> Duration {
        let v = self.sorted();
        if v.is_empty() {
            return Duration::ZERO;
        }
        let i = ((v.len() - 1) as f64 * q).round() as usize;
        v[i]
    }

    /// The median.
    pub(crate) fn median(&self) -> Duration {
        self.quantile(0.5)
    }

    /// `min / p25 / p75 / max` in milliseconds.
    pub(crate) fn spread(&self) -> String {
        format!(
            "{:.1} / {:.1} / {:.1} / {:.1}",
            ms(self.quantile(0.0)),
            ms(self.quantile(0.25)),
            ms(self.quantile(0.75)),
            ms(self.quantile(1.0))
        )
    }
}

/// A duration in milliseconds.
pub(crate) fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// `a / b` of two medians, as `N.NNx`.
pub(crate) fn ratio(a: Duration, b: Duration) -> String {
    if b.is_zero() {
        return "-".into();
    }
    format!("{:.2}x", a.as_secs_f64() / b.as_secs_f64())
}
