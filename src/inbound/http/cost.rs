//! What a request made upstream, said in a response header (`Upstream-Cost`) and in the
//! request's log line, from the one tab the request ran up: so the header, the log and the
//! upstreams' own counts agree. The JSON contract of the answers is left as it is.

use crate::domain::Network;
use crate::domain::access::{Caller, Meter};
use axum::http::HeaderValue;
use std::fmt::Write as _;

/// The header's name.
pub const UPSTREAM_COST: &str = "upstream-cost";

/// `github-calls=2, x-calls=3, x-users=2, cached=no`: the calls made to each network (GitHub
/// and X always, any other when called), the X users billed, and whether the answer came
/// from the cache alone (no call made).
pub fn upstream_cost(caller: &Caller) -> String {
    let calls = caller.calls_by_network();
    let mut said = String::new();
    for network in [Network::GitHub, Network::X, Network::Bluesky] {
        let made = calls.get(&network).copied().unwrap_or(0);
        if made > 0 || network != Network::Bluesky {
            let _ = write!(said, "{}-calls={made}, ", network.id());
        }
    }
    let cached = if calls.values().sum::<u64>() == 0 {
        "yes"
    } else {
        "no"
    };
    let _ = write!(
        said,
        "x-users={}, cached={cached}",
        caller.usage().spent(Meter::X_USERS)
    );
    said
}

/// The header's value.
pub fn header(cost: &str) -> HeaderValue {
    HeaderValue::from_str(cost).unwrap_or_else(|_| HeaderValue::from_static("unknown"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cost_names_each_network_called_the_users_billed_and_the_cache() {
        let caller = Caller::anonymous();
        assert_eq!(
            upstream_cost(&caller),
            "github-calls=0, x-calls=0, x-users=0, cached=yes"
        );
        caller.called_upstream(Network::GitHub);
        caller.called_upstream(Network::GitHub);
        caller.called_upstream(Network::X);
        caller.bill(Meter::X_USERS, 2);
        assert_eq!(
            upstream_cost(&caller),
            "github-calls=2, x-calls=1, x-users=2, cached=no"
        );
        caller.called_upstream(Network::Bluesky);
        assert!(upstream_cost(&caller).contains("bluesky-calls=1, x-users=2"));
    }
}
