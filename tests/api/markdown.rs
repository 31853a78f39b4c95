//! The project's Markdown, read as GitHub renders it (pulldown-cmark): which files there are,
//! their headings' anchors, their links and their ```console blocks.

use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

/// The folder of the repository.
pub(crate) const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The Markdown files at the top that must be there.
const TOP: [&str; 4] = [
    "README.md",
    "ARCHITECTURE.md",
    "CONTRIBUTING.md",
    "CHANGELOG.md",
];

/// Every Markdown file of the project: the ones at the top and all under `docs/`.
pub(crate) fn markdown_files() -> Vec<PathBuf> {
    let root = Path::new(ROOT);
    let mut files: Vec<PathBuf> = TOP.iter().map(|name| root.join(name)).collect();
    let mut folders = vec![root.join("docs")];
    while let Some(folder) = folders.pop() {
        let entries = std::fs::read_dir(&folder).unwrap_or_else(|e| panic!("{folder:?}: {e}"));
        for entry in entries {
            let path = entry.expect("a folder entry").path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|ext| ext == "md") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The text of a file, which must be there.
pub(crate) fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The path of a file from the repository's folder, to name it in a message.
pub(crate) fn shown(path: &Path) -> String {
    path.strip_prefix(ROOT)
        .unwrap_or(path)
        .display()
        .to_string()
}

fn parser(text: &str) -> Parser<'_> {
    Parser::new_ext(text, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH)
}

/// GitHub's anchor for a heading's text: lower case, every character but letters, digits,
/// `-`, `_` and spaces dropped, each space a `-`.
pub(crate) fn slug(heading: &str) -> String {
    heading
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | ' '))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The anchors of headings in this order: a slug met before gets `-1`, then `-2`, …
pub(crate) fn anchors<'a>(headings: impl IntoIterator<Item = &'a str>) -> BTreeSet<String> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut all = BTreeSet::new();
    for heading in headings {
        let base = slug(heading);
        let count = seen.entry(base.clone()).or_default();
        let anchor = match *count {
            0 => base,
            n => format!("{base}-{n}"),
        };
        *count += 1;
        all.insert(anchor);
    }
    all
}

/// The text of every heading, as rendered (code without its backticks, links as their text).
pub(crate) fn headings(text: &str) -> Vec<String> {
    let mut all = Vec::new();
    let mut current: Option<String> = None;
    for event in parser(text) {
        match event {
            Event::Start(Tag::Heading { .. }) => current = Some(String::new()),
            Event::End(TagEnd::Heading(_)) => all.extend(current.take()),
            Event::Text(part) | Event::Code(part) => {
                if let Some(heading) = current.as_mut() {
                    heading.push_str(&part);
                }
            }
            _ => {}
        }
    }
    all
}

/// Every link's and image's target.
pub(crate) fn links(text: &str) -> Vec<String> {
    parser(text)
        .filter_map(|event| match event {
            Event::Start(Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. }) => {
                Some(dest_url.into_string())
            }
            _ => None,
        })
        .collect()
}

/// The text of every fenced block whose language is `language`.
pub(crate) fn fenced_blocks(text: &str, language: &str) -> Vec<String> {
    let mut all = Vec::new();
    let mut current: Option<String> = None;
    for event in parser(text) {
        match event {
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info))) => {
                let tag = info.split_whitespace().next().unwrap_or_default();
                current = (tag == language).then(String::new);
            }
            Event::End(TagEnd::CodeBlock) => all.extend(current.take()),
            Event::Text(part) => {
                if let Some(block) = current.as_mut() {
                    block.push_str(&part);
                }
            }
            _ => {}
        }
    }
    all
}

#[test]
fn a_slug_is_lower_case_without_punctuation_and_with_dashes_for_spaces() {
    assert_eq!(slug("The REST API"), "the-rest-api");
    assert_eq!(
        slug("Members: signing in with GitHub and X"),
        "members-signing-in-with-github-and-x"
    );
    assert_eq!(
        slug("GET /connected/realtime/{dev1}/{dev2}"),
        "get-connectedrealtimedev1dev2"
    );
    assert_eq!(
        slug("snake_case and-dash, (kept)"),
        "snake_case-and-dash-kept"
    );
    assert_eq!(slug("two  spaces"), "two--spaces");
    assert_eq!(slug("Déjà vu"), "déjà-vu");
}

#[test]
fn a_repeated_heading_gets_a_number() {
    let all = anchors(["Usage", "Usage", "Other", "usage"]);
    let expected: BTreeSet<String> = ["usage", "usage-1", "other", "usage-2"]
        .map(String::from)
        .into();
    assert_eq!(all, expected);
}

#[test]
fn headings_are_read_as_rendered() {
    let text = "# A `code` title\n\nSome text.\n\n## [A link](x.md) here\n\n```\n# not one\n```\n";
    assert_eq!(headings(text), ["A code title", "A link here"]);
}

#[test]
fn links_and_images_are_found_but_not_in_code() {
    let text =
        "See [a](docs/a.md#x) and ![b](b.png).\n\n`[c](c.md)`\n\n| t |\n|---|\n| [d](#d) |\n";
    assert_eq!(links(text), ["docs/a.md#x", "b.png", "#d"]);
}

#[test]
fn only_blocks_of_the_language_asked_are_read() {
    let text = "```console\n$ a\nb\n```\n\n```sh\n$ c\n```\n\n```console title\n$ d\n```\n";
    assert_eq!(fenced_blocks(text, "console"), ["$ a\nb\n", "$ d\n"]);
}
