-- The language a user chose for the chat's words ('' until they choose:
-- their browser's Accept-Language decides meanwhile).
ALTER TABLE users ADD COLUMN language TEXT NOT NULL DEFAULT '';
