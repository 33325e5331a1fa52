-- 0017: key rows (dedup, throttle and debounce keys) are deleted once spent, by the retention
-- sweep; before, a key used once (an order id as dedup key) stayed for ever. The sweep finds
-- them by their end.
CREATE INDEX queue_dedup_expires ON queue_dedup (expires_at_ms);
