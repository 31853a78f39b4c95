//! Which of X's follow lists to read. X bills every user a list returns, so each list is read
//! at most once, the cheapest set of lists that tells every direction needed, and never one
//! that a protected account keeps private.

use super::cover::cheapest_lists;
use crate::domain::{FollowList, PlannedList, ReadPlan, Relationship, SocialUser};
use std::collections::{BTreeMap, HashMap};

/// Which of a user's two follow lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum List {
    Following,
    Followers,
}

impl List {
    pub(super) fn path(self) -> &'static str {
        match self {
            List::Following => "following",
            List::Followers => "followers",
        }
    }

    /// How long this list of `user` is, as the lookup said.
    pub(super) fn size(self, user: &SocialUser) -> Option<u64> {
        match self {
            List::Following => user.following,
            List::Followers => user.followers,
        }
    }

    /// A direction (follower, followee) as (the owner of the list of this kind that tells
    /// it, the other user), and back: the pair as it is for `following`, swapped for
    /// `followers`.
    pub(super) fn orient(self, (first, second): (usize, usize)) -> (usize, usize) {
        match self {
            List::Following => (first, second),
            List::Followers => (second, first),
        }
    }
}

impl From<List> for FollowList {
    fn from(list: List) -> Self {
        match list {
            List::Following => FollowList::Following,
            List::Followers => FollowList::Followers,
        }
    }
}

/// Users a list whose size the lookup did not say may return at most: every page a read
/// goes through before giving up.
const UNSAID_SIZE: u64 = super::lists::PAGE_SIZE as u64 * super::lists::MAX_PAGES as u64;

/// The lists [`plan_reads`] plans for the directions of `pairs` not yet `known`, with what
/// each costs at most: its size as the lookup said (or all the pages a read goes through),
/// in pages of X's page size.
pub(super) fn read_plan(
    users: &[SocialUser],
    pairs: &[(usize, usize)],
    known: &[Relationship],
) -> ReadPlan {
    let known = Relationship::for_each_of(pairs.len(), known);
    let reads = plan_reads(users, &unknown_directions(&known, pairs));
    let page = u64::from(super::lists::PAGE_SIZE);
    ReadPlan {
        lists: reads
            .into_iter()
            .map(|((owner, list), others)| {
                let size = list.size(&users[owner]).unwrap_or(UNSAID_SIZE);
                PlannedList::new(owner, list.into(), size, page, others)
            })
            .collect(),
    }
}

/// The lists to read, by (owner, kind), each with the users it is read for.
pub(super) type Reads = BTreeMap<(usize, List), Vec<usize>>;

/// What the lists told, by direction (follower, followee).
pub(super) type Follows = HashMap<(usize, usize), bool>;

/// The directions (follower, followee) still unknown in the pairs not yet settled.
pub(super) fn unknown_directions(
    known: &[Relationship],
    pairs: &[(usize, usize)],
) -> Vec<(usize, usize)> {
    let mut needed = Vec::new();
    for (relationship, &(a, b)) in known.iter().zip(pairs) {
        if relationship.settled() {
            continue;
        }
        if relationship.forward.is_none() {
            needed.push((a, b));
        }
        if relationship.backward.is_none() {
            needed.push((b, a));
        }
    }
    needed
}

/// Fills in every direction still unknown that the lists told.
pub(super) fn complete(known: &mut [Relationship], pairs: &[(usize, usize)], follows: &Follows) {
    for (relationship, &(a, b)) in known.iter_mut().zip(pairs) {
        if relationship.forward.is_none() {
            relationship.forward = follows.get(&(a, b)).copied();
        }
        if relationship.backward.is_none() {
            relationship.backward = follows.get(&(b, a)).copied();
        }
    }
}

/// Which lists to read, each once, for every direction (follower, followee) it answers: the
/// list that a protected account does not keep private when only one can be read; a list
/// read anyway for the directions it also answers; and for the rest the cheapest set of
/// lists that tells them all ([`cheapest_lists`]: a minimum-weight vertex cover).
pub(super) fn plan_reads(users: &[SocialUser], needed: &[(usize, usize)]) -> Reads {
    let (mut reads, either) = only_readable(users, needed);
    let either = riding_along(&mut reads, either);
    let cover = cheapest_lists(users, &either);
    for &(follower, followee) in &either {
        let list = if cover.contains(&(follower, List::Following)) {
            List::Following
        } else {
            List::Followers
        };
        let (owner, other) = list.orient((follower, followee));
        reads.entry((owner, list)).or_default().push(other);
    }
    reads
}

