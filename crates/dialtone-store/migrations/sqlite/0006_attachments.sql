-- Uploaded attachments; the bytes live in the blob store, addressed by SHA-256.
CREATE TABLE attachments (
    id             TEXT PRIMARY KEY,
    owner_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    sha256         TEXT NOT NULL,
    size           INTEGER NOT NULL,
    content_type   TEXT NOT NULL,
    filename       TEXT,
    thumbnail_sha  TEXT,
    thumbnail_type TEXT,
    width          INTEGER,
    height         INTEGER,
    created_at     INTEGER NOT NULL
);
CREATE INDEX attachments_sha ON attachments (sha256);
CREATE INDEX messages_attachment ON messages (attachment_id);
