//! Fuzz target: the `version_sha` properties of `blumeops_fuzz` on arbitrary bytes.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| blumeops_fuzz::version_sha(data));
