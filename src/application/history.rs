//! Reading a pair's history from the register.

use super::{CheckError, Connections};
use crate::domain::{HistoryPage, HistoryStream, Register};

impl Connections {
    /// The recorded verdicts for the pair that `page` selects, oldest first, read as they
    /// are consumed.
    ///
    /// # Errors
    /// `BadHandle` or `SameDeveloper`; the register's failures come in the stream.
    pub fn history(
        &self,
        dev1: &str,
        dev2: &str,
        page: HistoryPage,
    ) -> Result<HistoryStream, CheckError> {
        history(self.register.as_ref(), dev1, dev2, page)
    }
}

/// The recorded verdicts for the pair that `page` selects, oldest first, read as they are
/// consumed: reading needs the register only.
///
/// # Errors
/// `BadHandle` or `SameDeveloper`; the register's failures come in the stream.
pub fn history(
    register: &dyn Register,
    dev1: &str,
    dev2: &str,
    page: HistoryPage,
) -> Result<HistoryStream, CheckError> {
    let pair = Connections::pair(dev1, dev2)?;
    Ok(register.stream_history(&pair, page))
}
