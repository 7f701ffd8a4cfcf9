-- Search in conversations. Sending only queues (`search_pending`, written by triggers in
-- the message's own transaction, so a crash loses nothing); the indexers segment queued
-- messages off the send path and write `search_docs`.
--
-- A queued row is taken by its id, never by a watermark (ids commit out of order under
-- concurrent transactions): an indexer deletes exactly the rows it read, and any later
-- change queues a row of its own.
CREATE TABLE search_pending (
    id         BIGSERIAL PRIMARY KEY,
    message_id TEXT NOT NULL
);

-- One row per indexed message: its terms (pre-segmented by the server's tokenizer, as
-- lexemes: no parser of PostgreSQL's in between) and `doc`, which grows in the order
-- messages were indexed (their sending order): "newest first" and the cursors follow it.
CREATE TABLE search_docs (
    doc             BIGSERIAL PRIMARY KEY,
    message_id      TEXT NOT NULL UNIQUE,
    conversation_id TEXT NOT NULL,
    terms           TSVECTOR NOT NULL
);
CREATE INDEX search_docs_terms ON search_docs USING GIN (terms);
CREATE INDEX search_docs_conversation ON search_docs (conversation_id, doc);

-- Searchable kinds only: no system lines, call records or stickers.
CREATE FUNCTION search_queue() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.kind IN ('text', 'image', 'voice', 'video', 'file') THEN
            INSERT INTO search_pending (message_id) VALUES (OLD.id);
        END IF;
        RETURN OLD;
    END IF;
    IF NEW.kind IN ('text', 'image', 'voice', 'video', 'file') THEN
        INSERT INTO search_pending (message_id) VALUES (NEW.id);
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER search_queue_new AFTER INSERT ON messages
FOR EACH ROW EXECUTE FUNCTION search_queue();
CREATE TRIGGER search_queue_changed AFTER UPDATE OF text, deleted ON messages
FOR EACH ROW EXECUTE FUNCTION search_queue();
CREATE TRIGGER search_queue_gone AFTER DELETE ON messages
FOR EACH ROW EXECUTE FUNCTION search_queue();

-- What was sent before search existed is indexed too, oldest first.
INSERT INTO search_pending (message_id)
SELECT id FROM messages
WHERE kind IN ('text', 'image', 'voice', 'video', 'file') AND NOT deleted
ORDER BY sent_at, seq;
