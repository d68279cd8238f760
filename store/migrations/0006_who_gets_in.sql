-- Who gets in: closed and archived rooms, the entries that say a room was
-- renamed, closed or archived, the registration policy and invitations.

-- A closed room is read by its members alone; an archived one is read-only.
ALTER TABLE rooms ADD COLUMN access TEXT NOT NULL DEFAULT 'open' CHECK (access IN ('open', 'closed'));
ALTER TABLE rooms ADD COLUMN archived_at INTEGER;

-- Entries of more kinds: a room renamed, opened or closed, archived or
-- brought back. SQLite cannot change a table's CHECK, so messages (and
-- reactions, which refer to it) are made again with the same rows, ids
-- and AUTOINCREMENT counter. The view of the search index is made again
-- after; the index itself (FTS4, keyed by entry id) stays as it is.
DROP VIEW post_search_source;
CREATE TABLE messages_new (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    room_id    INTEGER NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users (id),
    kind       TEXT    NOT NULL CHECK (kind IN ('post', 'join', 'leave', 'rename', 'access', 'archive')),
    body       TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    client_id  TEXT,
    rev        INTEGER NOT NULL DEFAULT 0,
    edited_at  INTEGER,
    deleted_at INTEGER,
    mentions   TEXT    NOT NULL DEFAULT ''
);
INSERT INTO messages_new (id, room_id, user_id, kind, body, created_at, client_id, rev, edited_at, deleted_at, mentions)
    SELECT id, room_id, user_id, kind, body, created_at, client_id, rev, edited_at, deleted_at, mentions FROM messages;
INSERT INTO sqlite_sequence (name, seq) SELECT 'messages_new', 0 WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'messages_new');
UPDATE sqlite_sequence SET seq = max(seq, COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'messages'), 0))
    WHERE name = 'messages_new';
CREATE TABLE reactions_new (
    id         INTEGER PRIMARY KEY,
    message_id INTEGER NOT NULL REFERENCES messages_new (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    emoji      TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (message_id, emoji, user_id)
);
INSERT INTO reactions_new (id, message_id, user_id, emoji, created_at)
    SELECT id, message_id, user_id, emoji, created_at FROM reactions;
-- reactions first: with nothing referring to messages any more, dropping
-- it deletes no other rows.
DROP TABLE reactions;
DROP TABLE messages;
ALTER TABLE messages_new RENAME TO messages;
ALTER TABLE reactions_new RENAME TO reactions;
CREATE INDEX messages_room_id ON messages (room_id, id);
CREATE UNIQUE INDEX messages_client_id ON messages (user_id, client_id) WHERE client_id IS NOT NULL;
CREATE INDEX messages_room_rev ON messages (room_id, rev) WHERE rev > 0;
CREATE VIEW post_search_source AS
    SELECT id AS rowid, chat_search_tokens(body) AS tokens FROM messages
    WHERE kind = 'post' AND deleted_at IS NULL AND id <= (SELECT indexed_upto FROM search_state);

-- Settings an admin changes while the chat runs, one row each.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT INTO settings (key, value) VALUES ('registration', 'open');

-- Invitations to register, kept as the SHA-256 of their token.
CREATE TABLE invitations (
    id         INTEGER PRIMARY KEY,
    token_hash BLOB    NOT NULL UNIQUE,
    created_by INTEGER NOT NULL REFERENCES users (id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    max_uses   INTEGER NOT NULL CHECK (max_uses > 0),
    uses       INTEGER NOT NULL DEFAULT 0,
    revoked_at INTEGER
);
