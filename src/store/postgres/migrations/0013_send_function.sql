-- 0013: send(queue, body, options), a message sent from SQL (issue 25). Called in the caller's
-- own transaction, the message commits or rolls back with the caller's writes, and its NOTIFY
-- is delivered only on commit, which is when idle workers should wake. It does for one message
-- what a send through the store does: the queue's stored settings decide FIFO, the body limit
-- and the dedup window. Returns the message id (bigint, as messages.id), or for a live dedup
-- key the first message's id.
--
--   SELECT mainspring.send('emails', '{"to":"a@b.c"}');
--   SELECT mainspring.send('emails', '{"to":"a@b.c"}', '{"delay": 60000, "priority": 5}');
--
-- options (a JSON object; null values count as absent):
--   delay        milliseconds before the message is visible, a whole number >= 0 (default 0)
--   priority     a whole number, higher first (default 0)
--   groupId      a string of 1 to 128 characters; required on a FIFO queue, refused on others
--   dedupKey     a string of 1 to 128 characters: within the queue's dedup window of its
--                first send, a second send stores nothing and returns the first id
--   sentAtMs     the sending instant in epoch ms (default: the database's statement time)
--   dedupWindowMs, traceContext: what mainspring's own client passes (its clock's dedup window
--                and the active trace); SQL callers leave them out
-- A bad option, a missing queue or an oversized body raises an exception naming what is wrong.
--
-- The migration runs with search_path set to the store's schema (the pool sets it), so SET
-- search_path FROM CURRENT pins that schema: the function finds its tables whatever the
-- caller's search_path, and the channel it notifies is the one the store listens on
-- (<schema>.messages, with the queue as payload). It runs with the caller's privileges.
CREATE FUNCTION send_whole_number(options jsonb, field text, lo numeric, hi numeric, fix text)
RETURNS bigint
LANGUAGE plpgsql IMMUTABLE
SET search_path FROM CURRENT
AS $fn$
DECLARE
  v jsonb := options -> field;
BEGIN
  IF v IS NULL OR jsonb_typeof(v) = 'null' THEN
    RETURN NULL;
  END IF;
  IF jsonb_typeof(v) <> 'number' OR v::text::numeric <> trunc(v::text::numeric)
     OR v::text::numeric < lo OR v::text::numeric > hi THEN
    RAISE EXCEPTION 'mainspring send: options.% is %; %', field, v::text, fix
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  RETURN v::text::bigint;
END
$fn$;

CREATE FUNCTION send(queue text, body jsonb, options jsonb DEFAULT '{}')
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path FROM CURRENT
AS $fn$
#variable_conflict use_column
DECLARE
  opts       jsonb := coalesce(send.options, '{}'::jsonb);
  v_settings jsonb;
  v_key      text;
  v_text     text;
  v_sent     bigint;
  v_delay    bigint;
  v_priority integer;
  v_window   bigint;
  v_group    text;
  v_dedup    text;
  v_trace    text;
  v_id       bigint;
  v_taken    bigint;
