-- Accounts, verifications, sessions and rate-limit events. Times are Unix milliseconds (UTC).
CREATE TABLE users (
    id                TEXT PRIMARY KEY,
    phone             TEXT NOT NULL UNIQUE,
    region            TEXT NOT NULL,
    display_name      TEXT,
    password_hash     TEXT,
    registration_lock BOOLEAN NOT NULL DEFAULT FALSE,
    created_at        BIGINT NOT NULL
);

CREATE TABLE verifications (
    id            TEXT PRIMARY KEY,
    phone         TEXT NOT NULL,
    code_hash     TEXT NOT NULL,
    attempts      BIGINT NOT NULL DEFAULT 0,
    sms_sent      BIGINT NOT NULL DEFAULT 1,
    expires_at    BIGINT NOT NULL,
    resend_after  BIGINT NOT NULL,
    created_at    BIGINT NOT NULL
);
CREATE INDEX verifications_phone ON verifications (phone);

CREATE TABLE sessions (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash   TEXT NOT NULL UNIQUE,
    name         TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    verified_at  BIGINT
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE rate_events (
    bucket TEXT NOT NULL,
    at     BIGINT NOT NULL
);
CREATE INDEX rate_events_bucket_at ON rate_events (bucket, at);
