-- 0016: flow limits across a function's queues (issue 25; src/store/flow.ts explains the
-- shape). A limited function's message keeps the key its consumer computed on first receipt,
-- so claims skip the messages of a key at its concurrency limit; its running messages are its
-- leased ones. A rate limit keeps one GCRA state row per function and key.
ALTER TABLE messages ADD COLUMN flow_key TEXT;
CREATE INDEX messages_flow ON messages (flow_key, queue) WHERE flow_key IS NOT NULL;
CREATE TABLE flow_rates (
  scope TEXT NOT NULL,
  key TEXT NOT NULL,
  tat_ms INTEGER NOT NULL,
  PRIMARY KEY (scope, key)
) STRICT, WITHOUT ROWID;
