//! The grant step of a limited-use link (`crate::state`): the state store's answer to the
//! decision's [`Ask`], or [`Grant::Unavailable`] when no `--state` is configured (503, failing
//! closed). The store bounds its own wait (`--state-timeout`) and counts the result.

use super::Shared;
use crate::guard::token::limit::{Ask, Grant};

/// Asks the state store of `shared` for `ask`.
pub(crate) async fn ask(shared: &Shared, ask: Ask) -> Grant {
    match &shared.state {
        Some(store) => store.grant(ask).await,
        None => Grant::Unavailable,
    }
}
