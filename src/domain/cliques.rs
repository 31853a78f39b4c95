//! Groups in a graph: the maximal sets in which every two are linked.

/// The maximal cliques of two or more among `n` nodes linked by `links`, each sorted, largest
/// first (then in node order), at most `limit` of them, and whether there were more (a graph
/// built to have exponentially many gets the first ones found, not a search that never
/// ends): Bron–Kerbosch with a pivot, which stays fast on the sparse graphs teams make.
pub fn maximal_cliques(
    n: usize,
    links: &[(usize, usize)],
    limit: usize,
) -> (Vec<Vec<usize>>, bool) {
    use std::collections::BTreeSet;
    let mut adjacent: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); n];
    for &(a, b) in links {
        adjacent[a].insert(b);
        adjacent[b].insert(a);
    }
    fn extend(
        adjacent: &[BTreeSet<usize>],
        clique: &mut Vec<usize>,
        mut candidates: BTreeSet<usize>,
        mut excluded: BTreeSet<usize>,
        found: &mut Vec<Vec<usize>>,
        limit: usize,
    ) {
        // One past the limit, to know that there were more.
        if found.len() > limit {
            return;
        }
        if candidates.is_empty() && excluded.is_empty() {
            if clique.len() >= 2 {
                let mut group = clique.clone();
                group.sort_unstable();
                found.push(group);
            }
            return;
        }
        let pivot = candidates
            .union(&excluded)
            .max_by_key(|&&u| adjacent[u].intersection(&candidates).count())
            .copied();
        let Some(pivot) = pivot else { return };
        let to_try: Vec<usize> = candidates.difference(&adjacent[pivot]).copied().collect();
        for v in to_try {
            clique.push(v);
            extend(
                adjacent,
                clique,
                candidates.intersection(&adjacent[v]).copied().collect(),
                excluded.intersection(&adjacent[v]).copied().collect(),
                found,
                limit,
            );
            clique.pop();
            candidates.remove(&v);
            excluded.insert(v);
        }
    }
    let mut found = Vec::new();
    extend(
        &adjacent,
        &mut Vec::new(),
        (0..n).collect(),
        BTreeSet::new(),
        &mut found,
        limit,
    );
    found.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    let more = found.len() > limit;
    found.truncate(limit);
    (found, more)
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
