"""Keys, certificate, trusted issuers and clock of the API.

Settings, from ``STAPPEN_*`` environment variables or ``create_app(config)``:

- ``STAPPEN_KEYS_DIR``: the folder of the key files (default
  ``<instance folder>/keys``). It contains the verifier's signing key
  (``verifier-key.json``, a private JWKS with one ES256 key), a self-signed
  X.509 certificate for that key (``verifier-cert.pem``), the pilot
  issuer's signing key (``issuer-key.json``) and the key that signs audit
  checkpoints (``audit-key.json``). ``flask --app app keys generate``
  creates the missing ones.
- ``STAPPEN_TRUSTED_ISSUERS``: a JSON file that maps issuer identifiers to
  their public keys, ``{"https://issuer.example": {"jwks": {"keys": [...]}}}``.
  The issuers of the flows' ``purpose: issue`` steps are the API's own pilot
  issuer and are trusted with the public half of ``issuer-key.json``
  without being listed.
- ``STAPPEN_SESSION_RETENTION_DAYS``: how many days a session is kept after
  it ended or expired (default 30), for ``flask --app app sessions purge``.
- ``STAPPEN_MAX_OPEN_SESSIONS``: how many sessions may be open (neither
  ended nor expired) at once (default 10000). Creating one more gets 503.

``STAPPEN_CLOCK`` (tests only) is a callable that returns the current time
as a timezone-aware datetime, so tests can move time without sleeping.

OpenID4VP 1.0 identifies the verifier as ``x509_hash:<hash>``, where the
hash is the base64url SHA-256 of the DER certificate that the request
object carries in its ``x5c`` header.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import hashlib
import ipaddress
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import click
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID
from flask import Flask, current_app
from flask.cli import with_appcontext
from joserfc.jwk import Key

from stappen import jose, keys, storage
from stappen.errors import StappenError
from stappen.sdjwt import TrustedIssuers
from stappen.storage.base import to_millis
from stappen.walletstep import ISSUER_PATTERN, IssueSettings, read_settings

log = logging.getLogger(__name__)

VERIFIER_KEY_FILE = "verifier-key.json"
VERIFIER_CERTIFICATE_FILE = "verifier-cert.pem"
ISSUER_KEY_FILE = "issuer-key.json"
AUDIT_KEY_FILE = "audit-key.json"

GENERATE_COMMAND = "flask --app app keys generate"
CLIENT_ID_PREFIX = "x509_hash:"

CERTIFICATE_DAYS = 365
"""Days a generated verifier certificate is valid; renew it with --force."""

CERTIFICATE_BACKDATE = datetime.timedelta(hours=1)
"""How far before its creation a certificate starts to be valid, so that a
wallet whose clock runs a little behind still accepts it."""

EXTENSION_KEY = "stappen.apiconfig"

DEFAULT_SESSION_RETENTION_DAYS = 30
DEFAULT_MAX_OPEN_SESSIONS = 10_000
"""An estimate of far more sessions than a pilot's citizens have open at
once, which still keeps a script from filling the database."""


class ApiConfigError(StappenError):
    """Key files or trust settings that the API cannot use, with the fix."""


class KeyMaterialMissing(ApiConfigError):
    """A key or certificate file the API needs does not exist yet."""


@dataclasses.dataclass(frozen=True)
class VerifierIdentity:
    """The verifier's signing key, its certificate and the client_id from it."""

    key: Key
    certificate: x509.Certificate
    x5c: tuple[str, ...]
    """The certificate chain for the ``x5c`` header: standard base64 DER."""
    client_id: str


@dataclasses.dataclass
class _State:
    """The trusted issuers read at start and the key material loaded on first use."""

    file_issuers: dict[str, list[dict]]
    pilot_issuers: set[str] | None = None
    verifier: VerifierIdentity | None = None
    issuer_keys: list[Key] | None = None


def init_app(app: Flask) -> None:
    """Read the trusted issuers file and report missing key files.

    A missing key file does not stop the app, so that ``flask keys
    generate`` can still run. The log names the command instead, and the
    wallet endpoints respond with 503 and the same message until the files exist.
    Raises ApiConfigError for a trusted issuers file that cannot be used.
    """
    app.config.setdefault("KEYS_DIR", str(Path(app.instance_path) / "keys"))
    app.config.setdefault("TRUSTED_ISSUERS", "")
    app.config.setdefault("SESSION_RETENTION_DAYS", DEFAULT_SESSION_RETENTION_DAYS)
    app.config.setdefault("MAX_OPEN_SESSIONS", DEFAULT_MAX_OPEN_SESSIONS)
    session_retention_days(app)
    max_open_sessions(app)
    issuers = _read_trusted_issuers_file(app.config["TRUSTED_ISSUERS"])
    app.extensions[EXTENSION_KEY] = _State(file_issuers=issuers)

    missing = [path.name for path in key_paths(app).values() if not path.exists()]
    if missing:
        log.error(
            "Key files %s not found in %s; create them with `%s`",
            ", ".join(missing),
            keys_dir(app),
            GENERATE_COMMAND,
        )


