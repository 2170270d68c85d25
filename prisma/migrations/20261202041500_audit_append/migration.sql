-- Appends one audit event to the hash chain in a single statement, so a write and its event can go to the
-- database in one round trip (src/audit/audit-log.ts computes the canonical body; the hash rule is the one
-- AuditLog.verify checks: sha256_hex(prev_hash || '\n' || body)).
-- The advisory lock (0x61756469, the one AuditLog has always taken) orders appends from every instance; the
-- function is VOLATILE, so its SELECT takes a fresh snapshot after the lock and sees the last committed event.
CREATE FUNCTION audit_append(
    p_id UUID, p_at TIMESTAMPTZ, p_actor TEXT, p_action TEXT, p_target TEXT,
    p_before JSONB, p_after JSONB, p_request_id TEXT, p_body TEXT
) RETURNS TEXT LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    prev TEXT;
    h TEXT;
BEGIN
    PERFORM pg_advisory_xact_lock(1635083369);
    SELECT hash INTO prev FROM audit_events ORDER BY seq DESC LIMIT 1;
    prev := coalesce(prev, repeat('0', 64));
    h := encode(sha256(convert_to(prev || E'\n' || p_body, 'UTF8')), 'hex');
    INSERT INTO audit_events (id, at, actor, action, target, before, after, request_id, prev_hash, hash)
    VALUES (p_id, p_at, p_actor, p_action, p_target, p_before, p_after, p_request_id, prev, h);
    RETURN h;
END
$$;
