//! Fuzz target: the `address` properties of `blumeops_fuzz` on arbitrary bytes.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| blumeops_fuzz::address(data));