/// The lists to read for the directions only one list can tell (the other is a protected
/// account's); and the directions either list can tell. Those no list tells are left out.
fn only_readable(users: &[SocialUser], needed: &[(usize, usize)]) -> (Reads, Vec<(usize, usize)>) {
    let mut reads = Reads::new();
    let mut either = Vec::new();
    for &(follower, followee) in needed {
        let list = match (users[follower].protected, users[followee].protected) {
            (true, true) => continue,
            (false, true) => List::Following,
            (true, false) => List::Followers,
            (false, false) => {
                either.push((follower, followee));
                continue;
            }
        };
        let (owner, other) = list.orient((follower, followee));
        reads.entry((owner, list)).or_default().push(other);
    }
    (reads, either)
}

/// Adds each direction that a list already planned also tells to that list; the rest.
fn riding_along(reads: &mut Reads, mut either: Vec<(usize, usize)>) -> Vec<(usize, usize)> {
    either.retain(|&(follower, followee)| {
        if let Some(others) = reads.get_mut(&(follower, List::Following)) {
            others.push(followee);
        } else if let Some(others) = reads.get_mut(&(followee, List::Followers)) {
            others.push(follower);
        } else {
            return true;
        }
        false
    });
    either
}

/// Users to read to settle "follower follows followee": the shorter of the follower's
/// following and the followee's followers that can be read (unknown sizes count as endless,
/// and so does a direction no list can tell).
pub(super) fn follow_cost(follower: &SocialUser, followee: &SocialUser) -> u64 {
    let size = |owner: &SocialUser, list: List| {
        if owner.protected {
            u64::MAX
        } else {
            list.size(owner).unwrap_or(u64::MAX - 1)
        }
    };
    size(follower, List::Following).min(size(followee, List::Followers))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: &str, following: u64, followers: u64, protected: bool) -> SocialUser {
        SocialUser {
            id: id.to_owned(),
            username: id.to_owned(),
            followers: Some(followers),
            following: Some(following),
            protected,
        }
    }

    #[test]
    fn lists_a_protected_account_keeps_private_are_never_planned() {
        // 0 protected, 1 and 2 not: 0 -> 1 only from 1's followers, 1 -> 0 only from 1's
        // following; 0 and 3 both protected: no list tells.
        let users = [
            user("a", 1, 1, true),
            user("b", 10, 10, false),
            user("c", 1, 5000, false),
            user("d", 1, 1, true),
        ];
        let reads = plan_reads(&users, &[(0, 1), (1, 0), (0, 3), (3, 0), (2, 1)]);
        assert_eq!(
            reads,
            BTreeMap::from([
                ((1, List::Following), vec![0]),
                ((1, List::Followers), vec![0, 2]),
            ]),
            "2 -> 1 rides on 1's followers, read anyway for 0 -> 1, not on 2's own list"
        );
    }

    #[test]
    fn readers_followers_and_authors_following_are_read_not_one_kind_for_all() {
        // Two readers (following 5,000, followed by 10), two authors (following 10,
        // followed by 50,000), each pair within a group.
        let users = [
            user("r1", 5000, 10, false),
            user("r2", 5000, 10, false),
            user("a1", 10, 50_000, false),
            user("a2", 10, 50_000, false),
        ];
        assert_eq!(
            plan_reads(&users, &[(0, 1), (1, 0), (2, 3), (3, 2)]),
            BTreeMap::from([
                ((0, List::Followers), vec![1]),
                ((1, List::Followers), vec![0]),
                ((2, List::Following), vec![3]),
                ((3, List::Following), vec![2]),
            ])
        );
    }

    #[test]
    fn the_plan_is_the_lists_read_with_their_sizes_and_pages() {
        // 0 and 1 both follow-heavy: their followers lists are cheaper; 2's following too.
        let users = [
            user("a", 5000, 1500, false),
            user("b", 5000, 0, false),
            user("c", 3, 9000, false),
        ];
        let pairs = [(0, 1), (1, 2)];
        let settled = Relationship {
            forward: Some(false),
            backward: None,
        };
        let plan = read_plan(&users, &pairs, &[Relationship::default(), settled]);
        let lists: Vec<_> = plan
            .lists
            .iter()
            .map(|l| (l.owner, l.list, l.size, l.pages, l.others.clone()))
            .collect();
        assert_eq!(
            lists,
            [
                (0, FollowList::Followers, 1500, 2, vec![1]),
                (1, FollowList::Followers, 0, 1, vec![0]),
            ],
            "the settled pair costs nothing; an empty list is still one call"
        );
        assert_eq!((plan.users(), plan.calls()), (1500, 3));
        let reads = plan_reads(
            &users,
            &unknown_directions(&[Relationship::default()], &pairs[..1]),
        );
        assert_eq!(reads.len(), plan.lists.len(), "the same planning");
    }

    #[test]
    fn the_cheaper_kind_of_list_is_read_when_both_can_be() {
        let users = [user("a", 5000, 1, false), user("b", 5000, 1, false)];
        assert_eq!(
            plan_reads(&users, &[(0, 1), (1, 0)]),
            BTreeMap::from([
                ((0, List::Followers), vec![1]),
                ((1, List::Followers), vec![0]),
            ])
        );
    }
}
