"""The wallet file: the holder's keys and the credentials it received.

A wallet file is JSON that only its owner can read (mode 0600), because it
contains private keys. Each credential gets its own holder key, as a phone
wallet would do to keep its presentations unlinkable. A credential is kept
as the raw SD-JWT VC that the issuer sent, next to the issuer, type and
claims read from it, so that ``list`` and ``show`` need no parsing.

The file also keeps the last response that a verifier accepted, for the
``replay-previous`` misbehaviour mode.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import stat
from pathlib import Path
from typing import Any

from joserfc.jwk import Key

from stappen import jose, sdjwt

logger = logging.getLogger(__name__)

FILE_FORMAT = "stappen-wallet"
FILE_VERSION = 1
FILE_MODE = 0o600
DEFAULT_PATH = Path("wallet.json")
INIT_COMMAND = "python -m stappen.wallet --wallet {path} init"


class WalletError(Exception):
    """A wallet operation that failed, with a message that names the fix."""


class WalletFileError(WalletError):
    """A wallet file that is missing, already exists or cannot be read."""


@dataclasses.dataclass(frozen=True)
class StoredCredential:
    """A received SD-JWT VC and what the wallet read from it."""

    id: str
    raw: str
    """The SD-JWT VC as issued: ``<issuer JWT>~<disclosure>~...~``."""
    issuer: str
    vct: str
    claims: dict
    """Every claim, with all disclosures filled in, as the holder reads them."""
    key_id: str
    """The id of the holder key in the wallet that the credential is bound to."""
    received_at: int
    expires_at: int | None = None
    credential_issuer: str | None = None
    """The OpenID4VCI Credential Issuer it came from, when received by offer."""
    configuration_id: str | None = None

    def is_expired(self, now: int) -> bool:
        """Return whether the credential's ``exp`` has passed at ``now``."""
        return self.expires_at is not None and self.expires_at <= now


class Wallet:
    """A loaded wallet file. Change it through the methods, then ``save``."""

    def __init__(self, path: Path, document: dict) -> None:
        self.path = path
        self.keys: dict[str, dict] = dict(document["keys"])
        self.credentials = [
            StoredCredential(**entry) for entry in document["credentials"]
        ]
        self.last_response: dict | None = document.get("last_response")
        self._next_number = int(document.get("next_number", 1))

    @classmethod
    def create(cls, path: str | Path) -> Wallet:
        """Write a new empty wallet file at ``path`` (mode 0600) and return it."""
        path = Path(path)
        if path.exists():
            raise WalletFileError(
                f"wallet file {path} already exists; remove it first to start "
                "with an empty wallet, or pass another --wallet FILE"
            )

        wallet = cls(path, {"keys": {}, "credentials": []})
        wallet.save()
        logger.info("Created wallet file %s", path)
        return wallet

    @classmethod
    def load(cls, path: str | Path) -> Wallet:
        """Read the wallet file at ``path``, or raise WalletFileError naming the fix."""
        path = Path(path)
        text = _read_text(path)
        _warn_if_readable_by_others(path)
        try:
            document = jose.loads_json(text)
        except ValueError as error:
            raise WalletFileError(
                f"wallet file {path} is not valid JSON ({error}); restore it from "
                f"a backup, or move it away and run `{_init_command(path)}`"
            ) from error
        return cls(path, _checked_document(document, path))

    def save(self) -> None:
        """Write the wallet to its file, replacing it atomically, with mode 0600."""
        document = {
            "format": FILE_FORMAT,
            "version": FILE_VERSION,
            "next_number": self._next_number,
            "keys": self.keys,
            "credentials": [dataclasses.asdict(c) for c in self.credentials],
            "last_response": self.last_response,
        }
        text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
        try:
            _write_private(self.path, text)
        except OSError as error:
            raise WalletFileError(
                f"wallet file {self.path} cannot be written: {error}"
            ) from error

    def new_key(self, alg: str = "ES256") -> Key:
        """Generate a holder key, add it to the wallet and return it."""
        key = jose.generate_key(alg)
        self.keys[jose.key_id(key)] = dict(key.as_dict(private=True))
        return key

    def key(self, key_id: str) -> Key:
        """Return the private holder key with ``key_id``."""
        jwk = self.keys.get(key_id)
        if jwk is None:
            raise WalletFileError(
                f"wallet file {self.path} has no key {key_id!r}; the file was "
                "edited by hand or is damaged, so remove the credentials that "
                "use this key"
            )
        return jose.key_from_jwk(jwk, public_only=False)

    def add_credential(
        self,
        raw: str,
        *,
        key_id: str,
        now: int,
        credential_issuer: str | None = None,
        configuration_id: str | None = None,
    ) -> StoredCredential:
        """Read ``raw``, an issued SD-JWT VC bound to ``key_id``, and keep it.

        Raises WalletError when ``raw`` is not an SD-JWT VC or is bound to
        another key. The issuer's signature is not checked here.
        """
        payload, claims = read_credential(raw)
        _check_bound_to(payload, self.key(key_id))

        label = configuration_id or payload["vct"].rsplit(":", 1)[-1].rsplit("/")[-1]
        credential = StoredCredential(
            id=f"{_slug(label)}-{self._next_number}",
            raw=raw,
            issuer=payload["iss"],
            vct=payload["vct"],
            claims=claims,
            key_id=key_id,
            received_at=now,
            expires_at=payload.get("exp"),
            credential_issuer=credential_issuer,
            configuration_id=configuration_id,
        )
        self._next_number += 1
        self.credentials.append(credential)
        return credential

    def get(self, credential_id: str) -> StoredCredential:
        """Return the credential with ``credential_id``."""
        for credential in self.credentials:
            if credential.id == credential_id:
                return credential

        known = ", ".join(c.id for c in self.credentials) or "none yet"
        raise WalletError(
            f"wallet {self.path} has no credential {credential_id!r}; "
            f"its credentials: {known}"
        )


