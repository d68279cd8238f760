-- Notifications: what each member is told of a room's entries ('all',
-- 'mentions' or 'nothing'), and whether a user hears a sound with them.
ALTER TABLE memberships ADD COLUMN notify TEXT NOT NULL DEFAULT 'mentions'
    CHECK (notify IN ('all', 'mentions', 'nothing'));
ALTER TABLE users ADD COLUMN sound INTEGER NOT NULL DEFAULT 0;
-- The posts that mention anyone, by room: an unread mention is found
-- among them alone.
CREATE INDEX messages_room_mentions ON messages (room_id, id) WHERE mentions != '';
