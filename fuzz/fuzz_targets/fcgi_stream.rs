//! Fuzz target: see `xsendfiled::fuzzing::check_fcgi_stream` for the invariant.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| xsendfiled::fuzzing::check_fcgi_stream(data));
