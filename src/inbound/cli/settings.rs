//! The settings on the command line: each command takes the sections of them it reads
//! (`args.rs`), each from a flag, then the environment, then a `.env` file, then its default
//! (`crate::config` declares them).

use clap::Arg;

/// What every option of a command that takes settings is on the command line: taken after
/// the command's name, or a subcommand's (`keys create NAME --database-url …`), its value
/// never shown in help (it may be a secret), and its value named after its variable, as in
/// `--cache-ttl <CACHE_TTL>`. Positional arguments are left as they are.
pub(super) fn as_setting(setting: Arg) -> Arg {
    if setting.is_positional() {
        return setting;
    }
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
