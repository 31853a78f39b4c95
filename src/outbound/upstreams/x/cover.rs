//! The cheapest follow lists that settle a set of directions. Each direction "A follows B" is
//! settled by A's `following` (costing A's following count) or B's `followers` (B's
//! followers count); the cheapest set of lists that settles them all is a minimum-weight
//! vertex cover of the bipartite graph with `following` lists on one side, `followers` lists
//! on the other and one edge per direction. König's theorem makes it a minimum cut: source
//! to each `following` list (its size), each direction from its `following` list to its
//! `followers` list (unbounded), each `followers` list to the sink (its size). Solved by
//! petgraph's Dinic.

use super::plan::List;
use crate::domain::SocialUser;
use petgraph::algo::dinics;
use petgraph::graph::{Graph, NodeIndex};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// What a list of unknown size counts as: longer than any real one, short of overflowing a
/// sum of a thousand of them.
const UNKNOWN_SIZE: u64 = 1 << 40;

/// The lists to read, (owner, kind), so that every one of `directions` (follower,
/// followee) is told by one of them, at the least total size.
pub(super) fn cheapest_lists(
    users: &[SocialUser],
    directions: &[(usize, usize)],
) -> BTreeSet<(usize, List)> {
    if directions.is_empty() {
        return BTreeSet::new();
    }
    let size = |owner: usize, list: List| list.size(&users[owner]).unwrap_or(UNKNOWN_SIZE);
    let mut graph = Graph::<(), u64>::new();
    let (source, sink) = (graph.add_node(()), graph.add_node(()));
    let mut nodes: BTreeMap<(usize, List), NodeIndex> = BTreeMap::new();
    let mut total: u64 = 1;
    for &(follower, followee) in directions {
        for (owner, list) in [(follower, List::Following), (followee, List::Followers)] {
            nodes.entry((owner, list)).or_insert_with(|| {
                let node = graph.add_node(());
                let weight = size(owner, list);
                total = total.saturating_add(weight);
                match list {
                    List::Following => graph.add_edge(source, node, weight),
                    List::Followers => graph.add_edge(node, sink, weight),
                };
                node
            });
        }
    }
    for &(follower, followee) in directions {
        let (from, to) = (
            nodes[&(follower, List::Following)],
            nodes[&(followee, List::Followers)],
        );
        graph.add_edge(from, to, total);
    }
    let (_, flows) = dinics(&graph, source, sink);
    let reachable = residual_reach(&graph, &flows, source);
    nodes
        .into_iter()
        .filter(|&((_, list), node)| match list {
            // A `following` list cut from the source, a `followers` list still reached.
            List::Following => !reachable[node.index()],
            List::Followers => reachable[node.index()],
        })
        .map(|(list, _)| list)
        .collect()
}

/// Which nodes the source still reaches in the residual graph of `flows` (indexed as the
/// graph's edges): along an edge with room left, or back along one that carries flow.
fn residual_reach(graph: &Graph<(), u64>, flows: &[u64], source: NodeIndex) -> Vec<bool> {
    let mut next: Vec<Vec<usize>> = vec![Vec::new(); graph.node_count()];
    for (edge, flow) in graph.raw_edges().iter().zip(flows) {
        let (from, to) = (edge.source().index(), edge.target().index());
        if *flow < edge.weight {
            next[from].push(to);
        }
        if *flow > 0 {
            next[to].push(from);
        }
    }
    let mut reached = vec![false; graph.node_count()];
    reached[source.index()] = true;
    let mut queue = VecDeque::from([source.index()]);
    while let Some(node) = queue.pop_front() {
        for &to in &next[node] {
            if !reached[to] {
                reached[to] = true;
                queue.push_back(to);
            }
        }
    }
    reached
}

#[cfg(test)]
mod tests;
