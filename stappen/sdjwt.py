"""SD-JWT VC issuance, presentation and verification.

Implements Selective Disclosure for JSON Web Tokens (RFC 9901) as used by
SD-JWT-based Verifiable Credentials (draft-ietf-oauth-sd-jwt-vc) and by
OpenID4VP 1.0 presentations. An issued credential is serialised as
``<issuer JWT>~<disclosure>~...~``. A presentation keeps only the chosen
disclosures and ends with a Key Binding JWT (KB-JWT) signed by the holder.

Paths name claims for ``disclosable`` and ``disclose``: ``"address"`` is a
top-level claim, ``"address.locality"`` a member of it, and
``"nationalities.0"`` or ``"nationalities.*"`` elements of an array. Claim
names that contain a dot cannot be named this way.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import secrets
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from cryptography import x509
from joserfc.jwk import Key

from stappen import jose

SD_JWT_VC_TYP = "dc+sd-jwt"
LEGACY_SD_JWT_VC_TYP = "vc+sd-jwt"
KB_JWT_TYP = "kb+jwt"
SD_ALG = "sha-256"

NON_DISCLOSABLE_CLAIMS = frozenset(
    {"iss", "nbf", "exp", "cnf", "vct", "vct#integrity", "status"}
)
"""Claims that SD-JWT VC forbids hiding behind a disclosure."""

CHECK_NAMES = (
    "format",
    "issuer trusted",
    "signature",
    "times",
    "disclosures",
    "key binding",
    "status",
)
"""The checks of ``verify_presentation``, in the order they run."""

TIME_SKEW = 60
"""Seconds of clock difference allowed between issuer, holder and verifier."""

_SET_BY_ISSUE = {"iss", "vct", "iat", "exp", "nbf", "cnf", "status", "_sd", "_sd_alg"}


class MalformedSdJwt(ValueError):
    """An SD-JWT or presentation that is not well formed, with the reason."""


@dataclasses.dataclass(frozen=True)
class Disclosure:
    """One disclosure: its encoded form and the salt, name and value inside."""

    encoded: str
    salt: str
    name: str | None
    value: Any

    @functools.cached_property
    def digest(self) -> str:
        """The base64url SHA-256 digest the issuer signed for this disclosure."""
        return _digest(self.encoded)


@dataclasses.dataclass(frozen=True)
class SdJwt:
    """A parsed SD-JWT: the issuer-signed JWT, disclosures and optional KB-JWT."""

    issuer_jwt: str
    disclosures: tuple[Disclosure, ...]
    kb_jwt: str | None

    @property
    def without_key_binding(self) -> str:
        """The ``<issuer JWT>~<disclosure>~...~`` part that ``sd_hash`` covers."""
        return _serialise(self.issuer_jwt, self.disclosures)


@dataclasses.dataclass(frozen=True)
class Check:
    """The outcome of one verification check."""

    name: str
    passed: bool
    reason: str


class PresentationRejected(Exception):
    """A presentation failed a check.

    ``checks`` lists every check that ran, with the failed one last.
    ``status_token`` is the status list token that decided a failed status
    check, if one was fetched.
    """

    def __init__(self, checks: list[Check], status_token: str | None = None) -> None:
        self.checks = checks
        self.failed = checks[-1]
        self.status_token = status_token
        super().__init__(f"{self.failed.name} check failed: {self.failed.reason}")


@dataclasses.dataclass(frozen=True)
class VerifiedCredential:
    """A presentation that passed every check.

    ``claims`` are the issuer's plain claims with the disclosed values
    filled in and ``_sd``/``_sd_alg`` removed. ``disclosed`` lists the paths
    of the presented disclosures.
    """

    issuer: str
    vct: str
    claims: dict
    disclosed: list[str]
    holder_jwk: dict
    checks: list[Check]
    status_token: str | None


@dataclasses.dataclass(frozen=True)
class IssuerTrust:
    """The public keys and X.509 trust anchors that one issuer is trusted with."""

    keys: tuple[Key, ...] = ()
    anchors: tuple[x509.Certificate, ...] = ()


class TrustedIssuers:
    """Issuer identifiers (the ``iss`` values) and the keys or anchors trusted for each.

    ``TrustedIssuers({"https://issuer.example": [jwk, ...]})`` trusts public
    JWKs; a JWKS document ``{"keys": [...]}`` works too. ``add`` also takes
    X.509 trust anchors for credentials that carry an ``x5c`` header.
    """

    def __init__(self, issuers: Mapping[str, Any] | None = None) -> None:
        self._issuers: dict[str, IssuerTrust] = {}
        for issuer, jwks in (issuers or {}).items():
            self.add(issuer, jwks=jwks)

    def add(
        self,
        issuer: str,
        *,
        jwks: Iterable[dict] | dict = (),
        anchors: Iterable[x509.Certificate] = (),
    ) -> None:
        """Trust ``issuer`` with these public JWKs and X.509 trust anchors."""
        if isinstance(jwks, dict):
            jwks = jwks.get("keys", [])

        try:
            keys = tuple(jose.key_from_jwk(jwk, public_only=True) for jwk in jwks)
        except ValueError as error:
            raise ValueError(
                f"trusted issuer {issuer!r} has an invalid key: {error}"
            ) from error

        current = self._issuers.get(issuer, IssuerTrust())
        self._issuers[issuer] = IssuerTrust(
            keys=current.keys + keys, anchors=current.anchors + tuple(anchors)
        )

    def get(self, issuer: str) -> IssuerTrust | None:
        """Return how ``issuer`` is trusted, or None if it is not."""
        return self._issuers.get(issuer)

    def names(self) -> list[str]:
        """Return the trusted issuer identifiers."""
        return sorted(self._issuers)


def new_salt() -> str:
    """Return a fresh salt: 128 random bits, base64url-encoded, as RFC 9901 advises."""
    return jose.b64url_encode(secrets.token_bytes(16))


# Issuance


def issue(
    issuer_key: Key,
    *,
    issuer: str,
    vct: str,
    claims: dict,
    disclosable: set[str] | None = None,
    holder_jwk: dict,
    iat: int,
    exp: int | None,
    nbf: int | None = None,
    status: dict | None = None,
    extra: dict | None = None,
    salt: Callable[[], str] = new_salt,
    decoys: int = 0,
    headers: dict | None = None,
) -> str:
    """Issue an SD-JWT VC: ``<issuer JWT>~<disclosure>~...~``.

    ``claims`` are the subject's claims; the paths in ``disclosable`` become
    disclosures and the rest stay plain. ``extra`` adds plain claims such
    as ``sub`` or ``jti``, ``headers`` adds header parameters such as
    ``x5c``, and ``decoys`` adds that many decoy digests to each ``_sd``
    array. Raises ``ValueError`` naming a bad argument.
    """
    jose.key_from_jwk(holder_jwk, public_only=True)
    _check_claim_names(claims, extra or {})

    issuing = _Issuing(salt, decoys)
    selection = _selection_for(disclosable or set(), claims)
    concealed = issuing.conceal(claims, selection)

    payload = {
        "iss": issuer,
        "iat": iat,
        **_optional(exp=exp, nbf=nbf, status=status),
        "vct": vct,
        "cnf": {"jwk": holder_jwk},
        **(extra or {}),
        **concealed,
        "_sd_alg": SD_ALG,
    }
    token = jose.sign(payload, issuer_key, typ=SD_JWT_VC_TYP, headers=headers)
    return token + "~" + "".join(encoded + "~" for encoded in issuing.disclosures)


def _check_claim_names(claims: dict, extra: dict) -> None:
    if not isinstance(claims, dict):
        raise ValueError(f"claims must be a dict, got {type(claims).__name__}")

    for name in claims.keys() | extra.keys():
        if name in _SET_BY_ISSUE:
            raise ValueError(
                f"claim {name!r} is set by issue() itself; pass it as its own "
                "argument, not in claims or extra"
            )

    overlap = sorted(claims.keys() & extra.keys())
    if overlap:
        raise ValueError(f"claims {overlap} are in both claims and extra; keep one")

    _check_reserved_names(claims, ())


def _check_reserved_names(value: Any, path: tuple) -> None:
    """Reject claims that verifiers would read as SD-JWT structure."""
    if isinstance(value, list):
        for index, item in enumerate(value):
            _check_reserved_names(item, (*path, index))
        return
    if not isinstance(value, dict):
        return

    if "_sd" in value or list(value) == ["..."]:
        raise ValueError(
            f"claim at {_dotted(path) or 'the top level'} uses the reserved SD-JWT "
            "name '_sd' or '...'; rename it"
        )
    for name, item in value.items():
        _check_reserved_names(item, (*path, name))


def _optional(**values: Any) -> dict:
    return {name: value for name, value in values.items() if value is not None}


@dataclasses.dataclass
class _Selection:
    """The parts of a claim value that become disclosures."""

    itself: bool = False
    children: dict[str, _Selection] = dataclasses.field(default_factory=dict)

    def child(self, segment: str) -> _Selection:
        return self.children.setdefault(segment, _Selection())

    def merged(self, other: _Selection | None) -> _Selection:
        if other is None:
            return self
        result = _Selection(self.itself or other.itself, dict(self.children))
        for segment, selection in other.children.items():
            result.children[segment] = selection.merged(result.children.get(segment))
        return result


def _selection_for(paths: Iterable[str], claims: dict) -> _Selection:
    root = _Selection()
    for path in paths:
        segments = _split_path(path)
        if segments[0] in NON_DISCLOSABLE_CLAIMS:
            raise ValueError(
                f"claim {segments[0]!r} must stay plain in an SD-JWT VC; "
                "remove it from disclosable"
            )
        if not _path_exists(claims, segments):
            raise ValueError(f"disclosable path {path!r} names no claim in claims")

        node = root
        for segment in segments:
            node = node.child(segment)
        node.itself = True
    return root


def _split_path(path: str) -> tuple[str, ...]:
    segments = tuple(path.split(".")) if isinstance(path, str) else ()
    if not segments or "" in segments:
        raise ValueError(f"path {path!r} is invalid; write names joined by dots")

    for segment in segments:
        if segment in ("_sd", "_sd_alg", "..."):
            raise ValueError(f"path {path!r} uses the reserved name {segment!r}")
    return segments


def _path_exists(value: Any, segments: tuple[str, ...]) -> bool:
    if not segments:
        return True

    head, rest = segments[0], segments[1:]
    if isinstance(value, dict):
        return head in value and _path_exists(value[head], rest)
    if isinstance(value, list) and head == "*":
        return bool(value) and all(_path_exists(item, rest) for item in value)
    if isinstance(value, list) and head.isdigit() and int(head) < len(value):
        return _path_exists(value[int(head)], rest)
    return False


class _Issuing:
    """Turns selected claims into disclosures and collects them in order."""

    def __init__(self, salt: Callable[[], str], decoys: int) -> None:
        self.salt = salt
        self.decoys = decoys
        self.disclosures: list[str] = []

    def conceal(self, value: Any, selection: _Selection) -> Any:
        if isinstance(value, dict):
            return self._conceal_object(value, selection)
        if isinstance(value, list):
            return self._conceal_array(value, selection)
        return value

    def _conceal_object(self, claims: dict, selection: _Selection) -> dict:
        result: dict[str, Any] = {}
        digests = []
        for name, value in claims.items():
            child = selection.children.get(name)
            if child is None:
                result[name] = value
                continue

            inner = self.conceal(value, child)
            if child.itself:
                digests.append(self._disclose([self._new_salt(), name, inner]))
            else:
                result[name] = inner

        if digests:
            result["_sd"] = sorted(digests + self._decoy_digests())
        return result

    def _conceal_array(self, items: list, selection: _Selection) -> list:
        result = []
        for index, item in enumerate(items):
            child = selection.children.get(str(index))
            wildcard = selection.children.get("*")
            child = child.merged(wildcard) if child is not None else wildcard
            if child is None:
                result.append(item)
                continue

            inner = self.conceal(item, child)
            if child.itself:
                result.append({"...": self._disclose([self._new_salt(), inner])})
            else:
                result.append(inner)
        return result

    def _disclose(self, content: list) -> str:
        encoded = jose.b64url_encode(jose.dumps_json(content))
        self.disclosures.append(encoded)
        return _digest(encoded)

    def _new_salt(self) -> str:
        value = self.salt()
        if not isinstance(value, str) or not value:
            raise ValueError(
                f"salt() returned {value!r}; it must return a non-empty string"
            )
        return value

    def _decoy_digests(self) -> list[str]:
        return [_digest(new_salt()) for _ in range(self.decoys)]


def _digest(encoded: str) -> str:
    return jose.b64url_encode(hashlib.sha256(encoded.encode("ascii")).digest())


def _serialise(issuer_jwt: str, disclosures: Iterable[Disclosure]) -> str:
    return issuer_jwt + "~" + "".join(d.encoded + "~" for d in disclosures)


# Parsing


def parse(sd_jwt: str) -> SdJwt:
    """Split an SD-JWT or presentation into its parts, decoding each disclosure.

    Raises ``MalformedSdJwt`` naming the first part that is not well formed.
    The signatures are not checked here.
    """
    if not isinstance(sd_jwt, str):
        raise MalformedSdJwt(f"SD-JWT must be a string, got {type(sd_jwt).__name__}")
    if not sd_jwt.isascii():
        raise MalformedSdJwt("SD-JWT contains non-ASCII characters")

    parts = sd_jwt.split("~")
    if len(parts) < 2:
        raise MalformedSdJwt("SD-JWT has no '~'; expected <issuer JWT>~<disclosures>~")

    issuer_jwt, encoded_disclosures, kb_jwt = parts[0], parts[1:-1], parts[-1]
    _check_compact_jws(issuer_jwt, "issuer-signed JWT")
    if kb_jwt:
        _check_compact_jws(kb_jwt, "KB-JWT")

    disclosures = tuple(
        _decode_disclosure(encoded, index)
        for index, encoded in enumerate(encoded_disclosures)
    )
    return SdJwt(issuer_jwt, disclosures, kb_jwt or None)


def _check_compact_jws(token: str, label: str) -> None:
    if token.count(".") != 2:
        raise MalformedSdJwt(
            f"{label} is not a compact JWS of three dot-separated parts"
        )


def _decode_disclosure(encoded: str, index: int) -> Disclosure:
    label = f"disclosure {index + 1}"
    if not encoded:
        raise MalformedSdJwt(f"{label} is empty (two '~' in a row)")

    try:
        content = jose.loads_json(jose.b64url_decode(encoded))
    except (ValueError, UnicodeDecodeError) as error:
        raise MalformedSdJwt(f"{label} is not base64url JSON: {error}") from error

    if not isinstance(content, list) or len(content) not in (2, 3):
        raise MalformedSdJwt(
            f"{label} is {_shorten(content)}; "
            "expected [salt, name, value] or [salt, value]"
        )
    if not isinstance(content[0], str):
        raise MalformedSdJwt(f"{label} has salt {content[0]!r}; expected a string")
    if len(content) == 2:
        return Disclosure(encoded, content[0], None, content[1])

    name = content[1]
    if not isinstance(name, str) or name in ("_sd", "..."):
        raise MalformedSdJwt(f"{label} has claim name {name!r}, which is not allowed")
    return Disclosure(encoded, content[0], name, content[2])


# Revealing disclosed claims


class _DisclosureProblem(Exception):
    """Disclosures that do not fit the issuer-signed digests."""


@dataclasses.dataclass
class _Revealed:
    claims: dict
    paths: dict[str, tuple]
    """The path of each referenced disclosure, by digest."""


def _reveal(payload: dict, disclosures: tuple[Disclosure, ...]) -> _Revealed:
    """Fill the disclosed claims into ``payload`` by the RFC 9901 processing rules."""
    revealer = _Revealer(disclosures)
    try:
        claims = revealer.reveal_object(payload, ())
    except RecursionError as error:
        raise _DisclosureProblem("disclosures are nested too deeply") from error

    claims.pop("_sd_alg", None)
    for disclosure in disclosures:
        if disclosure.digest not in revealer.paths:
            raise _DisclosureProblem(
                f"disclosure {_shorten(disclosure.encoded)} (claim "
                f"{_label(disclosure)}) matches no digest that the issuer signed"
            )
    return _Revealed(claims, revealer.paths)


class _Revealer:
    def __init__(self, disclosures: tuple[Disclosure, ...]) -> None:
        self.by_digest: dict[str, Disclosure] = {}
        for disclosure in disclosures:
            if disclosure.digest in self.by_digest:
                raise _DisclosureProblem(
                    f"disclosure {_shorten(disclosure.encoded)} (claim "
                    f"{_label(disclosure)}) is presented twice"
                )
            self.by_digest[disclosure.digest] = disclosure

        self.seen: set[str] = set()
        self.paths: dict[str, tuple] = {}

    def reveal(self, value: Any, path: tuple) -> Any:
        if isinstance(value, dict):
            return self.reveal_object(value, path)
        if isinstance(value, list):
            return self.reveal_array(value, path)
        return value

    def reveal_object(self, claims: dict, path: tuple) -> dict:
        result = {
            name: self.reveal(value, (*path, name))
            for name, value in claims.items()
            if name != "_sd"
        }
        for digest in self._digests(claims.get("_sd", []), path):
            disclosure = self._take(digest, path, expect_name=True)
            if disclosure is not None:
                self._insert(result, disclosure, digest, path)
        return result

    def _insert(
        self, result: dict, disclosure: Disclosure, digest: str, path: tuple
    ) -> None:
        name = disclosure.name
        if name in result:
            raise _DisclosureProblem(
                f"disclosure for {_dotted((*path, name))!r} would replace a claim "
                "that the issuer signed in plain text"
            )
        if not path and name in NON_DISCLOSABLE_CLAIMS:
            raise _DisclosureProblem(
                f"claim {name!r} must not be selectively disclosed"
            )

        self.paths[digest] = (*path, name)
        result[name] = self.reveal(disclosure.value, (*path, name))

    def reveal_array(self, items: list, path: tuple) -> list:
        result = []
        for index, item in enumerate(items):
            if not (isinstance(item, dict) and list(item) == ["..."]):
                result.append(self.reveal(item, (*path, index)))
                continue

            (digest,) = self._digests([item["..."]], path)
            disclosure = self._take(digest, path, expect_name=False)
            if disclosure is not None:
                self.paths[digest] = (*path, index)
                result.append(self.reveal(disclosure.value, (*path, index)))
        return result

    def _digests(self, digests: Any, path: tuple) -> list[str]:
        if not isinstance(digests, list) or not all(
            isinstance(d, str) for d in digests
        ):
            raise _DisclosureProblem(
                f"digests at {_dotted(path) or 'the top level'} "
                "must be a list of strings"
            )
        for digest in digests:
            if digest in self.seen:
                raise _DisclosureProblem(
                    f"digest {digest!r} appears more than once in the credential"
                )
            self.seen.add(digest)
        return digests

    def _take(
        self, digest: str, path: tuple, *, expect_name: bool
    ) -> Disclosure | None:
        disclosure = self.by_digest.get(digest)
        if disclosure is None or (disclosure.name is not None) == expect_name:
            return disclosure

        where = "an object (_sd)" if expect_name else "an array element (...)"
        raise _DisclosureProblem(
            f"disclosure {_shorten(disclosure.encoded)} has the wrong shape for "
            f"{where} at {_dotted(path) or 'the top level'}"
        )


def _label(disclosure: Disclosure) -> str:
    return repr(disclosure.name) if disclosure.name is not None else "array element"


def _dotted(path: tuple) -> str:
    return ".".join(str(segment) for segment in path)


# Presentation


def present(
    issued: str,
    *,
    disclose: set[str],
    holder_key: Key,
    nonce: str,
    aud: str,
    iat: int,
) -> str:
    """Build a presentation that reveals the paths in ``disclose``.

    A path reveals the disclosures at it, beneath it and on the way to it.
    A path that names a plain claim needs nothing and is accepted. The
    KB-JWT binds ``nonce`` and ``aud`` (the verifier's client_id). Raises
    ``MalformedSdJwt`` for a bad ``issued`` and ``ValueError`` for a path
    that names no claim or a ``holder_key`` that is not the credential's.
    """
    sd_jwt = parse(issued)
    if sd_jwt.kb_jwt is not None:
        raise MalformedSdJwt(
            "issued SD-JWT already ends in a KB-JWT; present from the issued form"
        )

    payload = _unverified_payload(sd_jwt.issuer_jwt)
    _check_holder_key(payload, holder_key)
    try:
        revealed = _reveal(payload, sd_jwt.disclosures)
    except _DisclosureProblem as error:
        raise MalformedSdJwt(str(error)) from error

    chosen = _choose(sd_jwt.disclosures, revealed, disclose)
    prefix = _serialise(sd_jwt.issuer_jwt, chosen)
    kb_claims = {"iat": iat, "aud": aud, "nonce": nonce, "sd_hash": _digest(prefix)}
    return prefix + jose.sign(kb_claims, holder_key, typ=KB_JWT_TYP)


def _unverified_payload(issuer_jwt: str) -> dict:
    try:
        return jose.decode_unverified(issuer_jwt)[1]
    except jose.VerificationError as error:
        raise MalformedSdJwt(f"issuer-signed JWT is invalid: {error.reason}") from error


def _check_holder_key(payload: dict, holder_key: Key) -> None:
    jwk = (
        payload.get("cnf", {}).get("jwk")
        if isinstance(payload.get("cnf"), dict)
        else None
    )
    if not isinstance(jwk, dict):
        raise MalformedSdJwt("credential has no cnf.jwk to bind a presentation to")

    expected = jose.key_from_jwk(jwk).thumbprint()
    if holder_key.thumbprint() != expected:
        raise ValueError(
            f"holder_key (thumbprint {holder_key.thumbprint()!r}) is not the key "
            f"in the credential's cnf.jwk (thumbprint {expected!r})"
        )


def _choose(
    disclosures: tuple[Disclosure, ...], revealed: _Revealed, paths: set[str]
) -> list[Disclosure]:
    patterns = [_split_path(path) for path in sorted(paths)]
    for pattern, path in zip(patterns, sorted(paths), strict=True):
        if not _path_exists(revealed.claims, pattern):
            raise ValueError(
                f"disclose path {path!r} names no claim in the credential; "
                f"its claims are {', '.join(sorted(revealed.claims))}"
            )

    return [
        disclosure
        for disclosure in disclosures
        if any(
            _overlaps(pattern, revealed.paths[disclosure.digest])
            for pattern in patterns
        )
    ]


def _overlaps(pattern: tuple[str, ...], path: tuple) -> bool:
    """Return whether ``path`` is at, beneath or on the way to ``pattern``."""
    return all(
        pattern_segment in ("*", str(segment))
        for pattern_segment, segment in zip(pattern, path, strict=False)
    )


# Verification


def verify_presentation(
    presentation: str,
    *,
    trusted: TrustedIssuers,
    nonce: str,
    aud: str,
    now: int,
    iat_window: tuple[int, int] = (300, 60),
    status_check: Callable[[dict], tuple[bool, str, str | None]] | None = None,
) -> VerifiedCredential:
    """Verify an SD-JWT VC presentation and return the disclosed credential.

    ``aud`` is the verifier's client_id and ``nonce`` the one sent in the
    request. A KB-JWT ``iat`` is accepted from ``iat_window[0]`` seconds
    before ``now`` to ``iat_window[1]`` seconds after it. ``status_check``
    receives the credential's ``status`` claim and returns (valid, reason,
    status list token); a credential with a ``status`` claim is rejected
    when it is None. Raises ``PresentationRejected`` at the first failed
    check; exceptions raised by ``status_check`` itself pass through.
    """
    if not nonce or not aud:
        raise ValueError("verify_presentation needs a non-empty nonce and aud")

    run = _Run()
    sd_jwt, header, payload = run.step("format", _check_format, presentation)
    keys = run.step("issuer trusted", _check_issuer, trusted, header, payload, now)
    run.step("signature", _check_signature, sd_jwt.issuer_jwt, header, payload, keys)
    run.step("times", _check_credential_times, payload, now)
    revealed = run.step("disclosures", _check_disclosures, sd_jwt, payload)
    expected = _KeyBindingRequest(nonce, aud, now, iat_window)
    holder_jwk = run.step(
        "key binding", _check_key_binding, presentation, sd_jwt, payload, expected
    )
    status_token = run.step("status", _check_status, payload, status_check)

    return VerifiedCredential(
        issuer=payload["iss"],
        vct=payload["vct"],
        claims=revealed.claims,
        disclosed=[_dotted(revealed.paths[d.digest]) for d in sd_jwt.disclosures],
        holder_jwk=holder_jwk,
        checks=run.checks,
        status_token=status_token,
    )


class _CheckFailed(Exception):
    def __init__(self, reason: str, status_token: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status_token = status_token


class _Run:
    """Runs checks in order and stops at the first failure."""

    def __init__(self) -> None:
        self.checks: list[Check] = []

    def step(self, name: str, check: Callable[..., tuple[Any, str]], *args: Any) -> Any:
        try:
            result, reason = check(*args)
        except _CheckFailed as failure:
            self.checks.append(Check(name, False, failure.reason))
            raise PresentationRejected(
                list(self.checks), failure.status_token
            ) from failure
        except (jose.VerificationError, MalformedSdJwt, _DisclosureProblem) as error:
            self.checks.append(Check(name, False, getattr(error, "reason", str(error))))
            raise PresentationRejected(list(self.checks)) from error

        self.checks.append(Check(name, True, reason))
        return result


def _check_format(presentation: Any) -> tuple[tuple[SdJwt, dict, dict], str]:
    sd_jwt = parse(presentation)
    header, payload = jose.decode_unverified(sd_jwt.issuer_jwt)

    # NOTE: SD-JWT VC lets an x5c chain alone identify the issuer, without
    # iss. Trust is configured per iss here, so such credentials are rejected.
    for claim in ("iss", "vct"):
        if not isinstance(payload.get(claim), str) or not payload[claim]:
            raise _CheckFailed(
                f"credential claim {claim!r} is {payload.get(claim)!r}; "
                "expected a string"
            )

    kb = "a KB-JWT" if sd_jwt.kb_jwt else "no KB-JWT"
    reason = (
        f"SD-JWT VC of type {payload['vct']!r} from {payload['iss']!r} with "
        f"{len(sd_jwt.disclosures)} disclosure(s) and {kb}"
    )
    return (sd_jwt, header, payload), reason


def _check_issuer(
    trusted: TrustedIssuers, header: dict, payload: dict, now: int
) -> tuple[list[Key], str]:
    issuer = payload["iss"]
    trust = trusted.get(issuer)
    if trust is None:
        known = ", ".join(repr(name) for name in trusted.names()) or "none"
        raise _CheckFailed(
            f"issuer {issuer!r} is not trusted; trusted issuers: {known}"
        )

    if "x5c" in header and trust.anchors:
        key = jose.verify_x5c_chain(
            header["x5c"], list(trust.anchors), now, issuer=issuer
        )
        return [key], f"issuer {issuer!r} is trusted through its x5c certificate chain"

    if not trust.keys:
        raise _CheckFailed(
            f"issuer {issuer!r} is trusted only through X.509 anchors, "
            "but the credential has no x5c header"
        )
    return list(
        trust.keys
    ), f"issuer {issuer!r} is trusted with {len(trust.keys)} key(s)"


def _check_signature(
    issuer_jwt: str, header: dict, payload: dict, keys: list[Key]
) -> tuple[None, str]:
    # header and payload come from decoding issuer_jwt in _check_format.
    jose.verify_decoded(
        issuer_jwt,
        header,
        payload,
        keys,
        typ=(SD_JWT_VC_TYP, LEGACY_SD_JWT_VC_TYP),
    )
    return None, f"{header['alg']} signature by key {header.get('kid')!r} is valid"


def _check_credential_times(payload: dict, now: int) -> tuple[None, str]:
    jose.check_times(payload, now, skew=TIME_SKEW, require=())
    until = f"until {payload['exp']}" if "exp" in payload else "without expiry"
    return None, f"credential is valid at {now}, {until}"


def _check_disclosures(sd_jwt: SdJwt, payload: dict) -> tuple[_Revealed, str]:
    sd_alg = payload.get("_sd_alg", SD_ALG)
    if sd_alg != SD_ALG:
        raise _CheckFailed(f"_sd_alg is {sd_alg!r}; only {SD_ALG!r} is supported")

    revealed = _reveal(payload, sd_jwt.disclosures)
    names = ", ".join(_dotted(revealed.paths[d.digest]) for d in sd_jwt.disclosures)
    return (
        revealed,
        f"{len(sd_jwt.disclosures)} disclosure(s) match signed digests: {names}",
    )


@dataclasses.dataclass(frozen=True)
class _KeyBindingRequest:
    nonce: str
    aud: str
    now: int
    iat_window: tuple[int, int]


def _check_key_binding(
    presentation: str, sd_jwt: SdJwt, payload: dict, expected: _KeyBindingRequest
) -> tuple[dict, str]:
    if sd_jwt.kb_jwt is None:
        raise _CheckFailed("presentation has no KB-JWT; key binding is required")

    holder_jwk, holder_key = _holder_key(payload)
    _, claims = jose.verify(sd_jwt.kb_jwt, holder_key, typ=KB_JWT_TYP)
    _check_nonce_and_aud(claims, expected)
    _check_kb_iat(claims.get("iat"), expected)

    presented = presentation[: len(presentation) - len(sd_jwt.kb_jwt)]
    if claims.get("sd_hash") != _digest(presented):
        raise _CheckFailed(
            f"KB-JWT sd_hash {claims.get('sd_hash')!r} does not match this "
            f"presentation, whose hash is {_digest(presented)!r}"
        )
    return holder_jwk, f"KB-JWT signed by the holder key for aud {expected.aud!r}"


def _holder_key(payload: dict) -> tuple[dict, Key]:
    """Return the holder's public JWK from ``cnf`` and the key imported from it."""
    cnf = payload.get("cnf")
    jwk = cnf.get("jwk") if isinstance(cnf, dict) else None
    if not isinstance(jwk, dict):
        raise _CheckFailed(
            f"credential cnf is {_shorten(cnf)}; expected an object with a jwk"
        )

    try:
        key = jose.key_from_jwk(jwk, public_only=True)
    except ValueError as error:
        raise _CheckFailed(f"credential cnf.jwk is invalid: {error}") from error
    return jwk, key


