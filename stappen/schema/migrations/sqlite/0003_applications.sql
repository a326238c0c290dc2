-- Applications, their decisions and the rule tables they were checked with
-- (SQLite). Keep the postgresql migration of the same number in step.

-- One row per redeemed voucher. record is the application's own copy of its
-- evidence: the presentation, the issuer keys and status tokens used, the
-- verified claims, the voucher and the recomputed outcome. It holds personal
-- data, so retention may replace it by NULL and set record_erased_at; the
-- columns beside it stay for the list and the audit trail.
CREATE TABLE applications (
    id TEXT PRIMARY KEY,
    reference TEXT NOT NULL UNIQUE,
    secret_hash TEXT NOT NULL,
    municipality TEXT NOT NULL,
    flow TEXT NOT NULL,
    step TEXT NOT NULL,
    scheme TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('submitted', 'granted', 'rejected')),
    amount TEXT,
    outcome_matches INTEGER NOT NULL CHECK (outcome_matches IN (0, 1)),
    presentation_session TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    record TEXT,
    record_erased_at INTEGER,
    CHECK ((record IS NULL) = (record_erased_at IS NOT NULL))
);

CREATE INDEX applications_list ON applications (municipality, status, created_at);

-- At most one decision per application, written in the same transaction
-- as the application's new status.
CREATE TABLE decisions (
    application_id TEXT PRIMARY KEY REFERENCES applications (id),
    outcome TEXT NOT NULL CHECK (outcome IN ('granted', 'rejected')),
    motivation TEXT NOT NULL,
    amount TEXT,
    consultant TEXT NOT NULL,
    decided_at INTEGER NOT NULL,
    credential_session TEXT,
    credential_offered_at INTEGER,
    credential_issued_at INTEGER
);

-- Each DMN file a check evaluated, by the SHA-256 of its bytes, so that a
-- review recomputes an outcome with the exact rules of its voucher after
-- the flow's file has changed.
CREATE TABLE rule_tables (
    sha256 TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    content BLOB NOT NULL,
    stored_at INTEGER NOT NULL
);
