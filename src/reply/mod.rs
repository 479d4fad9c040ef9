//! The reply.
pub mod disposition;
pub(crate) mod presentation;
pub mod response;
pub(crate) mod serve;
pub mod validators;
