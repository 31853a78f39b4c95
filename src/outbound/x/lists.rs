//! Reading X's follow lists: page by page, until every user asked about has turned up.

use super::XApi;
use super::plan::{Follows, List, Reads};
use super::wire::{FollowPage, ListError};
use crate::domain::{SocialGraphError, SocialUser};
use futures::StreamExt;
use std::collections::HashSet;

/// Users per page of a follow list: X's maximum, so a list costs the fewest calls.
const PAGE_SIZE: u32 = 1000;
/// Pages of a follow list read at most (a million users) before giving up.
const MAX_PAGES: usize = 1000;
/// Follow lists read at once for one request.
const LIST_CONCURRENCY: usize = 4;

impl XApi {
    /// Whether `follower` follows `followee`: one list read.
    pub(super) async fn follows(
        &self,
        follower: &SocialUser,
        followee: &SocialUser,
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
            match self.read_list(&owner.id, list, &[wanted.id.as_str()]).await {
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
    /// the reading, if one did. The first failure (a rate limit, most likely) stops the reads
    /// not yet started: each would be billed for nothing. The lists read by then still count.
    pub(super) async fn read_lists(
        &self,
        users: &[SocialUser],
        reads: &Reads,
    ) -> (Follows, Option<SocialGraphError>) {
        let pending: Vec<_> = reads
            .iter()
            .map(|(&(owner, list), others)| {
                let wanted = others.iter().map(|&o| users[o].id.clone()).collect();
                self.read_for(owner, users[owner].id.clone(), list, wanted)
            })
            .collect();
        let mut follows = Follows::new();
        let mut reading = futures::stream::iter(pending).buffer_unordered(LIST_CONCURRENCY);
        while let Some(((owner, list), answer)) = reading.next().await {
            match answer {
                Ok(found) => {
                    for &other in &reads[&(owner, list)] {
                        let listed = found.contains(&users[other].id);
                        follows.insert(list.orient((owner, other)), listed);
                    }
                }
                // Protected since it was looked up: these directions stay unknown.
                Err(ListError::Private) => {}
                Err(ListError::Graph(error)) => return (follows, Some(error)),
            }
        }
        (follows, None)
    }

    /// [`XApi::read_list`] for the user at `index`, owning what it needs.
    async fn read_for(
        &self,
        index: usize,
        owner: String,
        list: List,
        wanted: Vec<String>,
    ) -> ((usize, List), Result<HashSet<String>, ListError>) {
        let wanted: Vec<&str> = wanted.iter().map(String::as_str).collect();
        ((index, list), self.read_list(&owner, list, &wanted).await)
    }

    /// Reads `owner`'s list page by page until every wanted id has been seen or the list
    /// ends; the wanted ids it saw.
    async fn read_list(
        &self,
        owner: &str,
        list: List,
        wanted: &[&str],
    ) -> Result<HashSet<String>, ListError> {
        let mut found = HashSet::new();
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            // A page asks no more users than the budgets can pay for.
            let reservation = self
                .api
                .reserve(PAGE_SIZE as u64, 1)
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
            let page = match self.get::<FollowPage>(list.path(), url).await {
                Ok(page) => page.read(),
                Err(e) => Err(e.into()),
            };
            let returned = page.as_ref().map_or(0, |(users, _)| users.len() as u64);
            self.api.settle(reservation, returned).await;
            let (users, next) = page?;
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
        Err(SocialGraphError::Unavailable(format!(
            "the {} list of user {owner} has more than {MAX_PAGES} pages",
            list.path()
        ))
        .into())
    }
}
