//! How values that several sections share are written: durations, values that may be left
//! empty, and secrets.

use crate::secret::Secret;
use clap::builder::TypedValueParser;
use clap::error::ErrorKind;
use clap::parser::ValueSource;
use std::ffi::OsStr;
use std::time::Duration;

/// Why a setting's value is refused, as clap prints it after the setting's name. clap prints
/// this text only, not the chain under it: the text says the parser's error's words too,
/// and the error is kept as the source.
#[derive(Debug, thiserror::Error)]
#[error("{said}")]
pub struct BadValue {
    said: String,
    #[source]
    cause: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl BadValue {
    /// Refused for what `said` says.
    pub fn new(said: impl Into<String>) -> Self {
        Self {
            said: said.into(),
            cause: None,
        }
    }

    /// Refused for what `said` says, because of `cause`.
    pub fn because(
        said: impl Into<String>,
        cause: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self {
            said: said.into(),
            cause: Some(Box::new(cause)),
        }
    }
}

/// Two refusals are the same when they say the same.
impl PartialEq for BadValue {
    fn eq(&self, other: &Self) -> bool {
        self.said == other.said
    }
}

/// A duration longer than zero, written as `500ms`, `2s`, `10m`.
///
/// # Errors
/// [`BadValue`] saying how to write one.
pub fn timeout(raw: &str) -> Result<Duration, BadValue> {
    let duration = humantime::parse_duration(raw)
        .map_err(|e| BadValue::because(format!("{e} (write 500ms, 2s, 1m, ...)"), e))?;
    if duration.is_zero() {
        return Err(BadValue::new("must be longer than zero"));
    }
    Ok(duration)
}

/// How long something is kept: a duration, or `0` for not at all.
///
/// # Errors
/// [`BadValue`] saying how to write one.
pub fn ttl(raw: &str) -> Result<Duration, BadValue> {
    if raw.trim() == "0" {
        return Ok(Duration::ZERO);
    }
    humantime::parse_duration(raw)
        .map_err(|e| BadValue::because(format!("{e} (write 0, 30s, 10m, ...)"), e))
}

/// A value read by `parse`, or none when empty, as `.env.example` leaves such a setting. Its
/// field is written `std::option::Option<T>` in full, with the default `""`: clap then hands
/// every value, an empty one too, to this parser, instead of taking an empty one for a `T`.
pub fn or_none_when_empty<T: 'static>(
    parse: fn(&str) -> Result<T, BadValue>,
) -> impl Fn(&str) -> Result<Option<T>, BadValue> + Clone + Send + Sync + 'static {
    move |raw| {
        if raw.trim().is_empty() {
            Ok(None)
        } else {
            parse(raw).map(Some)
        }
    }
}

/// Reads a secret from the environment (or `.env`) only, so that it appears in no process
/// listing or shell history: given as a flag, it is refused. An empty value is none.
#[derive(Debug, Clone, Copy)]
pub struct FromEnvironmentOnly;

impl TypedValueParser for FromEnvironmentOnly {
    type Value = Option<Secret>;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<Self::Value, clap::Error> {
        self.parse_ref_(cmd, arg, value, ValueSource::CommandLine)
    }

    fn parse_ref_(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
        source: ValueSource,
    ) -> Result<Self::Value, clap::Error> {
        let refuse = |why: &str| {
            let name = variable(arg);
            clap::Error::raw(ErrorKind::ValueValidation, format!("{name} {why}\n")).with_cmd(cmd)
        };
        if source == ValueSource::CommandLine {
            return Err(refuse(
                "is read from the environment (or .env) only, never from a flag",
            ));
        }
        let value = value.to_str().ok_or_else(|| refuse("is not valid UTF-8"))?;
        Ok((!value.trim().is_empty()).then(|| Secret::new(value)))
    }
}

/// The variable a setting is read from, to name it in a message that must not repeat its
/// value.
pub fn variable(arg: Option<&clap::Arg>) -> String {
    arg.and_then(clap::Arg::get_env).map_or_else(
        || "a setting".to_owned(),
        |name| name.to_string_lossy().into_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_written() {
        assert_eq!(timeout("1m 15s"), Ok(Duration::from_secs(75)));
        assert!(timeout("0").is_err());
        assert!(
            timeout("soon")
                .unwrap_err()
                .to_string()
                .contains("write 500ms")
        );
        assert_eq!(ttl("0"), Ok(Duration::ZERO));
        assert_eq!(ttl("10m"), Ok(Duration::from_secs(600)));
        assert!(
            ttl("later")
                .unwrap_err()
                .to_string()
                .contains("write 0, 30s")
        );
        let refused = timeout("soon").unwrap_err();
        assert!(std::error::Error::source(&refused).is_some());
    }

    #[test]
    fn an_empty_value_is_none() {
        let parse = or_none_when_empty(timeout);
        assert_eq!(parse(" "), Ok(None));
        assert_eq!(parse("2s"), Ok(Some(Duration::from_secs(2))));
        assert!(parse("0").is_err());
    }

    #[test]
    fn a_secret_is_taken_from_the_environment_and_refused_as_a_flag() {
        let cmd = clap::Command::new("connected");
        let arg = clap::Arg::new("github_token").env("GITHUB_TOKEN");
        let read = |value: &str, source| {
            FromEnvironmentOnly.parse_ref_(&cmd, Some(&arg), OsStr::new(value), source)
        };
        let token = read("ghp_s3cret", ValueSource::EnvVariable).unwrap();
        assert_eq!(token.unwrap().expose(), "ghp_s3cret");
        assert_eq!(read(" ", ValueSource::EnvVariable).unwrap(), None);
        assert_eq!(read("", ValueSource::DefaultValue).unwrap(), None);
        let refused = read("ghp_s3cret", ValueSource::CommandLine)
            .unwrap_err()
            .to_string();
        assert!(
            refused.contains("GITHUB_TOKEN is read from the environment"),
            "{refused}"
        );
        assert!(!refused.contains("s3cret"), "{refused}");
    }
}
