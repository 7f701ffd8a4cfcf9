//! Search over the caller's conversations, and the history around one message (where a
//! search result opens). Only conversations the caller is a member of now, never a
//! message withheld from them or deleted for everyone, and direct conversations with
//! hidden contacts only while the vault is open.

use std::collections::HashSet;

use dialtone_core::{ConversationId, ConversationKind};
use dialtone_store::{SearchOrder, SearchQuery, UserRecord};

use super::{MessageView, MessagingService};
use crate::search::snippet::{Snippet, hits, snippet};
use crate::search::terms::query_terms;
use crate::{ServiceError, ServiceResult};

/// Longest query, in characters.
const MAX_QUERY_CHARS: usize = 256;

/// Terms of a query that are searched (the rest are ignored).
const MAX_QUERY_TERMS: usize = 16;

/// Results per page by default, and at most.
const DEFAULT_LIMIT: u32 = 20;
const MAX_LIMIT: u32 = 50;

/// Where the next page starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchCursor {
    /// Newest first: below this doc.
    Newest {
        /// The last doc given.
        before: i64,
    },
    /// Relevance: among docs up to `upto`, after `offset` ranked results.
    Relevance {
        /// The newest doc when the first page was read.
        upto: i64,
        /// Results given so far.
        offset: u32,
    },
}

impl SearchCursor {
    /// A cursor as given to clients (opaque to them).
    pub fn encode(&self) -> String {
        match self {
            SearchCursor::Newest { before } => format!("n{before}"),
            SearchCursor::Relevance { upto, offset } => format!("r{upto}.{offset}"),
        }
    }

    /// A cursor a client gave back; `None` if this server did not make it.
    pub fn parse(s: &str) -> Option<SearchCursor> {
        if let Some(rest) = s.strip_prefix('n') {
            return Some(SearchCursor::Newest {
                before: rest.parse().ok().filter(|d: &i64| *d > 0)?,
            });
        }
        let (upto, offset) = s.strip_prefix('r')?.split_once('.')?;
        Some(SearchCursor::Relevance {
            upto: upto.parse().ok().filter(|d: &i64| *d > 0)?,
            offset: offset.parse().ok()?,
        })
    }
}

/// A search as asked.
#[derive(Debug, Clone)]
pub struct SearchRequest {
    /// The words typed.
    pub q: String,
    /// Only this conversation.
    pub conversation_id: Option<ConversationId>,
    /// Newest (default) or most relevant first.
    pub order: SearchOrder,
    /// Results per page (default 20, at most 50).
    pub limit: Option<u32>,
    /// Where the previous page ended.
    pub cursor: Option<SearchCursor>,
}

/// One result.
#[derive(Debug, Clone)]
pub struct SearchResult {
    /// The message.
    pub message: MessageView,
    /// Where it matched.
    pub snippet: Snippet,
}

/// A page of results.
#[derive(Debug, Clone)]
pub struct SearchPage {
    /// In the order asked.
    pub results: Vec<SearchResult>,
    /// Where the next page starts, if there may be one.
    pub next: Option<SearchCursor>,
}

