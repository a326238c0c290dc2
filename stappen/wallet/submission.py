"""Sending the response to an authorization request: ``Submission``.

A misbehaviour mode from ``stappen.wallet.modes`` builds and sends the
response through a Submission, with ``direct_post`` or encrypted to the
verifier's key with ``direct_post.jwt``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from joserfc import jwe
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, OKPKey

from stappen import dcql, jose, sdjwt
from stappen.wallet import modes
from stappen.wallet.request_object import AuthorizationRequest
from stappen.wallet.store import Wallet, WalletError
from stappen.wallet.transport import ResponseRejected, ServerError, _Http

if TYPE_CHECKING:
    from stappen.wallet.holder import Holder

CONTENT_ENCRYPTIONS = ("A128GCM", "A192GCM", "A256GCM", "A128CBC-HS256")
"""JWE ``enc`` values the wallet can use, in its order of preference."""
DEFAULT_CONTENT_ENCRYPTION = "A128GCM"
"""The ``enc`` OpenID4VP 1.0 prescribes when the verifier lists none."""


class Submission:
    """The response to one request, which a mode builds and sends.

    ``params`` builds the presentations when it is called, so a mode that
    waits first still signs its KB-JWTs with the current time.
    """

    def __init__(
        self,
        holder: Holder,
        wallet: Wallet,
        request: AuthorizationRequest,
        selection: dcql.Selection,
        behaviour: modes.Mode,
    ) -> None:
        self.holder = holder
        self.wallet = wallet
        self.request = request
        self.selection = selection
        self.behaviour = behaviour
        self.echo = holder.echo

    @property
    def previous(self) -> dict | None:
        """The last response a verifier accepted from this wallet, if any."""
        return self.wallet.last_response

    def params(self, vp_token: dict | None = None) -> dict:
        """Return the response parameters: ``vp_token`` and ``state``."""
        if vp_token is None:
            vp_token = self.presentations()
        return {"vp_token": vp_token, "state": self.request.state}

    def presentations(self) -> dict[str, list[str]]:
        """Build one presentation per chosen credential, by credential query id."""
        vp_token = {}
        for query_id, disclosures in self.selection.credentials.items():
            vp_token[query_id] = [self._present(d) for d in disclosures]
        return vp_token

    def _present(self, disclosure: dcql.Disclosure) -> str:
        credential = self.wallet.get(disclosure.credential.id)
        item = modes.PresentationInput(
            credential=credential,
            holder_key=self.wallet.key(credential.key_id),
            disclose={sdjwt_path(path) for path in disclosure.paths},
            nonce=self.request.nonce,
            aud=self.request.client_id,
            iat=self.holder.clock(),
        )
        try:
            presentation = self.behaviour.build(item)
        except (sdjwt.MalformedSdJwt, ValueError) as error:
            raise WalletError(
                f"cannot present credential {credential.id}: {error}"
            ) from error

        paths = ", ".join(sorted(item.disclose)) or "no selectively disclosed claims"
        self.echo(f"Presenting {credential.id} ({credential.vct}): {paths}")
        return presentation

    def encode(self, params: dict) -> dict[str, str]:
        """Return the form fields for ``params`` in the request's response mode."""
        if self.request.response_mode == "direct_post.jwt":
            return {"response": encrypt_response(params, self.request.client_metadata)}
        return {"vp_token": json.dumps(params["vp_token"]), "state": params["state"]}

    def post(self, fields: dict[str, str], params: dict | None = None) -> dict:
        """Post the form ``fields`` to the response_uri and return the answer.

        When the verifier accepts it and ``params`` is given, the wallet
        keeps ``params`` as its last accepted response.
        """
        uri = self.request.response_uri
        answer = _post_response(self.holder.http, uri, fields)
        self.echo(f"Sent the response to {uri}: accepted")
        if params is not None:
            self.wallet.last_response = {
                "client_id": self.request.client_id,
                "response_uri": uri,
                "vp_token": params["vp_token"],
                "sent_at": self.holder.clock(),
            }
            self.wallet.save()
        return answer

    def wait_until_expired(self, margin: int = sdjwt.TIME_SKEW + 1) -> None:
        """Wait until ``margin`` seconds after the request object's ``exp``."""
        if self.request.expires_at is None:
            raise WalletError(
                "the request object has no exp, so mode 'late' cannot tell when "
                "the request expires"
            )
        seconds = max(0, self.request.expires_at + margin - self.holder.clock())
        self.echo(f"Waiting {seconds} s until the request has expired")
        self.holder.sleep(seconds)


def _post_response(http: _Http, uri: str, fields: dict[str, str]) -> dict:
    try:
        return http.post_form(uri, fields)
    except ServerError as error:
        raise ResponseRejected.from_error(error) from error


def sdjwt_path(path: tuple) -> str:
    """Turn a DCQL claims path pointer into a ``stappen.sdjwt`` path.

    ``["adres", "woonplaats"]`` becomes ``"adres.woonplaats"``, null becomes
    ``*`` and an index its digits.
    """
    return ".".join("*" if part is None else str(part) for part in path)


def encrypt_response(params: dict, client_metadata: dict) -> str:
    """Encrypt ``params`` as a JWE to the verifier's key, for ``direct_post.jwt``.

    The key is the first ECDH-ES key in ``client_metadata.jwks`` that the
    wallet can use, and ``enc`` the first value of
    ``encrypted_response_enc_values_supported`` that it supports.
    """
    key_dict = _encryption_key(client_metadata)
    enc = _content_encryption(client_metadata)
    header = {"alg": "ECDH-ES", "enc": enc}
    if "kid" in key_dict:
        header["kid"] = key_dict["kid"]

    try:
        key = (ECKey if key_dict["kty"] == "EC" else OKPKey).import_key(key_dict)
        return jwe.encrypt_compact(header, jose.dumps_json(params), key)
    except (JoseError, ValueError) as error:
        raise WalletError(f"cannot encrypt the response: {error}") from error


def _encryption_key(client_metadata: dict) -> dict:
    jwks = client_metadata.get("jwks")
    keys = jwks.get("keys") if isinstance(jwks, dict) else None
    if not isinstance(keys, list):
        raise WalletError(
            "request asks for direct_post.jwt, but client_metadata has no jwks "
            "with keys to encrypt the response to"
        )

    for key in keys:
        usable_type = (key.get("kty"), key.get("crv")) in (
            ("EC", "P-256"),
            ("OKP", "X25519"),
        )
        if (
            usable_type
            and key.get("alg") == "ECDH-ES"
            and key.get("use", "enc") == "enc"
        ):
            return key

    found = [(k.get("kty"), k.get("crv"), k.get("alg")) for k in keys]
    raise WalletError(
        f"client_metadata.jwks has no ECDH-ES key on P-256 or X25519 with alg "
        f"set; found {found}"
    )


def _content_encryption(client_metadata: dict) -> str:
    offered = client_metadata.get(
        "encrypted_response_enc_values_supported", [DEFAULT_CONTENT_ENCRYPTION]
    )
    for enc in CONTENT_ENCRYPTIONS:
        if enc in offered:
            return enc
    raise WalletError(
        f"verifier supports enc {offered!r}; this wallet supports "
        f"{', '.join(CONTENT_ENCRYPTIONS)}"
    )
