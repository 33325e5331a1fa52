-- 0002: queues and their messages.
-- A message is visible when visible_at_ms <= now; a received message is leased
-- (leased = 1) until visible_at_ms, its visibility timeout. Dead letters are
-- messages moved into the dead-letter queue, remembering source_queue for redrive.
-- AUTOINCREMENT: ids are never reused, so a stale ack can never hit a newer message.
CREATE TABLE queues (
  name          TEXT    PRIMARY KEY,
  config        TEXT    NOT NULL,
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL
) STRICT;

CREATE TABLE messages (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  queue         TEXT    NOT NULL,
  body          TEXT    NOT NULL,
  priority      INTEGER NOT NULL DEFAULT 0,
  visible_at_ms INTEGER NOT NULL,
  receive_count INTEGER NOT NULL DEFAULT 0,
  leased        INTEGER NOT NULL DEFAULT 0,
  group_id      TEXT,
  sent_at_ms    INTEGER NOT NULL,
  errors        TEXT,
  source_queue  TEXT,
  dead_at_ms    INTEGER
) STRICT;

CREATE INDEX messages_claim ON messages (queue, priority DESC, visible_at_ms, id);
CREATE INDEX messages_fifo ON messages (queue, group_id, id) WHERE group_id IS NOT NULL;

-- Deduplication keys live apart from messages: a key keeps deduplicating for
-- its window even after its message has been processed and deleted.
CREATE TABLE queue_dedup (
  queue         TEXT    NOT NULL,
  key           TEXT    NOT NULL,
  message_id    INTEGER NOT NULL,
  expires_at_ms INTEGER NOT NULL,
  PRIMARY KEY (queue, key)
) STRICT, WITHOUT ROWID;
