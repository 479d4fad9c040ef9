//! The guard: pure policy. From a [`crate::protocol::request::Request`] and the [`Policy`] it
//! decides which file, under which root, may be sent ([`decide`]), or why not.
//!
//! Invariants: no I/O but the confined open of the file itself (`resolve`); nothing here imports
//! the configuration, the reply or the shells; every refusal carries its reason.
pub mod decide;
pub mod map;
pub mod path;
pub(crate) mod percent;
pub mod policy;
pub mod resolve;
pub(crate) mod target;
pub mod token;
pub use policy::{Backend, Policy};
