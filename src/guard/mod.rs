//! The guard: pure policy. From a [`crate::protocol::request::Request`] and the [`Policy`] it
//! decides which file, under which root, may be sent ([`decide`]), or why not.
//!
//! Invariants: no I/O but the store's confined lookup of the file itself ([`store`]); nothing here
//! imports the configuration, the reply or the shells; every refusal carries its reason; each step
//! of the decision can be traced (`trace`), at no cost when nobody listens.
pub mod decide;
pub mod map;
pub mod path;
pub(crate) mod percent;
pub mod policy;
pub mod store;
pub(crate) mod target;
pub mod token;
pub(crate) mod trace;
pub use policy::{Backend, Policy};
