//! Subcommands.
pub mod check;
