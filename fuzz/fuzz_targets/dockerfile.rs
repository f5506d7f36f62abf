//! Fuzz target: the `dockerfile` properties of `blumeops_fuzz` on arbitrary bytes.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| blumeops_fuzz::dockerfile(data));
