//! Reading X's follow lists: page by page, until every user asked about has turned up.

use super::XApi;
use super::plan::{Follows, List, Reads};
use super::wire::{FollowPage, ListError};
use crate::domain::access::Caller;
use crate::domain::{SocialGraphError, SocialUser};
use futures::StreamExt;
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};

/// Users per page of a follow list: X's maximum, so a list costs the fewest calls.
pub(super) const PAGE_SIZE: u32 = 1000;
/// Pages of a follow list read at most (a million users) before giving up.
pub(super) const MAX_PAGES: usize = 1000;
/// Follow lists read at once for one request.
const LIST_CONCURRENCY: usize = 4;
/// Users asked for by a page read past what the lookup's count said the list holds (counts
/// lag behind follows): a list is seldom much longer than its count.
const PAST_THE_COUNT: u64 = 100;

/// Users to ask for on the next page of a list the lookup said holds `size` users (`None`:
/// not said), `read` of them read already: what the list can still return, and never more
/// than a page. What a page asks for is what it reserves from the budgets.
fn page_size(size: Option<u64>, read: u64) -> u64 {
    let left = match size {
        None => u64::from(PAGE_SIZE),
        Some(size) if read < size => size - read,
        Some(_) => PAST_THE_COUNT,
    };
    left.min(u64::from(PAGE_SIZE))
}

impl XApi {
    /// Whether `follower` follows `followee`: one list read.
    pub(super) async fn follows(
        &self,
        follower: &SocialUser,
        followee: &SocialUser,
        caller: &Caller,
    ) -> Result<bool, SocialGraphError> {
        // X bills every user a list returns: read the shorter of the follower's following
        // and the followee's followers, of those a protected account does not keep private.
        // Even an empty-looking list is read: counts lag behind follows, and a verdict must
        // rest on the list itself.
        let mut lists = [
            (List::Following, follower, followee),
            (List::Followers, followee, follower),
        ];
        lists.sort_by_key(|&(list, owner, _)| list.size(owner).unwrap_or(u64::MAX));
        for (list, owner, wanted) in lists {
            if owner.protected {
                continue;
            }
            let size = list.size(owner);
            match self
                .read_list(&owner.id, size, list, &[wanted.id.as_str()], caller)
                .await
            {
                Ok(found) => return Ok(!found.is_empty()),
                // Protected since it was looked up: the other list may still tell.
                Err(ListError::Private) => {}
                Err(ListError::Graph(error)) => return Err(error),
            }
        }
        Err(SocialGraphError::Protected {
            follower: follower.id.clone(),
            followee: followee.id.clone(),
        })
    }

    /// Reads the planned lists, a few at once: what they told, and the failure that stopped
    /// the reading, if one did. The first failure (a rate limit, a spent budget) stops the
    /// reads not yet started: each would be billed for nothing, or refused. The reads under
    /// way go on to their end, so that what they cost is not thrown away: what they tell
    /// counts, and is kept.
    pub(super) async fn read_lists(
        &self,
        users: &[SocialUser],
        reads: &Reads,
        caller: &Caller,
    ) -> (Follows, Option<SocialGraphError>) {
        let stopped = AtomicBool::new(false);
        let pending: Vec<_> = reads
            .iter()
            .map(|(&(owner, list), others)| {
                let wanted = others.iter().map(|&o| users[o].id.clone()).collect();
                let stopped = &stopped;
                let owner_user = &users[owner];
                async move {
                    if stopped.load(Ordering::Relaxed) {
                        return None;
                    }
                    Some(self.read_for(owner, owner_user, list, wanted, caller).await)
                }
            })
            .collect();
        let mut follows = Follows::new();
        let mut failure = None;
        let mut reading = futures::stream::iter(pending).buffer_unordered(LIST_CONCURRENCY);
        while let Some(read) = reading.next().await {
            let Some(((owner, list), answer)) = read else {
                continue;
            };
            match answer {
                Ok(found) => {
                    for &other in &reads[&(owner, list)] {
                        let listed = found.contains(&users[other].id);
                        follows.insert(list.orient((owner, other)), listed);
                    }
                }
                // Protected since it was looked up: these directions stay unknown.
                Err(ListError::Private) => {}
                Err(ListError::Graph(error)) => {
                    stopped.store(true, Ordering::Relaxed);
                    failure.get_or_insert(error);
                }
            }
        }
        (follows, failure)
    }

    /// [`XApi::read_list`] for the user at `index`, owning what it needs.
    async fn read_for(
        &self,
        index: usize,
        owner: &SocialUser,
        list: List,
        wanted: Vec<String>,
        caller: &Caller,
    ) -> ((usize, List), Result<HashSet<String>, ListError>) {
        let wanted: Vec<&str> = wanted.iter().map(String::as_str).collect();
        let size = list.size(owner);
        let read = self.read_list(&owner.id, size, list, &wanted, caller).await;
        ((index, list), read)
    }

    /// Reads `owner`'s list (of `size` users, as the lookup said) page by page until every
    /// wanted id has been seen or the list ends; the wanted ids it saw.
    async fn read_list(
        &self,
        owner: &str,
        size: Option<u64>,
        list: List,
        wanted: &[&str],
        caller: &Caller,
    ) -> Result<HashSet<String>, ListError> {
        let mut found = HashSet::new();
        let mut token: Option<String> = None;
        let mut read = 0;
        for _ in 0..MAX_PAGES {
            // A page asks for what the list can still return, and no more users than the
            // budgets can pay for.
            let mut reservation = self
                .api
                .reserve(page_size(size, read), 1, caller)
                .await
                .map_err(SocialGraphError::from)?;
            let mut url = self.url(&["users", owner, list.path()]);
            {
                let mut query = url.query_pairs_mut();
                query.append_pair("max_results", &reservation.granted.to_string());
                if let Some(token) = &token {
                    query.append_pair("pagination_token", token);
                }
            }
            let page = match self
                .get::<FollowPage>(list.path(), url, caller, &mut reservation)
                .await
            {
                Ok(page) => page.read().inspect_err(|e| {
                    // A protected owner's page returns no one; any other is unreadable.
                    if !matches!(e, ListError::Private) {
                        reservation.unreadable();
                    }
                }),
                Err(e) => Err(e.into()),
            };
            let returned = page.as_ref().map_or(0, |(users, _)| users.len() as u64);
            self.api.settle(reservation, returned).await;
            let (users, next) = page?;
            read += users.len() as u64;
            self.metrics.x_users_read(users.len() as u64);
            for user in users {
                if wanted.contains(&user.id.as_str()) {
                    found.insert(user.id);
                }
            }
            token = next;
            if token.is_none() || found.len() == wanted.len() {
                return Ok(found);
            }
        }
        Err(SocialGraphError::unavailable(format!(
            "the {} list of user {owner} has more than {MAX_PAGES} pages",
            list.path()
        ))
        .into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_asks_for_what_the_list_can_still_return() {
        assert_eq!(page_size(Some(18), 0), 18);
        assert_eq!(page_size(Some(5001), 0), 1000);
        assert_eq!(page_size(Some(5001), 5000), 1);
        assert_eq!(page_size(None, 0), 1000, "a size not said: a whole page");
        // Counts lag behind follows: an empty-looking list is still read, and one longer
        // than its count is read on.
        assert_eq!(page_size(Some(0), 0), PAST_THE_COUNT);
        assert_eq!(page_size(Some(3), 3), PAST_THE_COUNT);
    }
}
