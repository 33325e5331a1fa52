-- 0002: queues and their messages.
-- A message is visible when visible_at_ms <= now; a received message is leased
-- (leased = true) until visible_at_ms, its visibility timeout. Dead letters are
-- messages moved into the dead-letter queue, remembering source_queue for redrive.
CREATE TABLE queues (
  name          text   PRIMARY KEY,
  config        jsonb  NOT NULL,
  created_at_ms bigint NOT NULL,
  updated_at_ms bigint NOT NULL
);

CREATE TABLE messages (
  id            bigserial PRIMARY KEY,
  queue         text      NOT NULL,
  body          text      NOT NULL,
  priority      integer   NOT NULL DEFAULT 0,
  visible_at_ms bigint    NOT NULL,
  receive_count integer   NOT NULL DEFAULT 0,
  leased        boolean   NOT NULL DEFAULT false,
  group_id      text,
  sent_at_ms    bigint    NOT NULL,
  errors        jsonb,
  source_queue  text,
  dead_at_ms    bigint
);

CREATE INDEX messages_claim ON messages (queue, priority DESC, visible_at_ms, id);
CREATE INDEX messages_fifo ON messages (queue, group_id, id) WHERE group_id IS NOT NULL;

-- Deduplication keys live apart from messages: a key keeps deduplicating for
-- its window even after its message has been processed and deleted.
CREATE TABLE queue_dedup (
  queue         text   NOT NULL,
  key           text   NOT NULL,
  message_id    bigint NOT NULL,
  expires_at_ms bigint NOT NULL,
  PRIMARY KEY (queue, key)
);
