-- Discovery quota against scraping: a token bucket per user, in numbers new to their book.
CREATE TABLE discovery_quota (
    user_id    TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    tokens     INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
