//! Groups in a graph: the maximal sets in which every two are linked.

use std::collections::BTreeSet;

/// The maximal cliques of two or more among `n` nodes linked by `links`, each sorted, largest
/// first (then in node order), at most `limit` of them, and whether there were more (a graph
/// built to have exponentially many gets the first ones found, not a search that never
/// ends): Bron–Kerbosch with a pivot, which stays fast on the sparse graphs teams make.
pub fn maximal_cliques(
    n: usize,
    links: &[(usize, usize)],
    limit: usize,
) -> (Vec<Vec<usize>>, bool) {
    let mut adjacent: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); n];
    for &(a, b) in links {
        adjacent[a].insert(b);
        adjacent[b].insert(a);
    }
    let mut search = Search {
        adjacent,
        clique: Vec::new(),
        found: Vec::new(),
        limit,
    };
    search.extend((0..n).collect(), BTreeSet::new());
    let mut found = search.found;
    found.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    let more = found.len() > limit;
    found.truncate(limit);
    (found, more)
}

/// One Bron–Kerbosch search: the graph, the clique being grown, the cliques found.
struct Search {
    adjacent: Vec<BTreeSet<usize>>,
    clique: Vec<usize>,
    found: Vec<Vec<usize>>,
    limit: usize,
}

impl Search {
    /// Every maximal clique that extends the current one with some of `candidates` and none
    /// of `excluded`.
    fn extend(&mut self, mut candidates: BTreeSet<usize>, mut excluded: BTreeSet<usize>) {
        // One past the limit, to know that there were more.
        if self.found.len() > self.limit {
            return;
        }
        if candidates.is_empty() && excluded.is_empty() {
            if self.clique.len() >= 2 {
                let mut group = self.clique.clone();
                group.sort_unstable();
                self.found.push(group);
            }
            return;
        }
        let Some(pivot) = self.pivot(&candidates, &excluded) else {
            return;
        };
        let to_try: Vec<usize> = candidates
            .difference(&self.adjacent[pivot])
            .copied()
            .collect();
        for v in to_try {
            let next_candidates = candidates
                .intersection(&self.adjacent[v])
                .copied()
                .collect();
            let next_excluded = excluded.intersection(&self.adjacent[v]).copied().collect();
            self.clique.push(v);
            self.extend(next_candidates, next_excluded);
            self.clique.pop();
            candidates.remove(&v);
            excluded.insert(v);
        }
    }

    /// The node with the most neighbours among the candidates: its neighbours need not be
    /// tried first.
    fn pivot(&self, candidates: &BTreeSet<usize>, excluded: &BTreeSet<usize>) -> Option<usize> {
        candidates
            .union(excluded)
            .max_by_key(|&&u| self.adjacent[u].intersection(candidates).count())
            .copied()
    }
}

#[cfg(test)]
mod tests {
    use super::maximal_cliques;

    #[test]
    fn maximal_cliques_are_found_largest_first() {
        // 0-1-2 a triangle, 2-3 a pair, 4 alone, 5-6 a pair.
        let links = [(0, 1), (1, 2), (0, 2), (2, 3), (5, 6)];
        assert_eq!(
            maximal_cliques(7, &links, 1000),
            (vec![vec![0, 1, 2], vec![2, 3], vec![5, 6]], false)
        );
        assert!(maximal_cliques(3, &[], 1000).0.is_empty());
    }

    #[test]
    fn a_graph_with_too_many_groups_gives_the_first_thousand() {
        // Seven triples, each member linked to every member of the other triples but to none
        // of its own: 3^7 = 2,187 maximal groups.
        let n = 21;
        let links: Vec<(usize, usize)> = (0..n)
            .flat_map(|a| (a + 1..n).map(move |b| (a, b)))
            .filter(|(a, b)| a / 3 != b / 3)
            .collect();
        let (groups, more) = maximal_cliques(n, &links, 1000);
        assert_eq!((groups.len(), more), (1000, true));
    }

    #[test]
    fn a_complete_team_is_one_group() {
        let links: Vec<(usize, usize)> = (0..30)
            .flat_map(|a| (a + 1..30).map(move |b| (a, b)))
            .collect();
        assert_eq!(
            maximal_cliques(30, &links, 1000),
            (vec![(0..30).collect::<Vec<_>>()], false)
        );
    }
}
