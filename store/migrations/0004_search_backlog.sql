-- Posts are indexed for search behind the writer, in batches of their
-- own: indexed_upto is the newest entry the index has taken (every older
-- post is in it). Search reads the few newer ones directly.
CREATE TABLE search_state (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    indexed_upto INTEGER NOT NULL
);
INSERT INTO search_state (id, indexed_upto) SELECT 1, COALESCE(MAX(id), 0) FROM messages;
-- The index's view of the posts: those it has taken, as they are now.
DROP VIEW post_search_source;
CREATE VIEW post_search_source AS
    SELECT id AS rowid, chat_search_tokens(body) AS tokens FROM messages
    WHERE kind = 'post' AND deleted_at IS NULL AND id <= (SELECT indexed_upto FROM search_state);