def _check_nonce_and_aud(claims: dict, expected: _KeyBindingRequest) -> None:
    nonce, aud = claims.get("nonce"), claims.get("aud")
    if nonce != expected.nonce:
        raise _CheckFailed(
            f"KB-JWT nonce {nonce!r} does not match the expected {expected.nonce!r}"
        )

    if isinstance(aud, list):
        raise _CheckFailed(
            f"KB-JWT aud is the array {aud!r}; OpenID4VP requires a single "
            f"string equal to {expected.aud!r}"
        )
    if aud != expected.aud:
        raise _CheckFailed(
            f"KB-JWT aud {aud!r} does not match the expected {expected.aud!r}"
        )


def _check_kb_iat(iat: Any, expected: _KeyBindingRequest) -> None:
    if isinstance(iat, bool) or not isinstance(iat, int | float):
        raise _CheckFailed(f"KB-JWT iat is {iat!r}; expected seconds since 1970")

    before, after = expected.iat_window
    if expected.now - before <= iat <= expected.now + after:
        return

    offset = (
        f"{expected.now - iat:.0f} s before"
        if iat < expected.now
        else f"{iat - expected.now:.0f} s after"
    )
    raise _CheckFailed(
        f"KB-JWT iat {iat:.0f} is {offset} now; accepted "
        f"from {before} s before to {after} s after now"
    )


def _check_status(
    payload: dict, status_check: Callable | None
) -> tuple[str | None, str]:
    if "status" not in payload:
        return None, "credential has no status reference"
    if status_check is None:
        raise _CheckFailed(
            "credential has a status reference, but no status_check was given"
        )

    valid, reason, token = status_check(payload["status"])
    if not valid:
        raise _CheckFailed(reason, token)
    return token, reason


def _shorten(value: Any, limit: int = 60) -> str:
    """Return ``repr(value)``, cut to about ``limit`` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."
