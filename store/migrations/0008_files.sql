-- Files: what posts carry (kind 'attachment') and the pictures of link
-- cards ('card'), their bytes in chunks, and the cards of posts' links.

-- AUTOINCREMENT: a file's id is never handed out twice, for its URL
-- (/files/{id}/{name}) is cached for long.
CREATE TABLE files (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id        INTEGER NOT NULL REFERENCES users (id),
    -- NULL until the post that holds it is stored.
    message_id     INTEGER REFERENCES messages (id) ON DELETE CASCADE,
    kind           TEXT    NOT NULL CHECK (kind IN ('attachment', 'card')),
    position       INTEGER NOT NULL DEFAULT 0,
    name           TEXT    NOT NULL,
    type           TEXT    NOT NULL,
    size           INTEGER NOT NULL,
    width          INTEGER NOT NULL DEFAULT 0,
    height         INTEGER NOT NULL DEFAULT 0,
    preview_type   TEXT    NOT NULL DEFAULT '',
    preview_size   INTEGER NOT NULL DEFAULT 0,
    preview_width  INTEGER NOT NULL DEFAULT 0,
    preview_height INTEGER NOT NULL DEFAULT 0,
    sha256         TEXT    NOT NULL,
    created_at     INTEGER NOT NULL
);
CREATE INDEX files_message_id ON files (message_id, position);
-- A user's uploads of the last day, for the quota.
CREATE INDEX files_user_id ON files (user_id, created_at);
-- Uploads no post holds, for the sweep.
CREATE INDEX files_unattached ON files (created_at) WHERE message_id IS NULL;

-- A file's bytes (variant 0) and its preview's (1), in chunks of 256 KiB.
-- A table with rowids, not WITHOUT ROWID: SQLite advises rowids for rows
-- this large (a WITHOUT ROWID row should stay under a twentieth of a page).
CREATE TABLE file_chunks (
    file_id INTEGER NOT NULL REFERENCES files (id) ON DELETE CASCADE,
    variant INTEGER NOT NULL CHECK (variant IN (0, 1)),
    seq     INTEGER NOT NULL,
    data    BLOB    NOT NULL,
    PRIMARY KEY (file_id, variant, seq)
);

-- The card of a post's first link. removed: its author took it away, and
-- it never comes back (the other columns are emptied).
CREATE TABLE link_cards (
    message_id  INTEGER PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
    url         TEXT    NOT NULL DEFAULT '',
    title       TEXT    NOT NULL DEFAULT '',
    description TEXT    NOT NULL DEFAULT '',
    site        TEXT    NOT NULL DEFAULT '',
    image_id    INTEGER REFERENCES files (id),
    removed     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX link_cards_image_id ON link_cards (image_id);

-- Search finds a post by its attachments' names too: the index's view of
-- a post is its text and their names (in the order of the chat's
-- postSearchText, which IndexPosts indexes; the tokens are a set, so the
-- order of the names does not matter).
DROP VIEW post_search_source;
CREATE VIEW post_search_source AS
    SELECT id AS rowid, chat_search_tokens(body || COALESCE((SELECT ' ' || group_concat(f.name, ' ') FROM files f
        WHERE f.message_id = messages.id AND f.kind = 'attachment'), '')) AS tokens FROM messages
    WHERE kind = 'post' AND deleted_at IS NULL AND id <= (SELECT indexed_upto FROM search_state);