def now(app: Flask) -> datetime.datetime:
    """Return the current time: from STAPPEN_CLOCK when set, else the system's."""
    clock: Callable[[], datetime.datetime] | None = app.config.get("STAPPEN_CLOCK")
    moment = clock() if clock is not None else datetime.datetime.now(datetime.UTC)
    if moment.tzinfo is None:
        raise ApiConfigError(
            f"STAPPEN_CLOCK returned {moment!r}, which has no time zone; "
            "return a timezone-aware datetime such as datetime.now(UTC)"
        )
    return moment


def now_ms(app: Flask) -> int:
    """Return :func:`now` in epoch milliseconds.

    Without STAPPEN_CLOCK it reads the system clock directly, which costs a
    status poll a few microseconds less than making a datetime first.
    """
    if app.config.get("STAPPEN_CLOCK") is None:
        return time.time_ns() // 1_000_000
    return to_millis(now(app))


def session_retention_days(app: Flask) -> int:
    """Return STAPPEN_SESSION_RETENTION_DAYS; raise ApiConfigError when invalid."""
    return whole_number(app, "SESSION_RETENTION_DAYS", minimum=0)


def max_open_sessions(app: Flask) -> int:
    """Return STAPPEN_MAX_OPEN_SESSIONS; raise ApiConfigError when invalid."""
    return whole_number(app, "MAX_OPEN_SESSIONS", minimum=1)


def whole_number(app: Flask, name: str, *, minimum: int, fix: str = "") -> int:
    """Return the setting STAPPEN_<name>, a whole number of ``minimum`` or more.

    The value may be an int or a text of digits, as an environment variable
    gives it. Raises ApiConfigError naming the value and ``fix``, by default
    "set it to a whole number of <minimum> or more".
    """
    value = app.config.get(name)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        fix = fix or f"set it to a whole number of {minimum} or more"
        raise ApiConfigError(f"STAPPEN_{name} is {value!r}; {fix}")
    return value


def days_for_command(app: Flask, name: str, fix: str) -> int:
    """Return STAPPEN_<name>, the days a command uses when --days is not given.

    Raises click.UsageError naming the value, ``fix`` and the --days option.
    """
    try:
        return whole_number(app, name, minimum=0, fix=f"{fix}, or pass --days")
    except ApiConfigError as error:
        raise click.UsageError(str(error)) from error


def public_url(app: Flask) -> str:
    """Return STAPPEN_PUBLIC_URL without a trailing slash."""
    return app.config["PUBLIC_URL"].rstrip("/")


# Key files


def keys_dir(app: Flask) -> Path:
    return Path(app.config["KEYS_DIR"])


def key_paths(app: Flask) -> dict[str, Path]:
    """Return the path of each key file by its role."""
    folder = keys_dir(app)
    return {
        "verifier key": folder / VERIFIER_KEY_FILE,
        "verifier certificate": folder / VERIFIER_CERTIFICATE_FILE,
        "issuer key": folder / ISSUER_KEY_FILE,
        "audit key": folder / AUDIT_KEY_FILE,
    }


def issuer_key_path(app: Flask) -> Path:
    """Return the path of the pilot issuer's private JWKS."""
    return key_paths(app)["issuer key"]


def audit_key_path(app: Flask) -> Path:
    """Return the path of the private JWKS that signs audit checkpoints."""
    return key_paths(app)["audit key"]


def generate_keys(app: Flask, *, force: bool = False) -> list[Path]:
    """Create the missing key and certificate files and return their paths.

    With ``force`` every file is replaced. A certificate is made for the
    verifier key, so a certificate whose key file is missing cannot be kept
    and needs ``force``.
    """
    paths = key_paths(app)
    verifier_key, certificate = paths["verifier key"], paths["verifier certificate"]
    if certificate.exists() and not verifier_key.exists() and not force:
        raise ApiConfigError(
            f"certificate {certificate} exists but its key {verifier_key} does "
            f"not; run `{GENERATE_COMMAND} --force` to replace both"
        )

    written = []
    if force or not verifier_key.exists():
        keys.generate_keyset(verifier_key, force=force)
        written.append(verifier_key)
    if verifier_key in written or not certificate.exists():
        [key] = _load_private_keys(verifier_key, "verifier key")[:1]
        _write_certificate(certificate, key, _public_host(app), now(app))
        written.append(certificate)
    for role in ("issuer key", "audit key"):
        if force or not paths[role].exists():
            keys.generate_keyset(paths[role], force=force)
            written.append(paths[role])
    return written


