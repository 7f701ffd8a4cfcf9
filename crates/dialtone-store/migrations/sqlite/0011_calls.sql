-- Calls. A call moves ringing -> active -> ended, each move one conditional UPDATE.
-- `reaches` is false for a call its callee never hears of (the caller may not reach
-- them): it rings nowhere and never makes the callee busy.
CREATE TABLE calls (
    id              TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    caller_id       TEXT NOT NULL,
    caller_session  TEXT NOT NULL,
    callee_id       TEXT NOT NULL,
    callee_session  TEXT,
    media           TEXT NOT NULL,
    state           TEXT NOT NULL,
    reaches         BOOLEAN NOT NULL,
    node_id         TEXT NOT NULL,
    started_at      BIGINT NOT NULL,
    answered_at     BIGINT,
    ended_at        BIGINT,
    end_reason      TEXT
);
CREATE INDEX calls_live_by_caller ON calls (caller_id) WHERE state <> 'ended';
CREATE INDEX calls_live_by_callee ON calls (callee_id) WHERE state <> 'ended';
