-- The audit trail (PostgreSQL): a hash chain of events, signed checkpoints and
-- the personal review data that retention erases. Keep the sqlite
-- migration of the same number in step.

-- hash is the SHA-256 of the canonical JSON of seq, created_at, kind,
-- subject, actor, data, personal_digest and prev_hash (see docs/audit.md).
CREATE TABLE audit_events (
    seq BIGINT PRIMARY KEY CHECK (seq >= 1),
    created_at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    subject TEXT,
    actor TEXT,
    data TEXT NOT NULL,
    personal_digest TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);

CREATE INDEX audit_events_subject ON audit_events (subject);

-- The newest event and checkpoint. Every append locks this one row, so
-- appends happen one at a time and the chain never forks.
CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    checkpoint_seq BIGINT NOT NULL,
    checkpoint_at BIGINT NOT NULL
);

INSERT INTO audit_head (id, seq, hash, created_at, checkpoint_seq, checkpoint_at)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000',
        0, 0, 0);

-- seq is the event whose hash the compact JWS in signature signs.
CREATE TABLE audit_checkpoints (
    seq BIGINT PRIMARY KEY,
    hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    key_id TEXT NOT NULL,
    public_jwk TEXT NOT NULL,
    signature TEXT NOT NULL
);

-- Personal review data of one event. Erasure sets salt and data to NULL
-- and erased_at to the time, and the event keeps its digest.
CREATE TABLE audit_personal (
    seq BIGINT PRIMARY KEY REFERENCES audit_events (seq),
    salt TEXT,
    data TEXT,
    erased_at BIGINT
);
