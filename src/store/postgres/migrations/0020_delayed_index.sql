-- 0020: the index an idle consumer sleeps by (the earliest upcoming message of a queue) holds
-- only messages due after they were sent: a delay, a retry's backoff, a debounce, a deferral,
-- a dead letter. A message sent to run at once never enters it: its send writes one index
-- entry fewer, and vacuum has one fewer to clean after its ack. A message due at its send
-- time is due now for every process whose clock agrees with the sender's.
DROP INDEX messages_next_visible;
CREATE INDEX messages_delayed ON messages (queue, visible_at_ms) WHERE visible_at_ms > sent_at_ms;
