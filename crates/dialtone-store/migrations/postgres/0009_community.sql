-- The community: profiles, items of a personal space (posts now; articles and albums
-- later share the table), their audiences, comments, likes and notifications.
CREATE TABLE profiles (
    user_id             TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    signature           TEXT,
    bio                 TEXT,
    region              TEXT,
    gender              TEXT,
    birthday            TEXT,
    region_visibility   TEXT NOT NULL,
    gender_visibility   TEXT NOT NULL,
    birthday_visibility TEXT NOT NULL,
    avatar_id           TEXT REFERENCES attachments (id) ON DELETE SET NULL,
    cover_id            TEXT REFERENCES attachments (id) ON DELETE SET NULL,
    space_window        TEXT NOT NULL,
    updated_at          BIGINT NOT NULL
);

CREATE TABLE community_items (
    id           TEXT PRIMARY KEY,
    owner_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind         TEXT NOT NULL,
    audience     TEXT NOT NULL,
    text         TEXT NOT NULL,
    place        TEXT,
    link_url     TEXT,
    link_title   TEXT,
    link_summary TEXT,
    link_image   TEXT REFERENCES attachments (id) ON DELETE SET NULL,
    created_at   BIGINT NOT NULL,
    edited_at    BIGINT
);
-- A space, and a feed of many owners, newest first.
CREATE INDEX community_items_by_owner ON community_items (owner_id, created_at DESC, id DESC);

-- The pictures (or video, or voice clip) of an item, in order.
CREATE TABLE community_item_attachments (
    item_id       TEXT NOT NULL REFERENCES community_items (id) ON DELETE CASCADE,
    position      BIGINT NOT NULL,
    attachment_id TEXT NOT NULL REFERENCES attachments (id),
    PRIMARY KEY (item_id, position)
);
CREATE INDEX community_item_attachments_by_attachment
    ON community_item_attachments (attachment_id);

-- The people (by number) and contact groups an item names: its whole audience when
-- chosen, those left out when "all except".
CREATE TABLE community_item_people (
    item_id TEXT NOT NULL REFERENCES community_items (id) ON DELETE CASCADE,
    phone   TEXT NOT NULL,
    PRIMARY KEY (item_id, phone)
);
CREATE TABLE community_item_groups (
    item_id  TEXT NOT NULL REFERENCES community_items (id) ON DELETE CASCADE,
    group_id TEXT NOT NULL REFERENCES contact_groups (id) ON DELETE CASCADE,
    PRIMARY KEY (item_id, group_id)
);

CREATE TABLE community_comments (
    id         TEXT PRIMARY KEY,
    item_id    TEXT NOT NULL REFERENCES community_items (id) ON DELETE CASCADE,
    author_id  TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    reply_to   TEXT,
    text       TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX community_comments_by_item ON community_comments (item_id, created_at, id);

CREATE TABLE community_likes (
    item_id    TEXT NOT NULL REFERENCES community_items (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (item_id, user_id)
);

-- What concerns a user: a comment, a reply or a like by someone else.
CREATE TABLE community_notifications (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    actor_id   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    item_id    TEXT NOT NULL REFERENCES community_items (id) ON DELETE CASCADE,
    comment_id TEXT REFERENCES community_comments (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    read       BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX community_notifications_by_user ON community_notifications (user_id, created_at DESC, id DESC);
