//! The page for people: when it asks before drawing a team's network.

use super::values::BadValue;
use clap::Args;

/// The page's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Args)]
#[command(next_help_heading = "Page")]
pub struct PageSettings {
    /// X users a team's quote may reach for the page to draw the network without asking;
    /// over it (or for more than 20 developers) the page shows the quote and asks the person
    /// to confirm first. The estimate's answer carries it (`confirm_above`).
    #[arg(long = "quote-confirm-x-users", env = "QUOTE_CONFIRM_X_USERS", default_value = "1000", value_parser = count)]
    pub quote_confirm_x_users: u64,
}

fn count(raw: &str) -> Result<u64, BadValue> {
    raw.trim().parse::<u64>().map_err(|e| {
        BadValue::because(
            format!(
                "{e} (write a count of X users such as 1000; 0 asks for every team that bills any)"
            ),
            e,
        )
    })
}
