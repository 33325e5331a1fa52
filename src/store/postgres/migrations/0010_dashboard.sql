-- 0010: what the dashboard reads often and must find without a scan.
-- The change stream counts runs waiting and running once a second while a page is open.
CREATE INDEX IF NOT EXISTS runs_active ON runs (status) WHERE status IN ('queued', 'running');
