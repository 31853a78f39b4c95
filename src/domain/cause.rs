//! What made a port fail, as its adapter saw it: kept beside the words a caller is told, for
//! the log. Opaque, so that the domain names no technology (no `sqlx::Error` here).

use std::error::Error;
use std::fmt;
use std::sync::Arc;

/// An adapter's own error behind a port's failure: its text and its chain (`source`) are
/// for the log; what a caller is told is the port error's reason.
#[derive(Clone)]
pub struct Cause(Arc<dyn Error + Send + Sync + 'static>);

impl Cause {
    pub fn new(error: impl Error + Send + Sync + 'static) -> Self {
        Self(Arc::new(error))
    }
}

impl fmt::Debug for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.0, f)
    }
}

/// The cause stands in for the adapter's error: its source is that error's source.
impl Error for Cause {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.0.source()
    }
}

/// Two failures are the same when they say the same: causes compare by their text.
impl PartialEq for Cause {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.0.to_string() == other.0.to_string()
    }
}

impl Eq for Cause {}

/// A port could not do what was asked: `reason` says what happened in words a person
/// understands (never a secret), and is all it says; `cause`, when there is one, is the
/// adapter's own error, kept for the log and never told. Every port error's "unavailable"
/// is one of these.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct Unavailable {
    reason: String,
    #[source]
    cause: Option<Cause>,
}

impl Unavailable {
    /// Unavailable for `reason`, with no error underneath.
    pub fn new(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
            cause: None,
        }
    }

    /// Unavailable for `reason`, because of `cause` (kept for the log, never told).
    pub fn because(reason: impl Into<String>, cause: impl Error + Send + Sync + 'static) -> Self {
        Self {
            reason: reason.into(),
            cause: Some(Cause::new(cause)),
        }
    }

    /// What a person is told.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

/// A failure and every cause under it, in one line joined by ": ", for the log. A cause whose
/// words were said already (an error that repeats its source's) is not said again.
pub struct Chain<'a>(pub &'a (dyn Error + 'static));

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&joined(self.0, |_| false))
    }
}

/// A failure and its causes as a person is told them: the chain up to the first [`Cause`],
/// whose words are for the log (the port's reason already said them to a person).
pub struct Told<'a>(pub &'a (dyn Error + 'static));

impl fmt::Display for Told<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&joined(self.0, |cause| cause.is::<Cause>()))
    }
}

/// `error`'s words and its causes', up to one that `stop` says not to tell.
fn joined(error: &(dyn Error + 'static), stop: impl Fn(&(dyn Error + 'static)) -> bool) -> String {
    let mut text = error.to_string();
    let mut next = error.source();
    while let Some(cause) = next {
        if stop(cause) {
            break;
        }
        let said = cause.to_string();
        if !text.contains(&said) {
            text.push_str(": ");
            text.push_str(&said);
        }
        next = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("cannot write")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn a_cause_says_what_its_error_says_and_passes_its_chain_on() {
        let cause = Cause::new(Outer(std::io::Error::other("disk full")));
        assert_eq!(cause.to_string(), "cannot write");
        assert!(cause.source().is_some_and(|s| s.to_string() == "disk full"));
        assert_eq!(cause.clone(), cause);
        assert_ne!(cause, Cause::new(std::io::Error::other("disk full")));
    }

    #[derive(Debug, thiserror::Error)]
    #[error("the store is unavailable: no space left")]
    struct Port(#[source] Cause);

    #[derive(Debug, thiserror::Error)]
    #[error("the store is unavailable: {0}")]
    struct Store(#[source] Unavailable);

    #[test]
    fn the_log_reads_the_whole_chain_and_a_person_the_words_before_the_cause() {
        let cause = || Outer(std::io::Error::other("disk full"));
        let port = Port(Cause::new(cause()));
        let store = Store(Unavailable::because("no space left", cause()));
        for failure in [&port as &(dyn Error + 'static), &store] {
            assert_eq!(
                Chain(failure).to_string(),
                "the store is unavailable: no space left: cannot write: disk full"
            );
            assert_eq!(
                Told(failure).to_string(),
                "the store is unavailable: no space left"
            );
        }
    }

    #[test]
    fn an_unavailable_says_its_reason_alone_and_keeps_its_cause_for_the_log() {
        let unavailable =
            Unavailable::because("no space left", Outer(std::io::Error::other("disk full")));
        assert_eq!(unavailable.to_string(), "no space left");
        assert_eq!(unavailable.reason(), "no space left");
        assert!(
            unavailable
                .source()
                .is_some_and(|cause| cause.is::<Cause>())
        );
        assert!(Unavailable::new("no space left").source().is_none());
    }

    #[test]
    fn a_cause_said_already_is_not_said_again() {
        #[derive(Debug, thiserror::Error)]
        #[error("cannot write: {0}")]
        struct Repeats(#[source] std::io::Error);
        let failure = Repeats(std::io::Error::other("disk full"));
        assert_eq!(Chain(&failure).to_string(), "cannot write: disk full");
    }
}
