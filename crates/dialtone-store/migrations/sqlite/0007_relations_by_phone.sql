-- Who has a number in their block or allow lists (or in a contact group), looked up by
-- the number: a message to a large group asks this once for the sender instead of
-- listing every member's lists.
CREATE INDEX blocked_phones_by_phone ON blocked_phones (phone);
CREATE INDEX allowed_phones_by_phone ON allowed_phones (phone);
CREATE INDEX contact_group_members_by_phone ON contact_group_members (phone);
