-- 0014: the trace context a message or an execution was sent or started in (issue 22): JSON
-- text of the carrier the app's OpenTelemetry propagator injected (W3C traceparent and
-- tracestate, usually). The run or replay it causes is a child of that context. NULL when no
-- context was active: untraced apps store nothing. Read only by the claims that start the work.
ALTER TABLE messages ADD COLUMN trace_context TEXT;
ALTER TABLE workflow_executions ADD COLUMN trace_context TEXT;
