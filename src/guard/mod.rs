//! The policy.
pub mod decide;
pub mod map;
pub mod path;
pub mod percent;
pub mod policy;
pub mod resolve;
pub mod target;
pub mod token;
pub use policy::{Backend, Policy};
