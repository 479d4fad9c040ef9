//! `check --show-config`: every option of `serve` with its effective value and where it came from
//! (its default, the configuration file with the line, the environment variable, the command
//! line), in declaration order. Values are escaped like the rest of the report; secrets were
//! already replaced by `(hidden)` when the layers were read.

use super::esc;
use crate::config::layers::{Origin, Setting};
use std::fmt::Write;

/// The table of effective options.
pub(crate) fn show_config(settings: &[Setting]) -> String {
    let width = settings.iter().map(|s| s.key.len()).max().unwrap_or(0);
    let mut s = String::from("effective options (file < environment < command line):\n");
    for setting in settings {
        let value = if setting.value.is_empty() { "(unset)".to_owned() } else { esc(&setting.value) };
        let origin = match &setting.origin {
            Origin::Default => "default".to_owned(),
            Origin::Unset => String::new(),
            Origin::File(at) => format!("file {}", esc(at)),
            Origin::Env(var) => format!("env {var}"),
            Origin::Flag => "flag".to_owned(),
        };
        let line = format!("  {:width$}  {value:40} {origin}", setting.key);
        let _ = writeln!(s, "{}", line.trim_end());
    }
    s
}
