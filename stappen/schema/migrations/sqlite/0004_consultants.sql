-- Consultant accounts, their login sessions and the login attempts that
-- the rate limit counts (SQLite). Every time is UTC epoch milliseconds.
-- Keep the postgresql migration of the same number in step.

-- password_hash is a werkzeug.security hash string, such as
-- "scrypt:32768:8:1$salt$hash". locked_until is NULL unless too many
-- failed logins in a row locked the account.
CREATE TABLE consultant_accounts (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('consultant', 'administrator')),
    municipality TEXT NOT NULL,
    language TEXT NOT NULL DEFAULT 'nl' CHECK (language IN ('nl', 'en')),
    password_hash TEXT NOT NULL,
    failed_logins INTEGER NOT NULL DEFAULT 0 CHECK (failed_logins >= 0),
    locked_until INTEGER,
    disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at INTEGER NOT NULL
);

-- token_hash is the SHA-256 in hex of the session cookie's value, so the
-- table contains no token that could be replayed. expires_at is the
-- absolute end; last_seen_at drives the idle timeout.
CREATE TABLE consultant_sessions (
    token_hash TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES consultant_accounts (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);

CREATE INDEX consultant_sessions_account ON consultant_sessions (account_id);
CREATE INDEX consultant_sessions_expiry ON consultant_sessions (expires_at);

-- One row per login attempt, kept for the rate limit's window only.
CREATE TABLE consultant_login_attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    client_address TEXT NOT NULL,
    attempted_at INTEGER NOT NULL
);

CREATE INDEX consultant_login_attempts_client
    ON consultant_login_attempts (client_address, attempted_at);
