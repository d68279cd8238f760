-- Deactivated accounts, bots and their webhooks, avatars, direct messages
-- and password resets.
ALTER TABLE users ADD COLUMN deactivated_at INTEGER;
ALTER TABLE users ADD COLUMN is_bot INTEGER NOT NULL DEFAULT 0;
-- A bot's token is kept only as its SHA-256.
ALTER TABLE users ADD COLUMN bot_token_hash BLOB;
ALTER TABLE users ADD COLUMN webhook_url TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX users_bot_token_hash ON users (bot_token_hash) WHERE bot_token_hash IS NOT NULL;

-- An uploaded avatar, re-encoded as a small PNG.
CREATE TABLE avatars (
    user_id    INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    image      BLOB    NOT NULL,
    updated_at INTEGER NOT NULL
);

-- A room is a room, or the direct messages of two users: then its
-- name_key is made of their ids, so that a pair has one such room.
ALTER TABLE rooms ADD COLUMN kind TEXT NOT NULL DEFAULT 'room' CHECK (kind IN ('room', 'dm'));

-- One-time password-reset links, kept as the SHA-256 of their token.
CREATE TABLE password_resets (
    token_hash BLOB    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_by INTEGER NOT NULL REFERENCES users (id),
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
) WITHOUT ROWID;
