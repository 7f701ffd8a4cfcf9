-- Bumped whenever members join or leave, so a node may keep a conversation's member list
-- in memory and know, from the conversation's row alone, whether it is still right.
ALTER TABLE conversations ADD COLUMN members_version BIGINT NOT NULL DEFAULT 0;