def _write_certificate(
    path: Path, key: Key, host: str, moment: datetime.datetime
) -> None:
    """Write a self-signed certificate for ``key`` that names ``host``."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(moment - CERTIFICATE_BACKDATE)
        .not_valid_after(moment + datetime.timedelta(days=CERTIFICATE_DAYS))
        .add_extension(x509.SubjectAlternativeName([_host_name(host)]), False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
        .add_extension(_signing_key_usage(), True)
        .sign(key.private_key, hashes.SHA256())
    )
    pem = certificate.public_bytes(serialization.Encoding.PEM)
    temporary = path.with_name(f".{path.name}.new")
    temporary.write_bytes(pem)
    os.replace(temporary, path)
    log.info("Wrote a verifier certificate for %s to %s", host, path)


def _host_name(host: str) -> x509.GeneralName:
    """Name the host as a dNSName, or as an iPAddress when it is an address."""
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def _signing_key_usage() -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


def _public_host(app: Flask) -> str:
    host = urlsplit(app.config["PUBLIC_URL"]).hostname
    if not host:
        raise ApiConfigError(
            f"STAPPEN_PUBLIC_URL {app.config['PUBLIC_URL']!r} has no host; set "
            "it to the URL wallets reach the API at, such as https://api.example"
        )
    return host


# Loading the key material


def verifier_identity(app: Flask) -> VerifierIdentity:
    """Return the verifier's key and certificate, loading them on first use.

    Raises KeyMaterialMissing or ApiConfigError with the command that fixes it.
    """
    state = _state(app)
    if state.verifier is None:
        state.verifier = _load_verifier(app)
    return state.verifier


def issuer_keys(app: Flask) -> list[Key]:
    """Return the pilot issuer's private keys, loading them on first use."""
    state = _state(app)
    if state.issuer_keys is None:
        state.issuer_keys = _load_private_keys(issuer_key_path(app), "issuer key")
    return state.issuer_keys


def _load_verifier(app: Flask) -> VerifierIdentity:
    paths = key_paths(app)
    [key] = _load_private_keys(paths["verifier key"], "verifier key")[:1]
    certificate_path = paths["verifier certificate"]
    _require_file(certificate_path, "verifier certificate")
    try:
        certificate = x509.load_pem_x509_certificate(certificate_path.read_bytes())
    except ValueError as error:
        raise ApiConfigError(
            f"verifier certificate {certificate_path} is not a PEM certificate "
            f"({error}); run `{GENERATE_COMMAND} --force` to replace it"
        ) from error

    _check_certificate(certificate, key, certificate_path, now(app))
    der = certificate.public_bytes(serialization.Encoding.DER)
    digest = jose.b64url_encode(hashlib.sha256(der).digest())
    return VerifierIdentity(
        key=key,
        certificate=certificate,
        x5c=(base64.b64encode(der).decode("ascii"),),
        client_id=CLIENT_ID_PREFIX + digest,
    )


def _check_certificate(
    certificate: x509.Certificate, key: Key, path: Path, moment: datetime.datetime
) -> None:
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    encoding = serialization.Encoding.DER
    expected = key.public_key.public_bytes(encoding, spki)
    if certificate.public_key().public_bytes(encoding, spki) != expected:
        raise ApiConfigError(
            f"verifier certificate {path} is not for the key in "
            f"{VERIFIER_KEY_FILE}; run `{GENERATE_COMMAND} --force` to make a "
            "matching pair"
        )
    if certificate.not_valid_after_utc <= moment:
        raise ApiConfigError(
            f"verifier certificate {path} expired at "
            f"{certificate.not_valid_after_utc.isoformat()}; run "
            f"`{GENERATE_COMMAND} --force` to renew it"
        )


def _load_private_keys(path: Path, role: str) -> list[Key]:
    _require_file(path, role)
    try:
        loaded = keys.load_keyset(path)
    except keys.KeyFileError as error:
        raise ApiConfigError(str(error)) from error
    return loaded


def _require_file(path: Path, role: str) -> None:
    if not path.exists():
        raise KeyMaterialMissing(
            f"{role} file {path} not found; create it with `{GENERATE_COMMAND}`"
        )


def _state(app: Flask) -> _State:
    state = app.extensions.get(EXTENSION_KEY)
    if state is None:
        raise RuntimeError(
            "The app has no key settings: call stappen.apiconfig.init_app(app) "
            "in create_app."
        )
    return state


# Trusted issuers


def trusted_issuers(app: Flask, issuer_ids: tuple[str, ...]) -> TrustedIssuers:
    """Return the trust for ``issuer_ids``; unknown issuers are left out.

    verify_presentation then rejects a credential from an issuer that is not
    in the result, naming the issuers that are.
    """
    configured = issuer_jwks(app, issuer_ids)
    return TrustedIssuers(
        {issuer: {"keys": jwks} for issuer, jwks in configured.items()}
    )