BEGIN
  IF jsonb_typeof(opts) <> 'object' THEN
    RAISE EXCEPTION 'mainspring send: options is a JSON %, not an object; pass an object such as ''{"delay": 60000}'' or leave it out',
      jsonb_typeof(opts) USING ERRCODE = 'invalid_parameter_value';
  END IF;
  FOR v_key IN SELECT jsonb_object_keys(opts) LOOP
    IF v_key NOT IN ('delay', 'priority', 'groupId', 'dedupKey', 'sentAtMs', 'dedupWindowMs', 'traceContext') THEN
      RAISE EXCEPTION 'mainspring send: options.% is not an option; use delay, priority, groupId or dedupKey', v_key
        USING ERRCODE = 'invalid_parameter_value';
    END IF;
  END LOOP;
  IF send.queue IS NULL THEN
    RAISE EXCEPTION 'mainspring send: queue is NULL; name a queue' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  SELECT config INTO v_settings FROM queues WHERE name = send.queue;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'mainspring send: queue "%" does not exist; define it with defineQueue({ name: ''%'' }) and start mainspring once (which stores it), or check the schema', send.queue, send.queue
      USING ERRCODE = 'undefined_object';
  END IF;
  IF send.body IS NULL THEN
    RAISE EXCEPTION 'mainspring send: body is NULL; send JSON (''null''::jsonb for a JSON null)'
      USING ERRCODE = 'null_value_not_allowed';
  END IF;
  v_text := send.body::text;
  IF octet_length(v_text) > (v_settings ->> 'maxBodyBytes')::bigint THEN
    RAISE EXCEPTION 'mainspring send: body is % bytes of JSON, over queue "%"''s limit of %; store large data elsewhere and send a reference, or raise maxBodyBytes',
      octet_length(v_text), send.queue, v_settings ->> 'maxBodyBytes' USING ERRCODE = 'program_limit_exceeded';
  END IF;

  v_delay := coalesce(send_whole_number(opts, 'delay', 0, 9007199254740991, 'use a whole number of milliseconds, 0 or more'), 0);
  v_priority := coalesce(send_whole_number(opts, 'priority', -2147483647, 2147483647, 'use a whole number (higher is delivered first)'), 0);
  v_sent := coalesce(send_whole_number(opts, 'sentAtMs', 0, 9007199254740991, 'use epoch milliseconds, or leave it out'),
                     (extract(epoch FROM statement_timestamp()) * 1000)::bigint);
  v_window := coalesce(send_whole_number(opts, 'dedupWindowMs', 0, 9007199254740991, 'use a whole number of milliseconds, or leave it out'),
                       (v_settings ->> 'dedupWindowMs')::bigint);
  IF opts ? 'groupId' AND jsonb_typeof(opts -> 'groupId') <> 'null' THEN
    IF jsonb_typeof(opts -> 'groupId') <> 'string' OR length(opts ->> 'groupId') NOT BETWEEN 1 AND 128 THEN
      RAISE EXCEPTION 'mainspring send: options.groupId is %; use a string of 1 to 128 characters naming the ordered group', opts -> 'groupId'
        USING ERRCODE = 'invalid_parameter_value';
    END IF;
    v_group := opts ->> 'groupId';
  END IF;
  IF v_group IS NOT NULL AND NOT coalesce((v_settings ->> 'fifo')::boolean, false) THEN
    RAISE EXCEPTION 'mainspring send: options.groupId is set, but queue "%" is not FIFO; drop groupId or define the queue with fifo: true', send.queue
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF v_group IS NULL AND coalesce((v_settings ->> 'fifo')::boolean, false) THEN
    RAISE EXCEPTION 'mainspring send: options.groupId is required on FIFO queue "%": a string of 1 to 128 characters naming the ordered group', send.queue
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF opts ? 'dedupKey' AND jsonb_typeof(opts -> 'dedupKey') <> 'null' THEN
    IF jsonb_typeof(opts -> 'dedupKey') <> 'string' OR length(opts ->> 'dedupKey') NOT BETWEEN 1 AND 128 THEN
      RAISE EXCEPTION 'mainspring send: options.dedupKey is %; use a string of 1 to 128 characters', opts -> 'dedupKey'
        USING ERRCODE = 'invalid_parameter_value';
    END IF;
    v_dedup := opts ->> 'dedupKey';
  END IF;
  IF opts ? 'traceContext' AND jsonb_typeof(opts -> 'traceContext') <> 'null' THEN
    IF jsonb_typeof(opts -> 'traceContext') <> 'string' THEN
      RAISE EXCEPTION 'mainspring send: options.traceContext is %; use a string, or leave it out', opts -> 'traceContext'
        USING ERRCODE = 'invalid_parameter_value';
    END IF;
    v_trace := opts ->> 'traceContext';
  END IF;

  IF v_dedup IS NULL THEN
    INSERT INTO messages (queue, body, priority, visible_at_ms, group_id, sent_at_ms, trace_context)
    VALUES (send.queue, v_text, v_priority, v_sent + v_delay, v_group, v_sent, v_trace)
    RETURNING id INTO v_id;
  ELSE
    -- As the store's dedup send: take the key for a reserved id unless it is live, else
    -- answer with its holder and store nothing. A concurrent sender of the same key waits
    -- for this transaction, then sees the key taken.
    v_id := nextval(pg_get_serial_sequence('messages', 'id'));
    INSERT INTO queue_dedup AS d (queue, key, message_id, expires_at_ms)
    VALUES (send.queue, v_dedup, v_id, v_sent + v_window)
    ON CONFLICT ON CONSTRAINT queue_dedup_pkey DO UPDATE
      SET message_id = excluded.message_id, expires_at_ms = excluded.expires_at_ms
      WHERE d.expires_at_ms <= v_sent
    RETURNING message_id INTO v_taken;
    IF v_taken IS NULL THEN
      SELECT message_id INTO v_id FROM queue_dedup WHERE queue = send.queue AND key = v_dedup;
      RETURN v_id;
    END IF;
    INSERT INTO messages (id, queue, body, priority, visible_at_ms, group_id, sent_at_ms, trace_context)
    VALUES (v_id, send.queue, v_text, v_priority, v_sent + v_delay, v_group, v_sent, v_trace);
  END IF;
  PERFORM pg_notify(current_schema() || '.messages', send.queue);
  RETURN v_id;
END
$fn$;
