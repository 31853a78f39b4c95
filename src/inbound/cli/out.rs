//! Standard output for the commands' answers. A reader that stops reading (`connected
//! openapi | head -1`) ends the command quietly, with the exit code it would have had: the
//! rest of the answer is not wanted. Any other failure to write is said on standard error.

use std::io::{self, Write as _};
use std::process::ExitCode;

/// Writes `text` to standard output, whole, and flushes it.
///
/// # Errors
/// The write's error; [`ended`] tells a reader gone from a real failure.
pub(super) fn print(text: &str) -> io::Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()
}

/// Prints `text` and a line end, then ends with `code` (see [`ended`]).
pub(super) fn answer(text: &str, code: ExitCode) -> ExitCode {
    ended(print(&format!("{text}\n")), code)
}

/// `code` when the answer was written, or when its reader went away (a closed pipe); else 3,
/// with why on standard error.
pub(super) fn ended(written: io::Result<()>, code: ExitCode) -> ExitCode {
    match written {
        Ok(()) => code,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => code,
        Err(e) => {
            eprintln!("error: cannot write the answer: {e}");
            ExitCode::from(3)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reader_gone_away_keeps_the_commands_exit_code_and_other_failures_do_not() {
        let gone = io::Error::from(io::ErrorKind::BrokenPipe);
        assert_eq!(ended(Err(gone), ExitCode::from(1)), ExitCode::from(1));
        assert_eq!(ended(Ok(()), ExitCode::SUCCESS), ExitCode::SUCCESS);
        let full = io::Error::from(io::ErrorKind::StorageFull);
        assert_eq!(ended(Err(full), ExitCode::SUCCESS), ExitCode::from(3));
    }
}
