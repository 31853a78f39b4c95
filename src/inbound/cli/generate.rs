//! `connected completions SHELL` and `connected man`: the shell's completions and a man page,
//! from the same definitions as the command line itself.

use super::{Cli, out};
use clap::CommandFactory as _;
use clap_complete::Shell;
use std::process::ExitCode;

/// Prints `shell`'s completion script for every command and flag.
pub(super) fn completions(shell: Shell) -> ExitCode {
    let mut command = Cli::command();
    let name = command.get_name().to_owned();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, name, &mut script);
    out::ended(
        out::print(&String::from_utf8_lossy(&script)),
        ExitCode::SUCCESS,
    )
}

/// Prints the man page (roff), its commands listed in it.
pub(super) fn man() -> ExitCode {
    let mut page = Vec::new();
    match clap_mangen::Man::new(Cli::command()).render(&mut page) {
        Ok(()) => out::ended(
            out::print(&String::from_utf8_lossy(&page)),
            ExitCode::SUCCESS,
        ),
        Err(e) => {
            eprintln!("error: cannot write the man page: {e}");
            ExitCode::from(3)
        }
    }
}
