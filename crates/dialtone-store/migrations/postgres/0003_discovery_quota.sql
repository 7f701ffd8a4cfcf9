-- Discovery quota against scraping: a token bucket per user, in numbers new to their book.
CREATE TABLE discovery_quota (
    user_id    TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    tokens     BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
