//! Organisation lists no real GitHub sends, for the tests and probes of a hostile upstream:
//! names megabytes long, a million names, names with NUL or other control characters. Each
//! is answered in GitHub's shape (a page of organisation objects, `Link` to the next page).

use serde_json::{Value, json};

/// What GitHub's fake answers for every user's organisations, instead of the graph's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostileOrgs {
    /// `pages` pages, each one organisation whose name is `bytes` long.
    HugeName { bytes: usize, pages: usize },
    /// `names` short names (`o0`, `o1`, …) spread evenly over `pages` pages.
    ManyNames { names: usize, pages: usize },
    /// These names, on one page.
    Names(Vec<String>),
}

impl HostileOrgs {
    /// Reads `huge`, `many`, `nul` or `control` (as the fake upstreams' command line gives
    /// it): ten pages of a 7 MiB name, a million names over ten pages, a name with a NUL,
    /// one with U+0001.
    pub fn named(name: &str) -> Option<Self> {
        Some(match name {
            "huge" => Self::HugeName {
                bytes: 7 * 1024 * 1024,
                pages: 10,
            },
            "many" => Self::ManyNames {
                names: 1_000_000,
                pages: 10,
            },
            "nul" => Self::Names(vec!["acme".to_owned(), "ac\u{0}me".to_owned()]),
            "control" => Self::Names(vec!["acme".to_owned(), "ac\u{1}me".to_owned()]),
            _ => return None,
        })
    }

    fn pages(&self) -> usize {
        match self {
            Self::HugeName { pages, .. } | Self::ManyNames { pages, .. } => (*pages).max(1),
            Self::Names(_) => 1,
        }
    }

    /// Page `page` (from 1) as GitHub's JSON, and whether another follows it.
    pub(crate) fn page(&self, page: usize) -> (String, bool) {
        let page = page.clamp(1, self.pages());
        let names: Vec<String> = match self {
            // Each page's name its own, so that nothing can tell the pages apart by content.
            Self::HugeName { bytes, .. } => {
                let mut name = format!("p{page}-");
                name.push_str(&"x".repeat(bytes.saturating_sub(name.len())));
                vec![name]
            }
            Self::ManyNames { names, pages } => {
                let per_page = names.div_ceil(*pages);
                let first = (page - 1) * per_page;
                (first..(first + per_page).min(*names))
                    .map(|i| format!("o{i}"))
                    .collect()
            }
            Self::Names(names) => names.clone(),
        };
        let objects: Vec<Value> = names
            .into_iter()
            .enumerate()
            .map(|(i, login)| json!({"login": login, "id": 9000 + i}))
            .collect();
        (
            serde_json::to_string(&objects).expect("JSON values serialise"),
            page < self.pages(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_million_names_come_in_pages_of_a_hundred_thousand() {
        let many = HostileOrgs::named("many").unwrap();
        let (first, more) = many.page(1);
        let page: Vec<Value> = serde_json::from_str(&first).unwrap();
        assert_eq!((page.len(), more), (100_000, true));
        assert_eq!(page[0]["login"], "o0");
        let (last, more) = many.page(10);
        let page: Vec<Value> = serde_json::from_str(&last).unwrap();
        assert_eq!((page.len(), more), (100_000, false));
        assert_eq!(page[99_999]["login"], "o999999");
    }

    #[test]
    fn a_huge_name_is_as_long_as_asked() {
        let (body, more) = HostileOrgs::HugeName {
            bytes: 1000,
            pages: 2,
        }
        .page(1);
        let page: Vec<Value> = serde_json::from_str(&body).unwrap();
        assert_eq!(page[0]["login"].as_str().unwrap().len(), 1000);
        assert!(more);
    }
}
