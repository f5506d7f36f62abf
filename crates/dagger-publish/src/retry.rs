//! Bounded exponential backoff with jitter for transient registry failures.

use std::time::Duration;

/// How often and how patiently transient failures (5xx, 429, a dropped connection) are retried.
/// Credentials rejected (401), permission denied (403) and other client errors are never retried.
///
/// The delay before retry `n` (1-based) is drawn uniformly from `[d/2, d]` where
/// `d = min(initial_delay * 2^(n-1), max_delay)` ("equal jitter"): retries of many CI jobs spread
/// out, and no delay is ever longer than `max_delay`. A registry's `Retry-After` raises the delay
/// to what it asks, still capped at `max_delay`.
///
/// ```
/// use std::time::Duration;
/// use dagger_publish::RetryPolicy;
///
/// let policy = RetryPolicy::default();
/// assert_eq!(policy.max_attempts, 4);
/// let d = policy.delay_before_retry(3, None);
/// assert!(d <= policy.max_delay && d >= Duration::from_millis(1000));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1 = no retry).
    pub max_attempts: u32,
    /// The base delay before the first retry.
    pub initial_delay: Duration,
    /// The ceiling of any delay.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            initial_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// `attempts` tries in all with no waiting between them (for tests).
    pub fn immediate(attempts: u32) -> Self {
        Self {
            max_attempts: attempts.max(1),
            initial_delay: Duration::ZERO,
            max_delay: Duration::ZERO,
        }
    }

    /// The delay before retry number `retry` (1 for the first retry), honouring a
    /// `Retry-After` within `max_delay`.
    pub fn delay_before_retry(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        let exp = retry.saturating_sub(1).min(30);
        let base = self
            .initial_delay
            .saturating_mul(1u32 << exp)
            .min(self.max_delay);
        let half = base / 2;
        let jitter_span = base - half;
        let jitter = if jitter_span.is_zero() {
            Duration::ZERO
        } else {
            let nanos = jitter_span.as_nanos().min(u128::from(u64::MAX)) as u64;
            Duration::from_nanos(random_up_to(nanos))
        };
        let backoff = half + jitter;
        match retry_after {
            Some(asked) => backoff.max(asked).min(self.max_delay),
            None => backoff,
        }
    }
}

/// A number spread evenly enough over `0..=max` for retry jitter, from the standard library's
/// randomly keyed hasher (`RandomState` takes its keys from the operating system, and each new
/// one differs): jitter needs no cryptographic quality, and the module binary no random-number
/// crate for it.
fn random_up_to(max: u64) -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(max);
    let value = hasher.finish();
    match max.checked_add(1) {
        Some(span) => value % span,
        None => value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_and_stay_bounded() {
        let p = RetryPolicy {
            max_attempts: 10,
            initial_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
        };
        for retry in 1..=40 {
            let d = p.delay_before_retry(retry, None);
            let ceiling =
                (Duration::from_millis(100) * 2u32.pow(retry.min(20) - 1)).min(p.max_delay);
            assert!(d <= ceiling, "retry {retry}: {d:?} > {ceiling:?}");
            assert!(
                d >= ceiling / 2,
                "retry {retry}: {d:?} < half of {ceiling:?}"
            );
        }
    }

    #[test]
    fn retry_after_is_honoured_within_bounds() {
        let p = RetryPolicy::default();
        assert!(p.delay_before_retry(1, Some(Duration::from_secs(3))) >= Duration::from_secs(3));
        assert_eq!(
            p.delay_before_retry(1, Some(Duration::from_secs(3600))),
            p.max_delay
        );
    }

    #[test]
    fn immediate_never_waits() {
        let p = RetryPolicy::immediate(3);
        assert_eq!(p.delay_before_retry(2, None), Duration::ZERO);
        assert_eq!(RetryPolicy::immediate(0).max_attempts, 1);
    }

    #[test]
    fn jitter_stays_in_bounds_and_spreads() {
        assert_eq!(random_up_to(0), 0);
        let _ = random_up_to(u64::MAX);
        let draws: std::collections::BTreeSet<u64> = (0..200).map(|_| random_up_to(9)).collect();
        assert!(draws.iter().all(|&d| d <= 9), "{draws:?}");
        // 200 draws over 10 values: fewer than 5 distinct ones would mean no jitter at all.
        assert!(draws.len() >= 5, "{draws:?}");
    }
}
