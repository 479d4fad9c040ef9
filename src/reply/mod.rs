//! The reply.
pub mod disposition;
pub mod presentation;
pub mod response;
pub mod serve;
pub mod validators;
