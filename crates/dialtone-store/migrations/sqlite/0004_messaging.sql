-- Conversations, members, messages, per-device acknowledgements.
CREATE TABLE conversations (
    id         TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    name       TEXT,
    last_seq   INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);

-- The one direct conversation of a pair (user ids in sorted order).
CREATE TABLE direct_pairs (
    user_a          TEXT NOT NULL,
    user_b          TEXT NOT NULL,
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    PRIMARY KEY (user_a, user_b)
);

CREATE TABLE conversation_members (
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role            TEXT NOT NULL,
    joined_at       INTEGER NOT NULL,
    read_seq        INTEGER NOT NULL DEFAULT 0,
    delivered_seq   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (conversation_id, user_id)
);
CREATE INDEX conversation_members_user ON conversation_members (user_id);

CREATE TABLE messages (
    id              TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq             INTEGER NOT NULL,
    sender_id       TEXT NOT NULL,
    client_id       TEXT NOT NULL,
    kind            TEXT NOT NULL,
    text            TEXT,
    attachment_id   TEXT,
    reply_to        TEXT,
    sent_at         INTEGER NOT NULL,
    UNIQUE (conversation_id, seq),
    UNIQUE (conversation_id, sender_id, client_id)
);

-- Members a message is withheld from (they blocked its sender): accepted, never delivered.
CREATE TABLE withheld (
    message_id TEXT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL,
    PRIMARY KEY (message_id, user_id)
);
CREATE INDEX withheld_user ON withheld (user_id);

-- What each device has acknowledged, per conversation.
CREATE TABLE device_acks (
    session_id      TEXT NOT NULL,
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    acked_seq       INTEGER NOT NULL,
    PRIMARY KEY (session_id, conversation_id)
);
