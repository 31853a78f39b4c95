//! A code host in memory.

use crate::domain::access::Caller;
use crate::domain::{CodeHost, CodeHostError, Handle, Network, Organisation};
use async_trait::async_trait;
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

/// A code host that knows who belongs to which organisations; anyone else is not found.
#[derive(Default)]
pub struct MemoryCodeHost {
    organisations: HashMap<String, Vec<Organisation>>,
    failures: HashMap<String, CodeHostError>,
    /// Handles that cannot be its users.
    refused: HashSet<String>,
    asked: Mutex<Vec<String>>,
}

impl MemoryCodeHost {
    /// `user` belongs to `organisations`.
    #[must_use]
    pub fn member(mut self, user: &str, organisations: &[&str]) -> Self {
        let organisations = Organisation::list(organisations).unwrap();
        self.organisations
            .insert(user.to_lowercase(), organisations);
        self
    }

    /// Asking about `user` fails with `error`.
    #[must_use]
    pub fn failing_for(mut self, user: &str, error: CodeHostError) -> Self {
        self.failures.insert(user.to_lowercase(), error);
        self
    }

    /// `user` cannot be one of its users: it is not asked about.
    #[must_use]
    pub fn refusing(mut self, user: &str) -> Self {
        self.refused.insert(user.to_lowercase());
        self
    }

    /// The users it was asked about, in the order asked.
    pub fn asked(&self) -> Vec<String> {
        self.asked.lock().unwrap().clone()
    }
}

#[async_trait]
impl CodeHost for MemoryCodeHost {
    fn accepts(&self, handle: &Handle) -> bool {
        !self.refused.contains(handle.key())
    }

    fn network(&self) -> Network {
        Network::GitHub
    }

    async fn organisations(
        &self,
        user: &Handle,
        _: &Caller,
    ) -> Result<Vec<Organisation>, CodeHostError> {
        self.asked.lock().unwrap().push(user.key().to_owned());
        if let Some(error) = self.failures.get(user.key()) {
            return Err(error.clone());
        }
        self.organisations
            .get(user.key())
            .cloned()
            .ok_or(CodeHostError::NotFound)
    }
}
