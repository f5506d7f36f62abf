//! What the benchmarks share: the naive `dagger-sdk` baseline, the mock engine's fixtures and
//! the statistics printed in the tables.

// Each bench target uses a part of this module.
#![allow(dead_code)]

pub mod fixtures;
pub mod naive;
pub mod stats;