impl MessagingService {
    /// Searches the caller's messages.
    pub async fn search(
        &self,
        user: &UserRecord,
        vault_open: bool,
        request: SearchRequest,
    ) -> ServiceResult<SearchPage> {
        let q = request.q.trim();
        if q.is_empty() || request.q.chars().count() > MAX_QUERY_CHARS {
            return Err(ServiceError::InvalidInput(format!(
                "q has 1 to {MAX_QUERY_CHARS} characters, not only spaces"
            )));
        }
        if request.limit == Some(0) {
            return Err(ServiceError::InvalidInput(format!(
                "limit is 1 to {MAX_LIMIT}"
            )));
        }
        let cursor_fits = matches!(
            (request.order, request.cursor),
            (_, None)
                | (SearchOrder::Newest, Some(SearchCursor::Newest { .. }))
                | (SearchOrder::Relevance, Some(SearchCursor::Relevance { .. }))
        );
        if !cursor_fits {
            return Err(ServiceError::InvalidInput(
                "the cursor is of a search in another order".into(),
            ));
        }
        let limit = request.limit.unwrap_or(DEFAULT_LIMIT).min(MAX_LIMIT);
        if let Some(id) = &request.conversation_id {
            self.member_of(user, id).await?;
        }
        let mut query = query_terms(q);
        query.truncate(MAX_QUERY_TERMS);
        if query.is_empty() {
            return Ok(SearchPage {
                results: Vec::new(),
                next: None,
            });
        }
        // Typing the last word: it also matches as a prefix (not Chinese, not after a
        // space).
        let prefix_last = query.last().is_some_and(|t| !t.cjk)
            && request.q.chars().last().is_some_and(char::is_alphanumeric);
        let (before_doc, offset) = match request.cursor {
            None => (None, 0),
            Some(SearchCursor::Newest { before }) => (Some(before), 0),
            Some(SearchCursor::Relevance { upto, offset }) => (Some(upto), offset),
        };
        let found = self
            .store
            .search
            .search(&SearchQuery {
                viewer_id: user.id.clone(),
                terms: query.iter().map(|t| t.text.clone()).collect(),
                prefix_last,
                conversation_id: request.conversation_id.clone(),
                excluded: self.hidden_conversations(user, vault_open).await?,
                order: request.order,
                before_doc,
                offset,
                limit: limit + 1,
            })
            .await?;
        let mut hits_read = found.hits;
        let more = hits_read.len() > limit as usize;
        hits_read.truncate(limit as usize);
        let next = match (more, request.order, hits_read.last()) {
            (true, SearchOrder::Newest, Some(last)) => {
                Some(SearchCursor::Newest { before: last.doc })
            }
            (true, SearchOrder::Relevance, Some(_)) => Some(SearchCursor::Relevance {
                upto: before_doc.or(found.top).unwrap_or(i64::MAX),
                offset: offset + limit,
            }),
            _ => None,
        };
        let mut matched = Vec::new();
        for hit in hits_read {
            let text = hit.message.text.as_deref().unwrap_or("");
            let filename = hit.filename.as_deref().unwrap_or("");
            let (in_text, found_text) = hits(text, &query, found.prefixed);
            let (in_name, found_name) = hits(filename, &query, found.prefixed);
            // The index may lag an edit by a moment: what the message says now decides.
            let all = found_text.iter().zip(&found_name).all(|(a, b)| *a || *b);
            if !all {
                continue;
            }
            let snippet = if in_text.is_empty() {
                snippet(filename, &in_name)
            } else {
                snippet(text, &in_text)
            };
            matched.push((hit.message, snippet));
        }
        let (records, snippets): (Vec<_>, Vec<_>) = matched.into_iter().unzip();
        let mut snippets_by_id: std::collections::HashMap<String, Snippet> = records
            .iter()
            .map(|r: &dialtone_store::MessageRecord| r.id.clone())
            .zip(snippets)
            .collect();
        let results = self
            .with_senders(records)
            .await?
            .into_iter()
            .filter_map(|message| {
                let snippet = snippets_by_id.remove(&message.record.id)?;
                Some(SearchResult { message, snippet })
            })
            .collect();
        Ok(SearchPage { results, next })
    }

    /// The caller's direct conversations with hidden contacts (none while the vault is
    /// open), as the conversation listing leaves them out.
    async fn hidden_conversations(
        &self,
        user: &UserRecord,
        vault_open: bool,
    ) -> ServiceResult<Vec<ConversationId>> {
        if vault_open {
            return Ok(Vec::new());
        }
        let hidden: HashSet<String> = self
            .store
            .contacts
            .list(&user.id)
            .await?
            .into_iter()
            .filter(|c| c.hidden)
            .map(|c| c.phone_mac)
            .collect();
        if hidden.is_empty() {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        for record in self.store.messages.conversations_of(&user.id).await? {
            if record.kind != ConversationKind::Direct {
                continue;
            }
            let ids = self.member_ids(&record.id).await?;
            let users = self.users(&ids).await?;
            if users
                .values()
                .any(|u| u.id != user.id && hidden.contains(&self.social.sealer().mac(&u.phone)))
            {
                out.push(record.id);
            }
        }
        Ok(out)
    }

    /// The history around `seq`: about half the page before it and half after, `seq`
    /// itself included if the caller may see it, in seq order.
    pub async fn around(
        &self,
        user: &UserRecord,
        conversation_id: &ConversationId,
        seq: u64,
        limit: Option<u32>,
    ) -> ServiceResult<Vec<MessageView>> {
        if limit == Some(0) {
            return Err(ServiceError::InvalidInput(format!(
                "limit is 1 to {} (an empty page is never asked for)",
                self.limits.max_page
            )));
        }
        self.member_of(user, conversation_id).await?;
        let limit = limit.unwrap_or(50).clamp(1, self.limits.max_page);
        let after = limit / 2;
        let upto = limit - after;
        let mut records = self
            .store
            .messages
            .messages(
                conversation_id,
                &user.id,
                None,
                Some(seq.saturating_add(1)),
                upto,
            )
            .await?;
        if after > 0 {
            records.extend(
                self.store
                    .messages
                    .messages(conversation_id, &user.id, Some(seq), None, after)
                    .await?,
            );
        }
        self.with_senders(records).await
    }
}
