-- Privacy settings, address books (sealed), block/allow lists, contact groups, presence.
CREATE TABLE privacy_settings (
    user_id      TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    visibility   TEXT NOT NULL,
    discoverable TEXT NOT NULL,
    last_seen    TEXT NOT NULL,
    vault_hash   TEXT
);

-- One row per (owner, number). The number and name are sealed with a key kept outside the
-- database; phone_mac is a keyed hash of the E.164 number, so registrations still match.
CREATE TABLE contacts (
    owner_id   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    phone_mac  TEXT NOT NULL,
    sealed     TEXT NOT NULL,
    hidden     INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (owner_id, phone_mac)
);
CREATE INDEX contacts_by_phone ON contacts (phone_mac);

CREATE TABLE blocked_phones (
    owner_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    phone    TEXT NOT NULL,
    PRIMARY KEY (owner_id, phone)
);

CREATE TABLE allowed_phones (
    owner_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    phone    TEXT NOT NULL,
    PRIMARY KEY (owner_id, phone)
);

CREATE TABLE contact_groups (
    id         TEXT PRIMARY KEY,
    owner_id   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX contact_groups_owner ON contact_groups (owner_id);

CREATE TABLE contact_group_members (
    group_id TEXT NOT NULL REFERENCES contact_groups (id) ON DELETE CASCADE,
    phone    TEXT NOT NULL,
    PRIMARY KEY (group_id, phone)
);

CREATE TABLE blocked_groups (
    owner_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    group_id TEXT NOT NULL REFERENCES contact_groups (id) ON DELETE CASCADE,
    PRIMARY KEY (owner_id, group_id)
);

CREATE TABLE allowed_groups (
    owner_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    group_id TEXT NOT NULL REFERENCES contact_groups (id) ON DELETE CASCADE,
    PRIMARY KEY (owner_id, group_id)
);

CREATE TABLE presence (
    user_id      TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    setting      TEXT NOT NULL,
    text         TEXT,
    last_seen_at INTEGER
);

-- Live WebSocket connections, per server process (node). A node that stops beating is
-- swept with its connections.
CREATE TABLE nodes (
    id           TEXT PRIMARY KEY,
    heartbeat_at INTEGER NOT NULL
);

CREATE TABLE live_connections (
    id           TEXT PRIMARY KEY,
    node_id      TEXT NOT NULL,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    connected_at INTEGER NOT NULL
);
CREATE INDEX live_connections_user ON live_connections (user_id);
CREATE INDEX live_connections_node ON live_connections (node_id);
