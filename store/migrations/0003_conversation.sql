-- Edits, deletes, mentions and reactions of posts; what each user has read;
-- the search index.

-- rev orders the changes of a room's entries (an edit, a delete, a
-- reaction): a page that reconnects asks for those newer than the last it
-- holds. 0: never changed.
ALTER TABLE messages ADD COLUMN rev INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN edited_at INTEGER;
ALTER TABLE messages ADD COLUMN deleted_at INTEGER;
-- The usernames the post mentions, as the accounts spell them, separated
-- by spaces.
ALTER TABLE messages ADD COLUMN mentions TEXT NOT NULL DEFAULT '';
CREATE INDEX messages_room_rev ON messages (room_id, rev) WHERE rev > 0;

-- A reaction's id keeps the order they were given in.
CREATE TABLE reactions (
    id         INTEGER PRIMARY KEY,
    message_id INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    emoji      TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (message_id, emoji, user_id)
);

-- The newest entry of each room a user has seen.
CREATE TABLE room_reads (
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    room_id      INTEGER NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    last_read_id INTEGER NOT NULL,
    PRIMARY KEY (user_id, room_id)
) WITHOUT ROWID;

-- Search: each post is indexed as the trigrams of its words (see
-- search.go), so that any substring of three characters or more, in any
-- script, finds it. The index keeps no copy of the text: it reads the
-- tokens of a post from this view when it must forget them.
CREATE VIEW post_search_source AS
    SELECT id AS rowid, chat_search_tokens(body) AS tokens FROM messages WHERE kind = 'post';
CREATE VIRTUAL TABLE post_search USING fts4 (content='post_search_source', tokens, order=DESC, tokenize=simple);
INSERT INTO post_search (post_search) VALUES ('rebuild');
