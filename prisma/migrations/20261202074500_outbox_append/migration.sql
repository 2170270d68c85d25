-- The outbox write of one change in one statement (src/events/outbox.ts builds the events, src/audit/audit-log.ts
-- calls this beside audit_append, so a change's audit event and its announcements cost one round trip).
-- p_events is a JSON array of {id, type, subject, payload}. The advisory lock (0x65766e74, the one the outbox
-- has always taken) is held to commit: an event's seq is never smaller than one committed before it.
CREATE FUNCTION outbox_append(p_events JSONB, p_at TIMESTAMPTZ) RETURNS INTEGER LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    e JSONB;
    s BIGINT;
    n INTEGER := 0;
BEGIN
    IF p_events IS NULL OR jsonb_array_length(p_events) = 0 THEN
        RETURN 0;
    END IF;
    PERFORM pg_advisory_xact_lock(1702260340);
    FOR e IN SELECT value FROM jsonb_array_elements(p_events) LOOP
        INSERT INTO events (id, type, subject, payload, created_at)
        VALUES ((e->>'id')::uuid, e->>'type', e->'subject', e->'payload', p_at)
        RETURNING seq INTO s;
        INSERT INTO event_deliveries (subscription_id, event_seq, next_attempt_at)
        SELECT id, s, p_at FROM event_subscriptions WHERE e->>'type' = ANY (events);
        n := n + 1;
    END LOOP;
    RETURN n;
END
$$;

-- The registry version bump (src/registry/deps.ts) as a function, so a statement can call it after the audit
-- and outbox appends, taking the three locks in the order every other change takes them.
CREATE FUNCTION registry_bump() RETURNS BIGINT LANGUAGE sql VOLATILE AS $$
    INSERT INTO counters (name, value) VALUES ('registry', 1)
    ON CONFLICT (name) DO UPDATE SET value = counters.value + 1
    RETURNING value
$$;
