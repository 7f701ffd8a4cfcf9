-- Accounts, verifications, sessions and rate-limit events. Times are Unix milliseconds (UTC).
CREATE TABLE users (
    id                TEXT PRIMARY KEY,
    phone             TEXT NOT NULL UNIQUE,
    region            TEXT NOT NULL,
    display_name      TEXT,
    password_hash     TEXT,
    registration_lock INTEGER NOT NULL DEFAULT 0,
    created_at        INTEGER NOT NULL
);

CREATE TABLE verifications (
    id            TEXT PRIMARY KEY,
    phone         TEXT NOT NULL,
    code_hash     TEXT NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    sms_sent      INTEGER NOT NULL DEFAULT 1,
    expires_at    INTEGER NOT NULL,
    resend_after  INTEGER NOT NULL,
    created_at    INTEGER NOT NULL
);
CREATE INDEX verifications_phone ON verifications (phone);

CREATE TABLE sessions (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash   TEXT NOT NULL UNIQUE,
    name         TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    verified_at  INTEGER
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE rate_events (
    bucket TEXT NOT NULL,
    at     INTEGER NOT NULL
);
CREATE INDEX rate_events_bucket_at ON rate_events (bucket, at);
