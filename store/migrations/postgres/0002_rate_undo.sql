-- chat_rate, as in 0001, with two more modes: 'undo' gives back one event
-- recorded at now_ms (a reservation whose work did not happen), and
-- 'count' returns how many events the key has in the window, recording
-- nothing. The row is locked before its log is read, so that calls for one
-- key from any instance are strictly one after the other and each sees the
-- log the one before it wrote: a burst gets exactly lim events through.
CREATE OR REPLACE FUNCTION chat_rate(k TEXT, now_ms BIGINT, window_ms BIGINT, lim INTEGER, mode TEXT) RETURNS BIGINT
LANGUAGE plpgsql AS $$
DECLARE
    raw  BIGINT[];
    log  BIGINT[];
    wait BIGINT := 0;
    i    INTEGER;
BEGIN
    INSERT INTO rate_logs (key, hits, updated_at) VALUES (k, '{}', now_ms) ON CONFLICT (key) DO NOTHING;
    SELECT r.hits INTO raw FROM rate_logs r WHERE r.key = k FOR UPDATE;
    log := ARRAY(SELECT h FROM unnest(raw) AS h WHERE h > now_ms - window_ms ORDER BY h);
    IF mode = 'count' THEN
        RETURN cardinality(log);
    END IF;
    IF cardinality(log) >= lim THEN
        wait := log[cardinality(log) - lim + 1] + window_ms - now_ms;
    END IF;
    IF mode = 'allow' AND wait = 0 THEN
        log := log || now_ms;
    ELSIF mode = 'undo' THEN
        wait := 0;
        i := array_position(log, now_ms);
        IF i IS NOT NULL THEN
            log := log[1 : i - 1] || log[i + 1 : cardinality(log)];
        END IF;
    ELSIF mode = 'add' THEN
        log := log || now_ms;
        IF cardinality(log) > lim THEN
            log := log[cardinality(log) - lim + 1 : cardinality(log)];
        END IF;
    ELSIF mode = 'reset' THEN
        log := '{}';
    END IF;
    UPDATE rate_logs SET hits = log, updated_at = GREATEST(updated_at, now_ms) WHERE key = k;
    RETURN wait;
END
$$;
