-- 0012: the trace context a message or an execution was sent or started in (issue 22): JSON
-- text of the carrier the app's OpenTelemetry propagator injected (W3C traceparent and
-- tracestate, usually). The run or replay it causes is a child of that context. NULL when no
-- context was active: untraced apps store nothing. A nullable column without a default is
-- added without rewriting the table.
ALTER TABLE messages ADD COLUMN trace_context text;
ALTER TABLE workflow_executions ADD COLUMN trace_context text;
