//! Counting a client's engine requests, and the round trips it waited for one after another.
//!
//! The engine serves each request of a session on its own (each is an HTTP request to the
//! session's server, and one request's fields are resolved concurrently, upstream
//! `dagql/server.go`), so a client that sends two independent requests together waits for one
//! round trip, not two. What a call costs in latency is the longest chain of requests each sent
//! after the one before it was answered; what it costs the engine is the number of requests.
//! [`RoundTripMeter`] keeps both, for the mock engine's recorder and for the main job's count.

use std::sync::{Mutex, MutexGuard};

/// A request's place in a [`RoundTripMeter`], from [`RoundTripMeter::start`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestTicket {
    index: usize,
    generation: u64,
}

/// When a request was sent and answered, in ticks of the meter's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    start: u64,
    end: Option<u64>,
}

#[derive(Debug, Default)]
struct Spans {
    /// One tick per event (a request sent, a request answered).
    clock: u64,
    /// Bumped by [`RoundTripMeter::reset`], so a ticket from before a reset ends nothing.
    generation: u64,
    spans: Vec<Span>,
}

/// Counts requests and the round trips waited for one after another (requests in flight
/// together count once).
///
/// ```
/// use dagger_engine::RoundTripMeter;
/// let meter = RoundTripMeter::default();
/// let first = meter.start();
/// let beside = meter.start(); // sent before `first` was answered
/// meter.end(first);
/// meter.end(beside);
/// let next = meter.start();
/// meter.end(next);
/// assert_eq!(meter.requests(), 3);
/// assert_eq!(meter.sequential(), 2);
/// ```
#[derive(Debug, Default)]
pub struct RoundTripMeter {
    spans: Mutex<Spans>,
}

impl RoundTripMeter {
    /// Records a request as sent.
    pub fn start(&self) -> RequestTicket {
        let mut s = self.lock();
        s.clock += 1;
        let start = s.clock;
        s.spans.push(Span { start, end: None });
        RequestTicket {
            index: s.spans.len() - 1,
            generation: s.generation,
        }
    }

    /// Records the request of `ticket` as answered (a ticket from before a reset is ignored).
    pub fn end(&self, ticket: RequestTicket) {
        let mut s = self.lock();
        if ticket.generation != s.generation {
            return;
        }
        s.clock += 1;
        let end = s.clock;
        if let Some(span) = s.spans.get_mut(ticket.index) {
            span.end = Some(end);
        }
    }

    /// The requests sent.
    pub fn requests(&self) -> usize {
        self.lock().spans.len()
    }

    /// The round trips waited for one after another: the longest chain of requests each sent
    /// after the one before it was answered (a request never answered ends the chain).
    pub fn sequential(&self) -> usize {
        let s = self.lock();
        // Spans are in the order they started, so a request can only follow an earlier one.
        let mut depth: Vec<usize> = Vec::with_capacity(s.spans.len());
        for (i, span) in s.spans.iter().enumerate() {
            let before = s.spans[..i]
                .iter()
                .zip(&depth)
                .filter(|(earlier, _)| earlier.end.is_some_and(|end| end < span.start))
                .map(|(_, d)| *d)
                .max()
                .unwrap_or(0);
            depth.push(before + 1);
        }
        depth.into_iter().max().unwrap_or(0)
    }

    /// Forgets every request.
    pub fn reset(&self) {
        let mut s = self.lock();
        s.spans.clear();
        s.generation += 1;
    }

    fn lock(&self) -> MutexGuard<'_, Spans> {
        // Each operation leaves the spans consistent: a poisoned lock holds a usable list.
        self.spans.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequential_requests_each_count() {
        let meter = RoundTripMeter::default();
        for _ in 0..3 {
            let t = meter.start();
            meter.end(t);
        }
        assert_eq!((meter.requests(), meter.sequential()), (3, 3));
    }

    #[test]
    fn requests_in_flight_together_count_once() {
        let meter = RoundTripMeter::default();
        let read = meter.start();
        meter.end(read);
        // Two sent together; the second answered first.
        let a = meter.start();
        let b = meter.start();
        meter.end(b);
        meter.end(a);
        let push = meter.start();
        meter.end(push);
        assert_eq!((meter.requests(), meter.sequential()), (4, 3));
    }

    #[test]
    fn a_chain_through_overlapping_requests_is_the_longest_path() {
        let meter = RoundTripMeter::default();
        // a: [1, 4]; b: [2, 3]; c starts after b ended but while a is in flight: b -> c.
        let a = meter.start();
        let b = meter.start();
        meter.end(b);
        let c = meter.start();
        meter.end(a);
        meter.end(c);
        assert_eq!((meter.requests(), meter.sequential()), (3, 2));
    }

    #[test]
    fn reset_forgets_and_ignores_old_tickets() {
        let meter = RoundTripMeter::default();
        let old = meter.start();
        meter.reset();
        meter.end(old);
        assert_eq!((meter.requests(), meter.sequential()), (0, 0));
        let unanswered = meter.start();
        let _ = unanswered;
        assert_eq!((meter.requests(), meter.sequential()), (1, 1));
    }
}
