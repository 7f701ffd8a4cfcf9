-- Blog articles and photo albums are items of a space too. An article has a title, its
-- Markdown and the HTML made from it, may be a draft, and has tags; an album has a title
-- and a cover; a photo belongs to an album (its audience is the album's) in an order.
ALTER TABLE community_items ADD COLUMN title TEXT;
ALTER TABLE community_items ADD COLUMN body TEXT;
ALTER TABLE community_items ADD COLUMN body_html TEXT;
ALTER TABLE community_items ADD COLUMN draft INTEGER NOT NULL DEFAULT 0;
ALTER TABLE community_items ADD COLUMN parent_id TEXT REFERENCES community_items (id) ON DELETE CASCADE;
ALTER TABLE community_items ADD COLUMN position INTEGER;
ALTER TABLE community_items ADD COLUMN cover_id TEXT REFERENCES attachments (id) ON DELETE SET NULL;

-- Listings walk community_items_by_owner (owner, newest first) and filter kind and
-- draft as they go: one owner's items are few, and the walk stops at the page's end.
CREATE INDEX community_items_by_parent ON community_items (parent_id, position)
    WHERE parent_id IS NOT NULL;

CREATE TABLE community_item_tags (
    item_id TEXT NOT NULL REFERENCES community_items (id) ON DELETE CASCADE,
    tag     TEXT NOT NULL,
    PRIMARY KEY (item_id, tag)
);
CREATE INDEX community_item_tags_by_tag ON community_item_tags (tag, item_id);
