//! How the log is written.

use clap::Args;

/// The log's settings (its filter is `RUST_LOG`, read by the log itself).
#[derive(Debug, Clone, Copy, Args)]
#[command(next_help_heading = "Logging")]
pub struct LogSettings {
    /// How the log is written: text, or json (one object a line: time, level, message,
    /// request id, route, status, latency, key, upstream calls, X users billed).
    #[arg(long = "log-format", env = "LOG_FORMAT", default_value_t = LogFormat::Text)]
    pub format: LogFormat,
}

/// How the log is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// Lines for people.
    #[default]
    Text,
    /// One JSON object a line, for collectors.
    Json,
}

impl std::str::FromStr for LogFormat {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        match raw.trim().to_lowercase().as_str() {
            "text" => Ok(Self::Text),
            "json" => Ok(Self::Json),
            _ => Err("use text or json".to_owned()),
        }
    }
}

impl std::fmt::Display for LogFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Text => "text",
            Self::Json => "json",
        })
    }
}
