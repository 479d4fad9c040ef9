//! The in-memory tests: the library called directly, no process started and no server — the FastCGI
//! codec, the path and presentation tables, roots, signed-link formats, and the fuzz targets'
//! invariants. One binary (`cargo test --test tests`), one module per file beside this one; the
//! tests that start processes are in `e2e.rs`. Run one module with e.g.
//! `cargo test --test tests paths::`.

mod support;

mod fcgi_codec;
mod fuzz_properties;
mod layout;
mod legacy_tokens;
mod object_roots;
mod paths;
mod presentation;
mod roots;
mod tokens;
mod use_limits;
