-- 0015: flow limits across processes (issue 25; src/store/flow.ts explains the shape). A
-- limited function's message keeps the key its consumer computed on first receipt, so claims
-- skip the messages of a key at its concurrency limit; its running messages are its leased
-- ones. A rate limit keeps one GCRA state row per function and key. The index holds only
-- keyed messages, and no column a plain claim changes, so other queues' claims stay HOT updates.
ALTER TABLE messages ADD COLUMN flow_key text;
CREATE INDEX messages_flow ON messages (flow_key, queue) WHERE flow_key IS NOT NULL;
CREATE TABLE flow_rates (
  scope text NOT NULL,
  key text NOT NULL,
  tat_ms bigint NOT NULL,
  PRIMARY KEY (scope, key)
);
