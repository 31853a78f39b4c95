//! Reading a pair's history from the register.

use super::UseCases;
use crate::domain::{HistoryPage, HistoryStream, Pair, Register};

impl UseCases {
    /// The recorded verdicts for the pair that `page` selects, oldest first, read as they
    /// are consumed; the register's failures come in the stream.
    pub fn history(&self, pair: &Pair, page: HistoryPage) -> HistoryStream {
        history(self.register.as_ref(), pair, page)
    }
}

/// The recorded verdicts for the pair that `page` selects, oldest first, read as they are
/// consumed (the register's failures come in the stream): reading needs the register only.
pub fn history(register: &dyn Register, pair: &Pair, page: HistoryPage) -> HistoryStream {
    register.stream_history(pair, page)
}
