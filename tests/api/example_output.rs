//! The rules by which a documented example is compared with what the binary printed: a
//! ```console block is commands (`$ `, continued by a trailing `\`) each followed by its
//! output; what varies from run to run (times, request ids) is made the same on both sides,
//! and a line `...` stands for any lines.

/// A command of a ```console block and the output shown under it.
#[derive(Debug, PartialEq)]
pub(crate) struct Example {
    pub(crate) command: String,
    pub(crate) expected: String,
}

/// The examples of a block, in order; text before the first command is an error.
pub(crate) fn examples(block: &str) -> Result<Vec<Example>, String> {
    let mut all: Vec<Example> = Vec::new();
    let mut lines = block.lines();
    while let Some(line) = lines.next() {
        if let Some(command) = line.strip_prefix("$ ") {
            let mut command = command.to_owned();
            while command.ends_with('\\') {
                let Some(more) = lines.next() else { break };
                command.push('\n');
                command.push_str(more);
            }
            all.push(Example {
                command,
                expected: String::new(),
            });
        } else if let Some(example) = all.last_mut() {
            example.expected.push_str(line);
            example.expected.push('\n');
        } else {
            return Err(format!("a line before any `$ ` command: {line:?}"));
        }
    }
    Ok(all)
}

/// What stands for any lines in an expected output.
const ANY_LINES: &str = "...";

/// The lines of an output as compared: without trailing spaces or carriage returns, times
/// and request ids replaced by tokens, trailing blank lines dropped.
pub(crate) fn normalise(output: &str) -> Vec<String> {
    let mut lines: Vec<String> = output
        .lines()
        .map(|line| header(without_times(line.trim_end())))
        .collect();
    while lines.last().is_some_and(String::is_empty) {
        lines.pop();
    }
    lines
}

/// Whether the actual lines are the expected ones, where a line `...` matches any lines.
pub(crate) fn matches(expected: &[String], actual: &[String]) -> bool {
    match expected.split_first() {
        None => actual.is_empty(),
        Some((first, rest)) if first == ANY_LINES => {
            (0..=actual.len()).any(|skip| matches(rest, &actual[skip..]))
        }
        Some((first, rest)) => actual
            .split_first()
            .is_some_and(|(line, more)| line == first && matches(rest, more)),
    }
}

/// An HTTP header whose value changes on every answer, its value replaced.
fn header(line: String) -> String {
    for (name, token) in [("date: ", "<date>"), ("x-request-id: ", "<request id>")] {
        if line.to_ascii_lowercase().starts_with(name) {
            return format!("{name}{token}");
        }
    }
    line
}

/// The line with every RFC 3339 time (also with its colons percent-encoded, as in a URL)
/// replaced by `<time>`.
fn without_times(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(c) = rest.chars().next() {
        if let Some(len) = time_length(rest.as_bytes()) {
            out.push_str("<time>");
            rest = &rest[len..];
        } else {
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

/// Reads a time at the start of bytes, moving on only over what matched.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn literal(&mut self, text: &str) -> bool {
        let found = self.bytes[self.at..].starts_with(text.as_bytes());
        if found {
            self.at += text.len();
        }
        found
    }

    fn digits(&mut self, count: usize) -> Option<()> {
        let part = self.bytes.get(self.at..self.at + count)?;
        part.iter()
            .all(u8::is_ascii_digit)
            .then(|| self.at += count)
    }

    fn colon(&mut self) -> Option<()> {
        (self.literal(":") || self.literal("%3A")).then_some(())
    }

    fn expect(&mut self, text: &str) -> Option<()> {
        self.literal(text).then_some(())
    }
}

/// The length of the RFC 3339 time at the start of the bytes, if one is there.
fn time_length(bytes: &[u8]) -> Option<usize> {
    let mut c = Cursor { bytes, at: 0 };
    c.digits(4)?;
    c.expect("-")?;
    c.digits(2)?;
    c.expect("-")?;
    c.digits(2)?;
    c.expect("T")?;
    c.digits(2)?;
    c.colon()?;
    c.digits(2)?;
    c.colon()?;
    c.digits(2)?;
    if c.literal(".") {
        c.digits(1)?;
        while c.digits(1).is_some() {}
    }
    if !c.literal("Z") {
        if !(c.literal("+") || c.literal("-")) {
            return None;
        }
        c.digits(2)?;
        c.colon()?;
        c.digits(2)?;
    }
    Some(c.at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<String> {
        normalise(text)
    }

    #[test]
    fn a_block_is_commands_each_followed_by_its_output() {
        let block = "$ a one \\\n    --two\nout 1\n\nout 2\n\n$ b\n$ c\nlast\n";
        let all = examples(block).unwrap();
        assert_eq!(all.len(), 3);
        assert_eq!(all[0].command, "a one \\\n    --two");
        assert_eq!(lines(&all[0].expected), ["out 1", "", "out 2"]);
        assert_eq!(all[1].expected, "");
        assert_eq!(all[2].expected, "last\n");
        assert!(examples("stray\n$ a\n").is_err());
    }

    #[test]
    fn times_and_varying_headers_are_made_tokens() {
        let out = "2026-12-03T18:40:46.405Z  x  connected\r\n\
                   created 2026-12-03T18:40:46Z, until 2026-12-03T18:40:46+01:00 \n\
                   link: <?before=2026-12-03T18%3A40%3A58.038Z>\n\
                   date: Thu, 03 Dec 2026 18:40:57 GMT\n\
                   x-request-id: 3b4a0d69461d4b2a8ca3e5675bb1de8c\n\n\n";
        assert_eq!(
            lines(out),
            [
                "<time>  x  connected",
                "created <time>, until <time>",
                "link: <?before=<time>>",
                "date: <date>",
                "x-request-id: <request id>",
            ]
        );
        assert_eq!(
            lines("2026-12-03T18:40 and 2026-12-03T18:40:46"),
            ["2026-12-03T18:40 and 2026-12-03T18:40:46"]
        );
    }

    #[test]
    fn three_dots_match_any_lines_and_nothing_else_does() {
        let actual = lines("a\nb\nc\nd\n");
        assert!(matches(&lines("a\nb\nc\nd"), &actual));
        assert!(matches(&lines("a\n...\nd"), &actual));
        assert!(matches(&lines("...\nb\n...\n"), &actual));
        assert!(matches(&lines("a\n...\nb\nc\nd"), &actual));
        assert!(!matches(&lines("a\nb\nc"), &actual));
        assert!(!matches(&lines("a\n...\nc"), &actual));
        assert!(!matches(&lines("a\nB\nc\nd"), &actual));
        assert!(!matches(&lines("a\nb\nc\nd\ne"), &actual));
        assert!(matches(&lines(""), &lines("\n\n")));
    }
}