def issuer_jwks(app: Flask, issuer_ids: tuple[str, ...]) -> dict[str, list[dict]]:
    """Return the public JWKs that each of ``issuer_ids`` is trusted with."""
    state = _state(app)
    pilot = pilot_issuers(app)
    result: dict[str, list[dict]] = {}
    for issuer in issuer_ids:
        jwks = list(state.file_issuers.get(issuer, []))
        if issuer in pilot:
            jwks += [jose.public_jwk(key) for key in issuer_keys(app)]
        if jwks:
            result[issuer] = jwks
    return result


def pilot_issuers(app: Flask) -> set[str]:
    """Return the issuers the pilot issuer signs for: issue steps, vouchers, decisions.

    An application step verifies the vouchers that check steps offered, so
    their issuers are trusted with the pilot issuer's keys too.
    """
    state = _state(app)
    if state.pilot_issuers is None:
        state.pilot_issuers = _issue_step_issuers(app)
    return state.pilot_issuers


def _issue_step_issuers(app: Flask) -> set[str]:
    found = set()
    for flow in app.extensions["stappen.flows"].values():
        for step in flow.steps.values():
            found.update(_offered_issuer(step))
            if step.kind != "wallet" or step.settings.get("purpose") != "issue":
                continue
            settings = read_settings(step)
            if isinstance(settings, IssueSettings):
                found.add(settings.issuer)
    return found


def _offered_issuer(step) -> list[str]:
    """Return the issuer of a check step's voucher or a decision step's credential.

    The pilot issuer signs both.
    """
    field = {"check": "voucher", "decision": "credential"}.get(step.kind)
    offered = step.settings.get(field) if field else None
    return [offered["issuer"]] if isinstance(offered, dict) else []


def _read_trusted_issuers_file(value: str) -> dict[str, list[dict]]:
    if not value:
        return {}
    path = Path(value)
    try:
        document = jose.loads_json(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ApiConfigError(
            f"STAPPEN_TRUSTED_ISSUERS file {path} cannot be read: {error}"
        ) from error
    except ValueError as error:
        raise ApiConfigError(
            f"STAPPEN_TRUSTED_ISSUERS file {path} is not valid JSON: {error}"
        ) from error

    if not isinstance(document, dict):
        raise ApiConfigError(
            f"STAPPEN_TRUSTED_ISSUERS file {path} must be a JSON object "
            '{"https://issuer.example": {"jwks": {"keys": [...]}}}'
        )
    issuers = {
        issuer: _issuer_entry_jwks(path, issuer, entry)
        for issuer, entry in document.items()
    }
    log.info("Trusting %d issuers from %s", len(issuers), path)
    return issuers


def _issuer_entry_jwks(path: Path, issuer: str, entry) -> list[dict]:
    where = f"STAPPEN_TRUSTED_ISSUERS file {path}, issuer {issuer!r}"
    if not ISSUER_PATTERN.fullmatch(issuer):
        raise ApiConfigError(
            f"{where}: expected an https:// issuer identifier without query or "
            "fragment, as flows write it in trusted_issuers"
        )
    jwks = entry.get("jwks") if isinstance(entry, dict) else None
    jwk_list = jwks.get("keys") if isinstance(jwks, dict) else None
    if not isinstance(jwk_list, list) or not jwk_list:
        raise ApiConfigError(
            f'{where}: expected {{"jwks": {{"keys": [<public JWK>, ...]}}}}'
        )

    for index, jwk in enumerate(jwk_list):
        try:
            jose.key_from_jwk(jwk, public_only=True)
        except ValueError as error:
            raise ApiConfigError(f"{where}, key {index}: {error}") from error
    return jwk_list


# CLI commands


@click.group("keys")
def keys_command() -> None:
    """Create the API's key files."""


@keys_command.command("generate")
@click.option("--force", is_flag=True, help="Replace key files that exist.")
@with_appcontext
def generate_command(force: bool) -> None:
    """Create the verifier key and certificate, the issuer and audit keys if missing."""
    try:
        written = generate_keys(current_app, force=force)
    except (ApiConfigError, keys.KeyFileError) as error:
        raise click.ClickException(str(error)) from error

    for path in written:
        click.echo(f"Wrote {path}")
    if not written:
        click.echo(
            f"Every key file exists in {keys_dir(current_app)}; nothing to do. "
            "Pass --force to replace them."
        )


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Apply the pending migrations to the API's database; safe to run again."""
    store = current_app.extensions[storage.EXTENSION_KEY]
    try:
        applied = store.init_schema()
    except storage.StorageError as error:
        raise click.ClickException(str(error)) from error

    for migration in applied:
        click.echo(f"Applied migration {migration.label}")
    if not applied:
        click.echo("No migrations were pending.")
    click.echo(f"The database is ready: {store!r}")
