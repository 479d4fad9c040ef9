//! Fuzz target: see `xsendfiled::fuzzing::check_key_ring` for the invariant.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| xsendfiled::fuzzing::check_key_ring(data));
