//! What a caller is told of a failure, in the same words over HTTP and on the command line.
//! Internal detail (a register's own error, say) is left out: it is for the log.

use crate::application::{CheckError, NetworkError, UpstreamFailure};
use crate::domain::{PairError, RegisterError, TeamError};
use std::time::Duration;

/// Whole seconds to wait, at least one: a `Retry-After` of 0 invites a hot loop.
pub fn retry_after_secs(retry_after: Duration) -> u64 {
    let secs = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
    secs.max(1)
}

/// A failure as the caller is told it: one message per problem.
pub trait Public {
    fn public_messages(&self) -> Vec<String>;
}

/// The register could not take an answer.
pub const NOT_RECORDED: &str = "the register is unavailable; nothing was recorded, try again later";
/// The register could not be read.
pub const NOT_READ: &str = "the register is unavailable; nothing was read, try again later";

impl Public for PairError {
    fn public_messages(&self) -> Vec<String> {
        vec![self.to_string()]
    }
}

impl Public for TeamError {
    fn public_messages(&self) -> Vec<String> {
        vec![self.to_string()]
    }
}

impl Public for UpstreamFailure {
    fn public_messages(&self) -> Vec<String> {
        vec![match self {
            Self::RateLimited {
                network,
                retry_after,
            } => format!(
                "{network} rate limit exceeded; retry after {} s",
                retry_after_secs(*retry_after)
            ),
            Self::TimedOut(deadline) => format!(
                "the upstreams did not answer within {}; try again later",
                humantime::format_duration(*deadline)
            ),
            Self::OverBudget(overspend) => format!(
                "{overspend}; retry after {} s",
                retry_after_secs(overspend.retry_after)
            ),
            Self::Unavailable { .. } => self.to_string(),
        }]
    }
}

impl Public for CheckError {
    fn public_messages(&self) -> Vec<String> {
        match self {
            Self::MissingUsers(missing) => missing.iter().map(ToString::to_string).collect(),
            Self::Unreadable(unreadable) => vec![unreadable.to_string()],
            Self::Upstream(failure) => failure.public_messages(),
            Self::Register(_) => vec![NOT_RECORDED.to_owned()],
        }
    }
}

impl Public for NetworkError {
    fn public_messages(&self) -> Vec<String> {
        match self {
            Self::Upstream(failure) => failure.public_messages(),
            Self::Register(_) => vec![NOT_RECORDED.to_owned()],
        }
    }
}

/// A history that could not be read.
#[derive(Debug)]
pub struct Unread(pub RegisterError);

impl Public for Unread {
    fn public_messages(&self) -> Vec<String> {
        vec![NOT_READ.to_owned()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Network;

    #[test]
    fn retry_after_rounds_up_and_is_never_zero() {
        assert_eq!(retry_after_secs(Duration::from_millis(0)), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1500)), 2);
        assert_eq!(retry_after_secs(Duration::from_secs(30)), 30);
    }

    #[test]
    fn a_rate_limit_says_when_to_come_back_and_a_register_failure_says_nothing_of_itself() {
        let limited = CheckError::Upstream(UpstreamFailure::RateLimited {
            network: Network::GitHub,
            retry_after: Duration::from_millis(1500),
        });
        assert_eq!(
            limited.public_messages(),
            ["github rate limit exceeded; retry after 2 s"]
        );
        let register =
            NetworkError::Register(RegisterError::unavailable("password=hunter2 at db:5432"));
        assert_eq!(register.public_messages(), [NOT_RECORDED]);
        let unread = Unread(RegisterError::unavailable("disk I/O error"));
        assert_eq!(unread.public_messages(), [NOT_READ]);
    }
}
