-- Notifications when the app is closed: each device's Web Push subscription, the
-- settings of a user's notifications, and per-conversation mutes.

-- One subscription per device (session); logging the device out drops it.
CREATE TABLE push_subscriptions (
    session_id TEXT PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    endpoint   TEXT NOT NULL UNIQUE,
    p256dh     TEXT NOT NULL,
    auth       TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX push_subscriptions_user ON push_subscriptions (user_id);

-- Which device a live connection is (push goes to devices with none).
ALTER TABLE live_connections ADD COLUMN session_id TEXT;
CREATE INDEX live_connections_session ON live_connections (session_id);

-- A user's notification settings; no row is the defaults (previews shown, hidden
-- contacts' previews not, no quiet hours). Quiet hours are minutes of the day in the
-- user's local time (`utc_offset_minutes` east of UTC), from `quiet_from` to `quiet_to`.
CREATE TABLE notify_settings (
    user_id            TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    previews           BOOLEAN NOT NULL,
    hidden_previews    BOOLEAN NOT NULL,
    quiet_from         BIGINT,
    quiet_to           BIGINT,
    utc_offset_minutes BIGINT NOT NULL
);

-- Muted until this time (Unix ms); "always" is a time far ahead.
ALTER TABLE conversation_members ADD COLUMN muted_until BIGINT;
