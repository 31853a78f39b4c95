//! Members: developers who sign in with GitHub or X. Signing in (`sign_in.rs`), what a
//! signed-in member sees and decides on their page (`account.rs`), and their tokens, renewed
//! before they expire, for the use cases that ask on their behalf (`tokens.rs`).

mod account;
pub(super) mod answers;
pub(super) mod hidden;
mod sign_in;
pub(super) mod team;
mod tokens;

pub use account::Forgotten;
pub use sign_in::{Begun, Callback, SignInFailure, SignedIn};

use crate::domain::members::{Members, SignIn};
use crate::domain::{Clock, Network};
use std::sync::Arc;

/// How long a sign-in may take, from the redirect to the callback.
const SIGN_IN_TTL: chrono::Duration = chrono::Duration::minutes(10);

/// How long a member's browser session lasts.
const SESSION_TTL: chrono::Duration = chrono::Duration::days(30);

/// Tokens are renewed when they expire within this.
const RENEW_MARGIN: chrono::Duration = chrono::Duration::minutes(5);

/// Sign-in, the members' own page, and their tokens: the store and the providers it was
/// built with.
#[derive(Clone)]
pub struct Membership {
    members: Arc<dyn Members>,
    providers: Vec<Arc<dyn SignIn>>,
    clock: Arc<dyn Clock>,
    /// Held while a token is renewed: its refresh token works once, so two renewals of one
    /// token at once would make the second look revoked.
    renewing: Arc<tokio::sync::Mutex<()>>,
}

impl Membership {
    /// Members kept in `members`, signing in with `providers` (one a network).
    pub fn new(
        members: Arc<dyn Members>,
        providers: Vec<Arc<dyn SignIn>>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            members,
            providers,
            clock,
            renewing: Arc::default(),
        }
    }

    /// The networks members may sign in with.
    pub fn networks(&self) -> Vec<Network> {
        self.providers.iter().map(|p| p.network()).collect()
    }

    /// The provider for `network`, if sign-in there is on.
    fn provider(&self, network: Network) -> Option<&Arc<dyn SignIn>> {
        self.providers.iter().find(|p| p.network() == network)
    }
}

/// A random value for a browser or a provider to hand back: 43 characters of the URL-safe
/// alphabet, 256 bits.
fn random() -> Result<String, getrandom::Error> {
    const URL_SAFE: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    crate::domain::access::random_text(URL_SAFE, 43)
}
