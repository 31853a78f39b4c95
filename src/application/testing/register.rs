//! A register in memory.

use crate::domain::{
    Grounds, HistoryPage, HistoryStream, Network, Pair, PairVerdict, Register, RegisterError,
    RegisteredCheck, Verdict,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use std::sync::Mutex;
use std::time::Duration;

/// A verdict as the [`MemoryRegister`] keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// The pair's canonical key.
    pub pair: (String, String),
    pub verdict: Verdict,
    /// What it rested on.
    pub grounds: Grounds,
    pub at: DateTime<Utc>,
}

/// A register in memory, that may fail every call or take its time writing.
#[derive(Default)]
pub struct MemoryRegister {
    recorded: Mutex<Vec<Recorded>>,
    failure: Option<RegisterError>,
    delay: Option<Duration>,
}

impl MemoryRegister {
    /// Every call fails with `error`.
    #[must_use]
    pub fn failing(mut self, error: RegisterError) -> Self {
        self.failure = Some(error);
        self
    }

    /// Each write takes `delay`.
    #[must_use]
    pub fn slow(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }

    /// Every verdict kept, in the order recorded.
    pub fn recorded(&self) -> Vec<Recorded> {
        self.recorded.lock().unwrap().clone()
    }

    /// The failure it was told to give, after the time a write takes.
    async fn write(&self) -> Result<(), RegisterError> {
        if let Some(delay) = self.delay {
            tokio::time::sleep(delay).await;
        }
        self.failure.clone().map_or(Ok(()), Err)
    }
}

fn recorded(pair: &Pair, verdict: &Verdict, grounds: Grounds, at: DateTime<Utc>) -> Recorded {
    let (a, b) = pair.key();
    Recorded {
        pair: (a.to_owned(), b.to_owned()),
        verdict: verdict.clone(),
        grounds,
        at,
    }
}

#[async_trait]
impl Register for MemoryRegister {
    async fn record(
        &self,
        pair: &Pair,
        verdict: &Verdict,
        grounds: Grounds,
        at: DateTime<Utc>,
    ) -> Result<RegisteredCheck, RegisterError> {
        self.write().await?;
        self.recorded
            .lock()
            .unwrap()
            .push(recorded(pair, verdict, grounds, at));
        Ok(RegisteredCheck::new(verdict.clone(), grounds, at))
    }

    async fn record_all(
        &self,
        verdicts: &[PairVerdict],
        social_graph: Network,
        at: DateTime<Utc>,
    ) -> Result<(), RegisterError> {
        self.write().await?;
        let mut kept = self.recorded.lock().unwrap();
        kept.extend(
            verdicts
                .iter()
                .map(|each| recorded(&each.pair, &each.verdict, each.grounds(social_graph), at)),
        );
        Ok(())
    }

    fn stream_history(&self, pair: &Pair, _: HistoryPage) -> HistoryStream {
        let (a, b) = pair.key();
        let history: Vec<Result<RegisteredCheck, RegisterError>> = match &self.failure {
            Some(error) => vec![Err(error.clone())],
            None => self
                .recorded()
                .into_iter()
                .filter(|kept| kept.pair == (a.to_owned(), b.to_owned()))
                .map(|kept| Ok(RegisteredCheck::new(kept.verdict, kept.grounds, kept.at)))
                .collect(),
        };
        futures::stream::iter(history).boxed()
    }

    async fn ping(&self) -> Result<(), RegisterError> {
        self.failure.clone().map_or(Ok(()), Err)
    }
}
