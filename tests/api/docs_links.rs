//! Every relative link in the project's Markdown resolves: to a file or folder that exists,
//! and, with a `#fragment`, to a heading of that Markdown file.

use crate::markdown::{anchors, headings, links, markdown_files, read, shown};
use std::path::Path;

/// Whether a link leaves the repository (checked by no one here).
fn external(target: &str) -> bool {
    ["http://", "https://", "mailto:"]
        .iter()
        .any(|scheme| target.starts_with(scheme))
}

/// What is wrong with the link `target` in the file `from`, if anything.
fn broken(from: &Path, target: &str) -> Option<String> {
    if external(target) {
        return None;
    }
    let (path, fragment) = target.split_once('#').unwrap_or((target, ""));
    let file = if path.is_empty() {
        from.to_owned()
    } else {
        from.parent().expect("a file has a folder").join(path)
    };
    if !file.exists() {
        return Some(format!("{target}: no such file"));
    }
    if fragment.is_empty() {
        return None;
    }
    if file.extension().is_none_or(|ext| ext != "md") {
        return Some(format!(
            "{target}: a fragment of a file that is not Markdown"
        ));
    }
    let text = read(&file);
    let known = anchors(headings(&text).iter().map(String::as_str));
    (!known.contains(fragment)).then(|| format!("{target}: no heading #{fragment} there"))
}

/// Every broken link of the file, with the file named.
fn broken_links(file: &Path) -> Vec<String> {
    links(&read(file))
        .iter()
        .filter_map(|target| broken(file, target))
        .map(|why| format!("{}: {why}", shown(file)))
        .collect()
}

#[test]
fn every_relative_link_of_the_documentation_resolves() {
    let files = markdown_files();
    assert!(files.len() >= 10, "{files:?}");
    let broken: Vec<String> = files.iter().flat_map(|file| broken_links(file)).collect();
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn a_missing_file_or_heading_is_reported_and_a_good_link_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let other = dir.path().join("other.md");
    std::fs::write(
        &other,
        "# Other page\n\n## Setup, step 1\n\n## Setup, step 1\n",
    )
    .unwrap();
    let page = dir.path().join("page.md");
    let text = "# Page\n\n[ok](other.md) [ok](other.md#setup-step-1-1) [ok](#page) \
                [ok](https://example.com/x#y) [bad](gone.md) [bad](other.md#setup) [bad](#nope)";
    std::fs::write(&page, text).unwrap();
    let reported = broken_links(&page);
    assert_eq!(reported.len(), 3, "{reported:?}");
    assert!(
        reported[0].ends_with("gone.md: no such file"),
        "{reported:?}"
    );
    assert!(
        reported[1].contains("no heading #setup there"),
        "{reported:?}"
    );
    assert!(reported[2].contains("#nope"), "{reported:?}");
}
