//! The settings on the command line: every one on every command, from a flag, then the
//! environment, then a `.env` file, then its default (`crate::config` declares them).

use clap::Arg;

/// What every setting is on the command line: taken before or after the command's name,
/// its value never shown in help (it may be a secret), and its value named after its
/// variable, as in `--cache-ttl <CACHE_TTL>`.
pub(super) fn on_every_command(setting: Arg) -> Arg {
    let setting = setting.global(true).hide_env_values(true);
    match setting
        .get_env()
        .map(|name| name.to_string_lossy().into_owned())
    {
        Some(variable) => setting.value_name(variable),
        None => setting,
    }
}

#[cfg(test)]
mod tests;
