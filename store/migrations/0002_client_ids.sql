-- A post may carry an id its sender's page made, so that a send replayed
-- after a dropped connection lands once.
ALTER TABLE messages ADD COLUMN client_id TEXT;
CREATE UNIQUE INDEX messages_client_id ON messages (user_id, client_id) WHERE client_id IS NOT NULL;
