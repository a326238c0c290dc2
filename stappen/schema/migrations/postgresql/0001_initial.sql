-- Wallet sessions, single-use values, evidence and status lists (PostgreSQL).
-- Every time is UTC epoch milliseconds. Keep the sqlite migration of
-- the same number in step. IF NOT EXISTS stays from the time before
-- migrations, when this file ran at every start.

CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    flow TEXT NOT NULL,
    step TEXT NOT NULL,
    purpose TEXT NOT NULL CHECK (purpose IN ('present', 'issue')),
    state TEXT NOT NULL,
    nonce TEXT,
    state_param TEXT UNIQUE,
    request_id TEXT UNIQUE,
    pre_authorized_code TEXT UNIQUE,
    access_token TEXT UNIQUE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    data JSONB NOT NULL DEFAULT '{}',
    result JSONB,
    result_taken_at BIGINT
);

CREATE INDEX IF NOT EXISTS sessions_expiry ON sessions (expires_at, state);

-- One row per state change, replay or taken result, written in the same
-- transaction as the change it records.
CREATE TABLE IF NOT EXISTS session_events (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    from_state TEXT,
    to_state TEXT,
    detail JSONB
);

CREATE INDEX IF NOT EXISTS session_events_session ON session_events (session_id);

-- Nonces, state values, codes: the primary key lets only the first use in.
-- value_hash is the SHA-256 of the value, so the table contains no usable
-- secret. session_id is NULL for a value issued outside a session.
CREATE TABLE IF NOT EXISTS single_use_values (
    kind TEXT NOT NULL,
    value_hash TEXT NOT NULL,
    session_id TEXT REFERENCES sessions (id) ON DELETE CASCADE,
    used_at BIGINT NOT NULL,
    PRIMARY KEY (kind, value_hash)
);

-- Exactly one of json_data and bytes_data is set.
CREATE TABLE IF NOT EXISTS evidence (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    json_data JSONB,
    bytes_data BYTEA,
    CHECK ((json_data IS NULL) <> (bytes_data IS NULL))
);

CREATE INDEX IF NOT EXISTS evidence_session ON evidence (session_id);

-- Named counters: status list allocation and attempt counts.
CREATE TABLE IF NOT EXISTS counters (
    name TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);

-- One row per allocated index of a token status list. The value is the
-- status: 0 valid, 1 invalid, 2 suspended, and up to 255 in 8-bit lists.
CREATE TABLE IF NOT EXISTS status_entries (
    list_id TEXT NOT NULL,
    status_index BIGINT NOT NULL CHECK (status_index >= 0),
    value SMALLINT NOT NULL DEFAULT 0 CHECK (value BETWEEN 0 AND 255),
    PRIMARY KEY (list_id, status_index)
);

CREATE TABLE IF NOT EXISTS issued_credentials (
    credential_id TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions (id),
    vct TEXT NOT NULL,
    status_list_id TEXT,
    status_index BIGINT,
    holder_jwk_thumbprint TEXT,
    issued_at BIGINT NOT NULL,
    FOREIGN KEY (status_list_id, status_index)
        REFERENCES status_entries (list_id, status_index)
);

CREATE INDEX IF NOT EXISTS issued_credentials_session
    ON issued_credentials (session_id);
