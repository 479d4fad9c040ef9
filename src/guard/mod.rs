//! The policy.
pub mod decide;
pub mod map;
pub mod path;
pub(crate) mod percent;
pub mod policy;
pub mod resolve;
pub(crate) mod target;
pub mod token;
pub use policy::{Backend, Policy};
