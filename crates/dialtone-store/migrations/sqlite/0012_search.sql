-- Search in conversations. Sending only queues (`search_pending`, written by triggers in
-- the message's own transaction, so a crash loses nothing); the server's indexer segments
-- queued messages off the send path and writes `search_docs` and `search_fts`.
--
-- A queued row is taken by its id, never by a watermark: the indexer deletes exactly the
-- rows it read, and any later change queues a row of its own.
CREATE TABLE search_pending (
    id         INTEGER PRIMARY KEY,
    message_id TEXT NOT NULL
);

-- One row per indexed message; `doc` grows in the order messages were indexed (their
-- sending order), which is what "newest first" and the cursors follow.
CREATE TABLE search_docs (
    doc             INTEGER PRIMARY KEY,
    message_id      TEXT NOT NULL UNIQUE,
    conversation_id TEXT NOT NULL
);

-- The terms (pre-segmented by the server's tokenizer, space-joined) and the conversation
-- (for a search within one), by `doc` as rowid. Contentless: the text lives in `messages`.
CREATE VIRTUAL TABLE search_fts USING fts5(
    terms,
    conv,
    content = '',
    contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 0'
);

-- Searchable kinds only: no system lines, call records or stickers.
CREATE TRIGGER search_queue_new AFTER INSERT ON messages
WHEN NEW.kind IN ('text', 'image', 'voice', 'video', 'file')
BEGIN
    INSERT INTO search_pending (message_id) VALUES (NEW.id);
END;

CREATE TRIGGER search_queue_changed AFTER UPDATE OF text, deleted ON messages
WHEN NEW.kind IN ('text', 'image', 'voice', 'video', 'file')
BEGIN
    INSERT INTO search_pending (message_id) VALUES (NEW.id);
END;

CREATE TRIGGER search_queue_gone AFTER DELETE ON messages
WHEN OLD.kind IN ('text', 'image', 'voice', 'video', 'file')
BEGIN
    INSERT INTO search_pending (message_id) VALUES (OLD.id);
END;

-- What was sent before search existed is indexed too, oldest first.
INSERT INTO search_pending (message_id)
SELECT id FROM messages
WHERE kind IN ('text', 'image', 'voice', 'video', 'file') AND deleted = 0
ORDER BY sent_at, seq;
