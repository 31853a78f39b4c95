//! Developers of a demo graph to try: the handles a person can type knowing they exist.

use super::DemoGraph;
use crate::domain::shared_organisations;

/// Handles of a demo graph known to both networks, as its file spells them on X.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Examples {
    /// Two developers to check: a fully connected pair when the graph has one, else the
    /// first two; none when fewer than two developers are known to both networks.
    pub pair: Option<[String; 2]>,
    /// Developers to draw as a team: the first ones, in handle order.
    pub team: Vec<String>,
}

impl DemoGraph {
    /// Up to `team` developers to try, and a pair among those the graph knows on both
    /// networks.
    #[must_use]
    pub fn examples(&self, team: usize) -> Examples {
        let mut known: Vec<&str> = self
            .users
            .keys()
            .filter(|key| self.orgs.contains_key(*key))
            .map(String::as_str)
            .collect();
        known.sort_unstable();
        let spelt = |key: &str| self.users[key].username.clone();
        let pair = known
            .iter()
            .find_map(|&a| self.connected_to(a).map(|b| [spelt(a), spelt(&b)]))
            .or_else(|| match known.as_slice() {
                [a, b, ..] => Some([spelt(a), spelt(b)]),
                _ => None,
            });
        Examples {
            pair,
            team: known.iter().take(team).map(|key| spelt(key)).collect(),
        }
    }

    /// The first developer (by handle) fully connected to `key`, with follows that can be
    /// read: they follow each other and share an organisation.
    fn connected_to(&self, key: &str) -> Option<String> {
        let mut followed: Vec<&String> = self.following.get(key)?.iter().collect();
        followed.sort_unstable();
        followed
            .into_iter()
            .find(|other| {
                let readable = !(self.users[key].protected && self.users[other.as_str()].protected);
                let back = self
                    .following
                    .get(other.as_str())
                    .is_some_and(|f| f.contains(key));
                let shared = match (self.orgs.get(key), self.orgs.get(other.as_str())) {
                    (Some(mine), Some(theirs)) => !shared_organisations(mine, theirs).is_empty(),
                    _ => false,
                };
                readable && back && shared
            })
            .cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::{DemoGraph, Examples};

    #[test]
    fn the_bundled_graph_offers_a_connected_pair_and_a_team_it_knows() {
        let examples = DemoGraph::bundled().unwrap().examples(8);
        assert_eq!(examples.pair, Some(["alice".into(), "bob".into()]));
        assert_eq!(
            examples.team,
            ["alice", "bob", "carol", "dave", "erin", "heidi", "ivan"]
        );
    }

    #[test]
    fn only_developers_of_both_networks_are_offered_spelt_as_on_x() {
        let graph = DemoGraph::from_json(
            r#"{"github": {"users": {"zed": {"orgs": ["a"]}, "Amy": {"orgs": ["b"]}, "gh": {}, "Yan": {"orgs": ["a"]}}},
                "twitter": {"users": {"zed": {"following": ["yan"]}, "amy": {"following": ["zed"]}, "x": {},
                                      "YAN": {"following": ["zed"]}}}}"#,
        )
        .unwrap();
        assert_eq!(
            graph.examples(2),
            Examples {
                pair: Some(["YAN".into(), "zed".into()]),
                team: vec!["amy".into(), "YAN".into()],
            }
        );
        let lonely = DemoGraph::from_json(
            r#"{"github": {"users": {"a": {}, "b": {}}}, "twitter": {"users": {"a": {}, "b": {}}}}"#,
        )
        .unwrap();
        assert_eq!(
            lonely.examples(5).pair,
            Some(["a".into(), "b".into()]),
            "the first two"
        );
        let alone = DemoGraph::from_json(
            r#"{"github": {"users": {"a": {}}}, "twitter": {"users": {"a": {}}}}"#,
        );
        assert_eq!(alone.unwrap().examples(5).pair, None);
    }
}
