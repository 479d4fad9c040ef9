//! The subcommands as the binary runs them: glue between the options and the library, and the
//! only place besides `main` where errors are `anyhow` values with context for a person.
pub mod check;
pub mod doctor;
pub mod revoke;
pub mod serve;
pub mod sign;