def read_credential(raw: str) -> tuple[dict, dict]:
    """Return the issuer-signed payload of an SD-JWT VC and its revealed claims.

    The claims are what the holder reads: every disclosure filled in and the
    ``_sd`` digests removed. Signatures are not checked, because the holder
    reads its own credential. Raises WalletError naming the problem.
    """
    try:
        parsed = sdjwt.parse(raw)
        payload = jose.decode_unverified(parsed.issuer_jwt)[1]
    except (sdjwt.MalformedSdJwt, jose.VerificationError) as error:
        raise WalletError(f"credential is not a valid SD-JWT VC: {error}") from error

    if parsed.kb_jwt is not None:
        raise WalletError("credential ends in a KB-JWT; expected the issued form")
    for claim in ("iss", "vct"):
        if not isinstance(payload.get(claim), str):
            raise WalletError(
                f"credential claim {claim!r} is {payload.get(claim)!r}; expected "
                "a string"
            )

    by_digest = {disclosure.digest: disclosure for disclosure in parsed.disclosures}
    claims = _reveal(payload, by_digest)
    claims.pop("_sd_alg", None)
    return payload, claims


def _reveal(value: Any, by_digest: dict[str, sdjwt.Disclosure]) -> Any:
    """Fill in disclosures by digest. A digest without a disclosure is a decoy."""
    if isinstance(value, list):
        revealed = []
        for item in value:
            if isinstance(item, dict) and list(item) == ["..."]:
                if item["..."] in by_digest:
                    revealed.append(_reveal(by_digest[item["..."]].value, by_digest))
            else:
                revealed.append(_reveal(item, by_digest))
        return revealed

    if not isinstance(value, dict):
        return value

    revealed = {
        name: _reveal(item, by_digest) for name, item in value.items() if name != "_sd"
    }
    for digest in value.get("_sd", []):
        disclosure = by_digest.get(digest)
        if disclosure is not None and disclosure.name is not None:
            revealed[disclosure.name] = _reveal(disclosure.value, by_digest)
    return revealed


def _check_bound_to(payload: dict, key: Key) -> None:
    cnf = payload.get("cnf")
    jwk = cnf.get("jwk") if isinstance(cnf, dict) else None
    if not isinstance(jwk, dict):
        raise WalletError(
            f"credential has cnf {cnf!r}; expected a cnf.jwk with the holder key"
        )

    try:
        thumbprint = jose.key_from_jwk(jwk).thumbprint()
    except ValueError as error:
        raise WalletError(f"credential cnf.jwk is invalid: {error}") from error
    if thumbprint != key.thumbprint():
        raise WalletError(
            f"credential is bound to key {thumbprint!r}, not to the holder key "
            f"{key.thumbprint()!r} that the wallet sent in its key proof"
        )


def _slug(label: str) -> str:
    slug = "".join(c if c.isalnum() else "-" for c in label.lower()).strip("-")
    return slug or "credential"


def _init_command(path: Path) -> str:
    return INIT_COMMAND.format(path=path)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as error:
        raise WalletFileError(
            f"wallet file {path} not found; create it with `{_init_command(path)}`"
        ) from error
    except (OSError, UnicodeDecodeError) as error:
        raise WalletFileError(f"wallet file {path} cannot be read: {error}") from error


def _checked_document(document: Any, path: Path) -> dict:
    if not isinstance(document, dict) or document.get("format") != FILE_FORMAT:
        raise WalletFileError(
            f'{path} is not a Stappen wallet file (no "format": "{FILE_FORMAT}"); '
            "pass the right file with --wallet FILE"
        )
    if document.get("version") != FILE_VERSION:
        raise WalletFileError(
            f"wallet file {path} has version {document.get('version')!r}; this "
            f"wallet reads version {FILE_VERSION} only"
        )

    keys, credentials = document.get("keys"), document.get("credentials")
    if not isinstance(keys, dict) or not isinstance(credentials, list):
        raise WalletFileError(
            f'wallet file {path} needs an object "keys" and a list '
            '"credentials"; the file is damaged, so restore it from a backup'
        )

    fields = {field.name for field in dataclasses.fields(StoredCredential)}
    for index, entry in enumerate(credentials):
        if not isinstance(entry, dict) or not {"id", "raw", "key_id"} <= entry.keys():
            raise WalletFileError(
                f"wallet file {path}: credential {index} lacks id, raw or key_id; "
                "the file is damaged, so restore it from a backup"
            )
        unknown = sorted(entry.keys() - fields)
        if unknown:
            raise WalletFileError(
                f"wallet file {path}: credential {entry['id']!r} has unknown "
                f"fields {unknown}; remove them"
            )
    return document


def _warn_if_readable_by_others(path: Path) -> None:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        logger.warning(
            "Wallet file %s has mode %o, so other users may read its private "
            "keys; run `chmod 600 %s`",
            path,
            mode,
            path,
        )


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` through a temporary file created with mode 0600 from the start."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.new")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
