//! Which follow lists a social graph would read to settle a team's pairs, and what that
//! costs at most: told before any list is read, so that a caller can be quoted a price.

/// Which of a user's two follow lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FollowList {
    /// Whom the owner follows.
    Following,
    /// Who follows the owner.
    Followers,
}

impl FollowList {
    /// The list's name in answers: `following` or `followers`.
    pub fn id(self) -> &'static str {
        match self {
            Self::Following => "following",
            Self::Followers => "followers",
        }
    }
}

/// One list a graph would read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedList {
    /// The list's owner, an index into the users planned for.
    pub owner: usize,
    pub list: FollowList,
    /// Users the list holds as the lookup said, at most what a read would return: the
    /// users billed for it.
    pub size: u64,
    /// Pages read at most: one per `page` users, and one for a list said to be empty (it is
    /// read all the same, since counts lag behind follows).
    pub pages: u64,
    /// The users (indices) it is read for: the other end of each direction it tells.
    pub others: Vec<usize>,
}

impl PlannedList {
    /// A list of `size` users, read in pages of `page` users.
    pub fn new(owner: usize, list: FollowList, size: u64, page: u64, others: Vec<usize>) -> Self {
        Self {
            owner,
            list,
            size,
            pages: size.div_ceil(page.max(1)).max(1),
            others,
        }
    }
}

/// The lists a graph would read, each once, in the order it plans them. Empty for a graph
/// that reads no lists (it answers pair by pair, or its reads are not billed by the user).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadPlan {
    pub lists: Vec<PlannedList>,
}

impl ReadPlan {
    /// Users the lists return at most: what reading them all is billed.
    pub fn users(&self) -> u64 {
        self.lists
            .iter()
            .fold(0, |sum, list| sum.saturating_add(list.size))
    }

    /// Calls reading them all makes at most.
    pub fn calls(&self) -> u64 {
        self.lists
            .iter()
            .fold(0, |sum, list| sum.saturating_add(list.pages))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_costs_its_lists_sizes_and_their_pages_an_empty_one_a_call() {
        let plan = ReadPlan {
            lists: vec![
                PlannedList::new(0, FollowList::Followers, 10, 1000, vec![1]),
                PlannedList::new(1, FollowList::Following, 2500, 1000, vec![0, 2]),
                PlannedList::new(2, FollowList::Following, 0, 1000, vec![1]),
            ],
        };
        assert_eq!(plan.users(), 2510);
        assert_eq!(
            plan.lists.iter().map(|l| l.pages).collect::<Vec<_>>(),
            [1, 3, 1]
        );
        assert_eq!(plan.calls(), 5);
        assert_eq!(ReadPlan::default().users(), 0);
    }
}
