-- 0019: push delivery. An idle consumer with a free handler slot offers itself for a queue's next
-- message (a row here); a single due message sent to the queue is leased to one such consumer by
-- the send itself and handed over in its notification, so the consumer starts it without a
-- claim of its own. An offer runs out at expires_at_ms unless renewed, or when a send takes it.
-- The lease lasts visibility_ms from the send or from the offer (offered_at_ms, the consumer's
-- clock), whichever is later; nothing is pushed while the consumer's function's invocation
-- queue (function_queue) or the queue is paused, nor through a LISTEN connection (listener_pid,
-- the server process the push's notification would reach the consumer through) that is gone:
-- its message would stay leased, to nobody, until its visibility timeout.
CREATE TABLE queue_waiters (
  queue          text   NOT NULL,
  consumer       text   NOT NULL,
  function_queue text,
  visibility_ms  bigint NOT NULL,
  offered_at_ms  bigint NOT NULL,
  expires_at_ms  bigint NOT NULL,
  listener_pid   integer NOT NULL,
  PRIMARY KEY (queue, consumer)
);
-- A send takes the freshest offer: an index walk, never a sort.
CREATE INDEX queue_waiters_fresh ON queue_waiters (queue, expires_at_ms);

-- One message of queue p_queue due now, sent at p_now_ms, in one round trip. It is committed
-- without waiting for the WAL flush, and the notification on p_channel goes out with that
-- commit: to the consumer it was pushed to (the message itself, as JSON, when an offer stands
-- and the body is small enough for a notification's 8,000 bytes once escaped), else to the
-- queue's consumers (the queue's name). Then a second transaction, one that writes WAL, commits
-- durably, flushing the first with it, before the call returns: a consumer starts the message a
-- flush sooner, and a send that returned is as durable as ever. A crash between the two loses
-- a message whose send then fails, as a connection cut after a commit leaves its sender unsure.
CREATE PROCEDURE send_one(p_queue text, p_body text, p_priority integer, p_visible_at_ms bigint,
    p_now_ms bigint, p_channel text, p_trace_context text, INOUT message_id bigint DEFAULT NULL)
LANGUAGE plpgsql AS $$
BEGIN
  SET LOCAL synchronous_commit = off;
  WITH w AS (
    DELETE FROM queue_waiters d WHERE d.ctid = (
      SELECT x.ctid FROM queue_waiters x
       WHERE x.queue = p_queue AND x.expires_at_ms > p_now_ms AND octet_length(p_body) <= 3000
         AND NOT EXISTS (SELECT 1 FROM queues q
                          WHERE q.name IN (x.queue, x.function_queue) AND q.paused_at_ms IS NOT NULL)
         AND EXISTS (SELECT 1 FROM pg_stat_get_activity(x.listener_pid))
       ORDER BY x.expires_at_ms DESC LIMIT 1 FOR UPDATE SKIP LOCKED)
    RETURNING d.consumer, greatest(d.offered_at_ms, p_now_ms) + d.visibility_ms AS lease_until_ms),
  ins AS (
    INSERT INTO messages (queue, body, priority, visible_at_ms, sent_at_ms, trace_context,
                          leased, lease_until_ms, receive_count)
    SELECT p_queue, p_body, p_priority, p_visible_at_ms, p_now_ms, p_trace_context,
           w.consumer IS NOT NULL, w.lease_until_ms, CASE WHEN w.consumer IS NULL THEN 0 ELSE 1 END
      FROM (VALUES (1)) AS one(x) LEFT JOIN w ON true
    RETURNING id)
  SELECT ins.id INTO message_id FROM ins LEFT JOIN w ON true,
    LATERAL (SELECT pg_notify(p_channel, CASE WHEN w.consumer IS NULL THEN p_queue ELSE json_build_object(
      'push', w.consumer, 'id', ins.id, 'body', p_body, 'priority', p_priority, 'sent_at_ms', p_now_ms,
      'visible_at_ms', p_visible_at_ms, 'trace_context', p_trace_context)::text END)) AS n;
  COMMIT;
  -- A logical message only to write WAL (pg_current_xact_id writes none, and a commit that wrote
  -- none does not wait for a flush); any role may emit one, and logical decoders skip its prefix.
  PERFORM pg_logical_emit_message(true, 'mainspring.flush', '');
END $$;
