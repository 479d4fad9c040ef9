//! `--user`, `--group`, `--socket-owner`, `--socket-group`: names and numbers resolved to ids once,
//! at start-up, while the account database is still readable.

use super::cli::ServeArgs;
use super::ConfigError;

/// Who owns a Unix socket we create, and whom the daemon runs as once it has bound its socket and
/// opened its files. Names are resolved once, here.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Accounts {
    /// `--socket-owner USER`: the socket's owner.
    pub(crate) socket_uid: Option<u32>,
    /// `--socket-owner USER:GROUP` or `--socket-group GROUP`: the socket's group.
    pub(crate) socket_gid: Option<u32>,
    /// `--user`/`--group`.
    pub(crate) run_as: Option<RunAs>,
}

/// The user and groups to become after start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RunAs {
    /// The name given (or the numeric id), for messages.
    pub(crate) user: String,
    /// User id.
    pub(crate) uid: u32,
    /// Primary group id.
    pub(crate) gid: u32,
    /// Supplementary groups (the user's, from the group database; `gid` included).
    pub(crate) groups: Vec<u32>,
}

/// Resolves `--socket-owner`, `--socket-group`, `--user` and `--group`.
pub(super) fn accounts(args: &ServeArgs) -> Result<Accounts, ConfigError> {
    let bad = |option: &'static str, why: String| ConfigError::Account { option, why };
    let mut out = Accounts::default();
    if args.socket_owner.is_some() || args.socket_group.is_some() {
        let option = if args.socket_owner.is_some() { "--socket-owner" } else { "--socket-group" };
        if !args.listen.as_deref().is_some_and(|l| l.starts_with("unix:")) && args.app_socket.is_none() {
            return Err(bad(
                option,
                "applies to a socket xsendfiled creates: --listen unix:PATH or --app-socket PATH".to_owned(),
            ));
        }
    }
    if let Some(v) = &args.socket_owner {
        let (user, group) = match v.split_once(':') {
            Some((u, g)) => (u, Some(g)),
            None => (v.as_str(), None),
        };
        out.socket_uid = Some(user_id("--socket-owner", user)?.0);
        out.socket_gid = group.map(|g| group_id("--socket-owner", g)).transpose()?;
    }
    if let Some(g) = &args.socket_group {
        if out.socket_gid.is_some() {
            return Err(bad(
                "--socket-group",
                "--socket-owner USER:GROUP already names the group; give it once".into(),
            ));
        }
        out.socket_gid = Some(group_id("--socket-group", g)?);
    }
    out.run_as = match (&args.user, &args.group) {
        (None, None) => None,
        (None, Some(_)) => return Err(bad("--group", "needs --user USER, the user to run as".into())),
        (Some(user), group) => {
            let (uid, entry) = user_id("--user", user)?;
            if uid == 0 {
                return Err(bad("--user", format!("{user:?} is root: name the unprivileged user to run as")));
            }
            let gid = match (group, &entry) {
                (Some(g), _) => group_id("--group", g)?,
                (None, Some(e)) => e.gid,
                (None, None) => {
                    return Err(bad("--user", format!("uid {uid} is not in the password database: add --group GROUP")));
                }
            };
            let groups = match &entry {
                Some(e) => crate::sys::group_list(&e.name, gid)
                    .map_err(|err| bad("--user", format!("{user:?}: cannot read its groups: {err}")))?,
                None => vec![gid],
            };
            Some(RunAs { user: user.clone(), uid, gid, groups })
        }
    };
    Ok(out)
}

/// A user given by name or numeric id: its uid, and its entry when the database has one.
pub(super) fn user_id(option: &'static str, value: &str) -> Result<(u32, Option<crate::sys::UserEntry>), ConfigError> {
    let bad = |why: String| ConfigError::Account { option, why };
    if value.is_empty() {
        return Err(bad("expected a user name or numeric id".into()));
    }
    let found = match value.parse::<u32>() {
        // (uid_t)-1 means "unchanged" to chown and setreuid: never an id.
        Ok(u32::MAX) => return Err(bad(format!("{value} is not a valid user id"))),
        Ok(uid) => crate::sys::user_by_id(uid).map(|e| Some((uid, e))),
        Err(_) => crate::sys::user_by_name(value).map(|e| e.map(|e| (e.uid, Some(e)))),
    };
    match found {
        Ok(Some(found)) => Ok(found),
        Ok(None) => Err(bad(format!("no user named {value:?} in the password database"))),
        Err(e) => Err(bad(format!("{value:?}: cannot read the password database: {e}"))),
    }
}

/// A group given by name or numeric id: its gid.
pub(super) fn group_id(option: &'static str, value: &str) -> Result<u32, ConfigError> {
    let bad = |why: String| ConfigError::Account { option, why };
    match value.parse::<u32>() {
        Ok(u32::MAX) => return Err(bad(format!("{value} is not a valid group id"))),
        Ok(gid) => return Ok(gid),
        Err(_) => {}
    }
    if value.is_empty() {
        return Err(bad("expected a group name or numeric id".into()));
    }
    match crate::sys::group_by_name(value) {
        Ok(Some(g)) => Ok(g.gid),
        Ok(None) => Err(bad(format!("no group named {value:?} in the group database"))),
        Err(e) => Err(bad(format!("{value:?}: cannot read the group database: {e}"))),
    }
}
