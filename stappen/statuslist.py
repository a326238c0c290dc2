"""Token Status List (draft-ietf-oauth-status-list): revocation and suspension.

A status list is a byte array with one status of ``bits`` bits per issued
credential, packed from the least significant bit of each byte up. It
travels ZLIB-compressed and base64url-encoded as ``lst`` inside a signed
status list token (``typ`` "statuslist+jwt"). A credential points at its
entry with ``status: {"status_list": {"idx": ..., "uri": ...}}``.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable
from typing import Any

from stappen import jose

logger = logging.getLogger(__name__)

VALID = 0x00
INVALID = 0x01
SUSPENDED = 0x02

ALLOWED_BITS = (1, 2, 4, 8)

MAX_LIST_BYTES = 16 * 1024 * 1024
"""Largest decompressed status list accepted, in bytes.

A few kilobytes of ``lst`` can inflate to gigabytes, and the token comes
from a server the verifier does not control. 16 MiB has room for 134 million
1-bit statuses, far more than one issuer's list needs.
"""

STATUS_LIST_TYP = "statuslist+jwt"


class StatusListError(ValueError):
    """A status list or status reference that cannot be used."""


class StatusList:
    """A mutable list of ``size`` statuses of ``bits`` bits each, all VALID at first."""

    def __init__(self, size: int, bits: int = 1) -> None:
        _check_bits(bits)
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise StatusListError(f"size must be a positive integer, got {size!r}")

        byte_count = -(-size * bits // 8)
        if byte_count > MAX_LIST_BYTES:
            raise StatusListError(
                f"a list of {size} statuses of {bits} bits needs {byte_count} bytes; "
                f"at most {MAX_LIST_BYTES} bytes are allowed"
            )

        self.size = size
        self.bits = bits
        self._bytes = bytearray(byte_count)

    def __len__(self) -> int:
        return self.size

    def get(self, index: int) -> int:
        """Return the status at ``index``."""
        byte, shift = self._position(index)
        return (self._bytes[byte] >> shift) & self._mask

    def set(self, index: int, status: int) -> None:
        """Store ``status`` at ``index``."""
        if isinstance(status, bool) or not isinstance(status, int):
            raise StatusListError(f"status must be an integer, got {status!r}")
        if not 0 <= status <= self._mask:
            raise StatusListError(
                f"status {status} does not fit in {self.bits} bits (0 to {self._mask})"
            )

        byte, shift = self._position(index)
        self._bytes[byte] &= ~(self._mask << shift) & 0xFF
        self._bytes[byte] |= status << shift

    def encode(self) -> dict:
        """Return the ``status_list`` claim: ``{"bits": ..., "lst": ...}``."""
        compressed = zlib.compress(bytes(self._bytes), level=9)
        return {"bits": self.bits, "lst": jose.b64url_encode(compressed)}

    @classmethod
    def decode(cls, claim: Any) -> StatusList:
        """Read a ``status_list`` claim; raises ``StatusListError`` if invalid."""
        if not isinstance(claim, dict):
            raise StatusListError(f"status_list must be a JSON object, got {claim!r}")

        bits = claim.get("bits")
        _check_bits(bits)
        data = _inflate(claim.get("lst"))
        if not data:
            raise StatusListError("status_list lst decompresses to an empty list")

        status_list = cls(len(data) * 8 // bits, bits)
        status_list._bytes[:] = data
        return status_list

    @property
    def _mask(self) -> int:
        return (1 << self.bits) - 1

    def _position(self, index: int) -> tuple[int, int]:
        if isinstance(index, bool) or not isinstance(index, int):
            raise StatusListError(f"index must be an integer, got {index!r}")
        if not 0 <= index < self.size:
            raise StatusListError(
                f"index {index} is outside the list of {self.size} statuses"
            )

        bit = index * self.bits
        return bit // 8, bit % 8


def _check_bits(bits: Any) -> None:
    if isinstance(bits, bool) or bits not in ALLOWED_BITS:
        raise StatusListError(
            f"bits is {bits!r}; it must be one of {', '.join(map(str, ALLOWED_BITS))}"
        )


def _inflate(lst: Any) -> bytes:
    try:
        compressed = jose.b64url_decode(lst)
    except ValueError as error:
        raise StatusListError(f"status_list lst is invalid: {error}") from error

    inflater = zlib.decompressobj()
    try:
        data = inflater.decompress(compressed, MAX_LIST_BYTES)
    except zlib.error as error:
        raise StatusListError(f"status_list lst is not ZLIB data: {error}") from error

    if inflater.unconsumed_tail:
        raise StatusListError(
            f"status_list lst inflates to more than {MAX_LIST_BYTES} bytes; "
            "lists that large are rejected to bound memory use"
        )
    if not inflater.eof or inflater.unused_data:
        raise StatusListError("status_list lst is truncated or has trailing data")
    return data


def status_list_token(
    key,
    *,
    uri: str,
    status_list: StatusList,
    iat: int,
    exp: int | None = None,
    ttl: int | None = None,
) -> str:
    """Sign a status list token for ``uri`` (its ``sub``)."""
    claims: dict[str, Any] = {
        "sub": uri,
        "iat": iat,
        "status_list": status_list.encode(),
    }
    if exp is not None:
        claims["exp"] = exp
    if ttl is not None:
        claims["ttl"] = ttl
    return jose.sign(claims, key, typ=STATUS_LIST_TYP)


def status_reference(idx: int, uri: str) -> dict:
    """Return the ``status`` claim that points at entry ``idx`` of ``uri``."""
    return {"status_list": {"idx": idx, "uri": uri}}


def check_status(
    status_claim: Any,
    fetch: Callable[[str], str],
    trusted_keys: Any,
    now: int,
) -> tuple[bool, str, str | None]:
    """Look up a credential's status and return (valid, reason, token).

    ``fetch`` returns the status list token at a URI and raises ``OSError``
    or ``ValueError`` when it cannot. ``token`` is the raw status list token
    that decided, kept as evidence, or None when none was fetched.
    """
    try:
        idx, uri = _read_reference(status_claim)
    except StatusListError as error:
        return False, str(error), None

    try:
        token = fetch(uri)
    except (OSError, ValueError) as error:
        logger.warning("Fetching status list %s failed: %s", uri, error)
        return False, f"status list {uri!r} could not be fetched: {error}", None

    try:
        status_list = _verified_list(token, uri, trusted_keys, now)
    except StatusListError as error:
        return False, str(error), token if isinstance(token, str) else None

    if idx >= len(status_list):
        reason = (
            f"status list {uri!r} has no index {idx}; "
            f"it contains {len(status_list)} statuses"
        )
        return False, reason, token
    return (*_describe(status_list.get(idx), idx, uri), token)


def _read_reference(status_claim: Any) -> tuple[int, str]:
    reference = (
        status_claim.get("status_list") if isinstance(status_claim, dict) else None
    )
    if not isinstance(reference, dict):
        raise StatusListError(
            f"status claim {status_claim!r} has no status_list object with idx and uri"
        )

    idx, uri = reference.get("idx"), reference.get("uri")
    if isinstance(idx, bool) or not isinstance(idx, int) or idx < 0:
        raise StatusListError(f"status_list idx is {idx!r}; expected an integer >= 0")
    if not isinstance(uri, str) or not uri:
        raise StatusListError(f"status_list uri is {uri!r}; expected a URI string")
    return idx, uri


def _verified_list(token: Any, uri: str, trusted_keys: Any, now: int) -> StatusList:
    try:
        _, claims = jose.verify(token, trusted_keys, typ=STATUS_LIST_TYP)
    except jose.VerificationError as error:
        raise StatusListError(
            f"status list token from {uri!r} is not trusted: {error.reason}"
        ) from error

    if claims.get("sub") != uri:
        raise StatusListError(
            f"status list token has sub {claims.get('sub')!r}, "
            f"but the credential refers to uri {uri!r}"
        )

    try:
        jose.check_times(claims, now, require=("iat",))
    except jose.VerificationError as error:
        raise StatusListError(
            f"status list token from {uri!r} is not valid now: {error.reason}"
        ) from error

    return StatusList.decode(claims.get("status_list"))


def _describe(status: int, idx: int, uri: str) -> tuple[bool, str]:
    where = f"index {idx} of {uri!r}"
    if status == VALID:
        return True, f"credential is valid ({where})"
    if status == INVALID:
        return False, f"credential is revoked ({where} is INVALID)"
    if status == SUSPENDED:
        return False, f"credential is suspended ({where} is SUSPENDED)"
    return False, f"credential has status 0x{status:02x} at {where}, which is not VALID"
