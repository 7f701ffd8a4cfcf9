//! The search index of conversations: the queue of messages to (re)index, the index
//! itself, and the query over it. The store neither segments nor decides what a term is:
//! the service's tokenizer gives terms both for indexing and for queries, so the two
//! always agree.

use async_trait::async_trait;

use crate::{MessageRecord, StoreResult};
use dialtone_core::{ConversationId, UserId};

/// A queued message as the indexer reads it: its state now, and the queue rows it stands
/// for (a message edited twice before indexing has two).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingDoc {
    /// Queue rows taken with it, deleted when its terms are written.
    pub pending: Vec<i64>,
    /// The message.
    pub message_id: String,
    /// What to index; `None` when the message is gone or deleted for everyone (its terms
    /// are dropped).
    pub source: Option<DocSource>,
}

/// What of a message is searchable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocSource {
    /// Its conversation.
    pub conversation_id: ConversationId,
    /// Its text or caption.
    pub text: Option<String>,
    /// Its attachment's file name.
    pub filename: Option<String>,
}

/// Terms to write for one queued message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedDoc {
    /// The message as read from the queue (`source` is compared with the message again
    /// when written: a change in between is left to its own queue row).
    pub doc: PendingDoc,
    /// Its terms, in order, each without spaces (empty: nothing to find, dropped).
    pub terms: Vec<String>,
}

/// Which results come first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchOrder {
    /// Most recently indexed (sent) first.
    Newest,
    /// Best rank first (BM25 on SQLite, `ts_rank` on PostgreSQL), among the newest
    /// [`RELEVANCE_CANDIDATES`] matches; ties newest first.
    Relevance,
}

/// Matches a relevance search ranks: the newest this many. Ranking every match of a common
/// word would read them all; this bounds a query's work whatever the index's size.
pub const RELEVANCE_CANDIDATES: u32 = 1_000;

/// A search, as the store runs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    /// Whose conversations: those they are a member of now, without messages withheld
    /// from them or deleted for everyone.
    pub viewer_id: UserId,
    /// Every one of these must match (non-empty, each without spaces).
    pub terms: Vec<String>,
    /// The last term also matches as a prefix ("hel" finds "hello"), unless it is itself a
    /// word of the index: a word typed whole is searched as it is (a prefix query merges
    /// the lists of every word it starts, which for a common word is most of the index).
    pub prefix_last: bool,
    /// Only this conversation.
    pub conversation_id: Option<ConversationId>,
    /// Conversations left out (direct ones with hidden contacts, vault closed).
    pub excluded: Vec<ConversationId>,
    /// Order.
    pub order: SearchOrder,
    /// Newest: only docs below this one (the previous page's last). Relevance: only docs
    /// up to this one (the first page's newest), so later messages do not shift pages.
    pub before_doc: Option<i64>,
    /// Relevance: ranked results to skip (the previous pages').
    pub offset: u32,
    /// At most this many.
    pub limit: u32,
}

/// One match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchHit {
    /// Its place in the index (cursors).
    pub doc: i64,
    /// The message.
    pub message: MessageRecord,
    /// Its attachment's file name.
    pub filename: Option<String>,
}

/// A page of matches.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SearchHits {
    /// The matches, in the search's order.
    pub hits: Vec<SearchHit>,
    /// Relevance: the newest doc among the ranked candidates (the next pages' bound).
    pub top: Option<i64>,
    /// Whether the last term was matched as a prefix.
    pub prefixed: bool,
}

/// The search index.
#[async_trait]
pub trait SearchRepo: Send + Sync {
    /// Up to `limit` queued messages, oldest queued first, with their current state.
    async fn pending(&self, limit: u32) -> StoreResult<Vec<PendingDoc>>;
    /// Writes the terms of queued messages and takes their queue rows, in one
    /// transaction; a message changed since it was read keeps its newer queue row and is
    /// not written now. How many were written.
    async fn write_index(&self, docs: &[IndexedDoc]) -> StoreResult<usize>;
    /// Queued messages waiting (for the benchmark and health).
    async fn pending_count(&self) -> StoreResult<u64>;
    /// Matches of a search, in its order.
    async fn search(&self, query: &SearchQuery) -> StoreResult<SearchHits>;
}
