"""Receiving credentials: OpenID4VCI 1.0 with a pre-authorized code.

``Holder.receive`` follows a credential offer
(``openid-credential-offer://?credential_offer_uri=...``) through the
pre-authorized code flow: the token request with the code and an optional
transaction code, a ``c_nonce`` from the nonce endpoint, a key proof JWT
(``openid4vci-proof+jwt``) and the credential request with ``proofs``.
"""

from __future__ import annotations

import dataclasses
import urllib.parse
from collections.abc import Callable
from pathlib import Path

from joserfc.jwk import Key

from stappen import dcql, jose
from stappen.wallet.store import StoredCredential, Wallet, WalletError
from stappen.wallet.transport import (
    HttpResponse,
    _Http,
    _json_object,
    _query_parameters,
    _require,
    check_http_url,
)

PRE_AUTHORIZED_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
PROOF_TYP = "openid4vci-proof+jwt"

REGISTERED_CLAIMS = frozenset(
    {"iss", "sub", "iat", "nbf", "exp", "cnf", "vct", "vct#integrity", "status", "jti"}
)
"""Claims about the credential itself rather than its subject."""


@dataclasses.dataclass(frozen=True)
class _Offer:
    credential_issuer: str
    configuration_ids: tuple[str, ...]
    pre_authorized_code: str
    tx_code: dict | None


@dataclasses.dataclass(frozen=True)
class _IssuerMetadata:
    credential_issuer: str
    credential_endpoint: str
    nonce_endpoint: str | None
    authorization_server: str
    configurations: dict


@dataclasses.dataclass(frozen=True)
class _Token:
    access_token: str
    identifiers: dict[str, list[str]]
    """credential_identifiers by configuration id, from authorization_details."""


class Receiving:
    """The receiving half of ``Holder``, which sets the attributes below."""

    wallet_path: Path
    http: _Http
    clock: Callable[[], int]
    echo: Callable[[str], None]

    def receive(self, offer_url: str, tx_code: str | None = None) -> list[str]:
        """Receive every credential of the offer; return the new credential ids."""
        wallet = Wallet.load(self.wallet_path)
        offer = self._fetch_offer(offer_url)
        metadata = self._issuer_metadata(offer)
        token = self._token(offer, metadata, tx_code)

        received = []
        for configuration_id in offer.configuration_ids:
            for identifier in token.identifiers.get(configuration_id, [None]):
                credentials = self._request_credential(
                    wallet, metadata, token, configuration_id, identifier
                )
                wallet.save()
                received += [credential.id for credential in credentials]
        return received

    def _fetch_offer(self, offer_url: str) -> _Offer:
        parameters = _query_parameters(
            offer_url, ("credential_offer_uri",), "credential offer link"
        )
        uri = check_http_url(parameters["credential_offer_uri"], "credential_offer_uri")
        offer = self.http.get_json(uri)
        source = f"credential offer {uri}"

        issuer = check_http_url(offer.get("credential_issuer"), "credential_issuer")
        ids = _require(offer, "credential_configuration_ids", list, source)
        grants = offer.get("grants") if isinstance(offer.get("grants"), dict) else {}
        grant = grants.get(PRE_AUTHORIZED_GRANT)
        if not isinstance(grant, dict):
            raise WalletError(
                f"{source} has no pre-authorized code grant; this wallet "
                "supports only the pre-authorized code flow"
            )

        code = _require(grant, "pre-authorized_code", str, source)
        tx_code = grant.get("tx_code")
        self.echo(f"Offer from {issuer}: {', '.join(map(str, ids))}")
        return _Offer(issuer, tuple(ids), code, tx_code)

    def _issuer_metadata(self, offer: _Offer) -> _IssuerMetadata:
        url = well_known_url(offer.credential_issuer, "openid-credential-issuer")
        metadata = self.http.get_json(url)
        source = f"issuer metadata {url}"
        if metadata.get("credential_issuer") != offer.credential_issuer:
            raise WalletError(
                f"{source} names credential_issuer "
                f"{metadata.get('credential_issuer')!r}, but the offer came "
                f"from {offer.credential_issuer!r}"
            )

        configurations = _require(
            metadata, "credential_configurations_supported", dict, source
        )
        unknown = [i for i in offer.configuration_ids if i not in configurations]
        if unknown:
            raise WalletError(
                f"the offer names credential configurations {unknown} that "
                f"{source} does not list"
            )

        servers = metadata.get("authorization_servers") or [offer.credential_issuer]
        return _IssuerMetadata(
            credential_issuer=offer.credential_issuer,
            credential_endpoint=check_http_url(
                metadata.get("credential_endpoint"), "credential_endpoint"
            ),
            nonce_endpoint=metadata.get("nonce_endpoint"),
            authorization_server=servers[0],
            configurations=configurations,
        )

    def _token(self, offer: _Offer, metadata: _IssuerMetadata, tx_code) -> _Token:
        server = metadata.authorization_server
        url = well_known_url(server, "oauth-authorization-server")
        server_metadata = self.http.get_json(url)
        endpoint = check_http_url(
            server_metadata.get("token_endpoint"), "token_endpoint"
        )

        fields = {
            "grant_type": PRE_AUTHORIZED_GRANT,
            "pre-authorized_code": offer.pre_authorized_code,
        }
        fields.update(self._tx_code_field(offer, tx_code))
        token = self.http.post_form(endpoint, fields)
        source = f"token response of {endpoint}"
        access_token = _require(token, "access_token", str, source)
        if str(token.get("token_type", "")).lower() != "bearer":
            raise WalletError(
                f"{source} has token_type {token.get('token_type')!r}; this "
                "wallet supports Bearer tokens only"
            )

        self.echo(f"Received an access token from {endpoint}")
        return _Token(access_token, _credential_identifiers(token))

    def _tx_code_field(self, offer: _Offer, tx_code: str | None) -> dict:
        if offer.tx_code is None:
            if tx_code is not None:
                self.echo("The offer asks no transaction code; --tx-code is ignored")
            return {}

        if tx_code is None:
            length = offer.tx_code.get("length")
            digits = f"{length} characters" if length else "a code"
            description = offer.tx_code.get("description")
            hint = f" ({description})" if description else ""
            raise WalletError(
                f"the offer needs a transaction code of {digits}{hint}; pass it "
                "with --tx-code (tx_code= in the library)"
            )
        return {"tx_code": tx_code}

    def _request_credential(
        self,
        wallet: Wallet,
        metadata: _IssuerMetadata,
        token: _Token,
        configuration_id: str,
        identifier: str | None,
    ) -> list[StoredCredential]:
        configuration = metadata.configurations[configuration_id]
        if configuration.get("format") != dcql.SD_JWT_FORMAT:
            raise WalletError(
                f"credential configuration {configuration_id!r} has format "
                f"{configuration.get('format')!r}; this wallet receives "
                f"{dcql.SD_JWT_FORMAT!r} only"
            )

        key = wallet.new_key()
        key_id = jose.key_id(key)
        try:
            body = {"proofs": {"jwt": [self._key_proof(metadata, key)]}}
            if identifier is None:
                body["credential_configuration_id"] = configuration_id
            else:
                body["credential_identifier"] = identifier
            response = self.http.post_json(
                metadata.credential_endpoint,
                body,
                {"Authorization": f"Bearer {token.access_token}"},
            )
            raws = _issued_credentials(metadata.credential_endpoint, response)
        except BaseException:
            del wallet.keys[key_id]
            raise

        return [
            self._keep(wallet, raw, key_id, metadata, configuration_id, configuration)
            for raw in raws
        ]

    def _key_proof(self, metadata: _IssuerMetadata, key: Key) -> str:
        claims = {"aud": metadata.credential_issuer, "iat": self.clock()}
        if metadata.nonce_endpoint:
            endpoint = check_http_url(metadata.nonce_endpoint, "nonce_endpoint")
            answer = self.http.post_form(endpoint, {})
            claims["nonce"] = _require(answer, "c_nonce", str, f"{endpoint} answer")
        headers = {"jwk": jose.public_jwk(key)}
        return jose.sign(claims, key, typ=PROOF_TYP, headers=headers)

    def _keep(
        self,
        wallet: Wallet,
        raw: str,
        key_id: str,
        metadata: _IssuerMetadata,
        configuration_id: str,
        configuration: dict,
    ) -> StoredCredential:
        credential = wallet.add_credential(
            raw,
            key_id=key_id,
            now=self.clock(),
            credential_issuer=metadata.credential_issuer,
            configuration_id=configuration_id,
        )
        expected_vct = configuration.get("vct")
        if expected_vct is not None and credential.vct != expected_vct:
            wallet.credentials.remove(credential)
            raise WalletError(
                f"credential for configuration {configuration_id!r} has vct "
                f"{credential.vct!r}, but the issuer metadata promises "
                f"{expected_vct!r}"
            )

        names = ", ".join(subject_claim_names(credential)) or "no claims"
        self.echo(f"Received {credential.id}: {credential.vct} ({names})")
        return credential


def subject_claim_names(credential: StoredCredential) -> list[str]:
    """Return the names of a credential's top-level claims about its subject."""
    return sorted(set(credential.claims) - REGISTERED_CLAIMS)


def _credential_identifiers(token: dict) -> dict[str, list[str]]:
    identifiers: dict[str, list[str]] = {}
    for detail in token.get("authorization_details") or []:
        if isinstance(detail, dict) and detail.get("type") == "openid_credential":
            configuration_id = detail.get("credential_configuration_id")
            found = detail.get("credential_identifiers")
            if isinstance(found, list) and found:
                identifiers[configuration_id] = [str(item) for item in found]
    return identifiers


def _issued_credentials(endpoint: str, response: HttpResponse) -> list[str]:
    answer = _json_object(endpoint, response)
    if response.status == 202 or "transaction_id" in answer:
        raise WalletError(
            f"{endpoint} deferred the issuance (transaction_id "
            f"{answer.get('transaction_id')!r}); this wallet does not support "
            "deferred issuance"
        )

    entries = _require(
        answer, "credentials", list, f"credential response of {endpoint}"
    )
    raws = [entry.get("credential") for entry in entries if isinstance(entry, dict)]
    if not raws or not all(isinstance(raw, str) for raw in raws):
        raise WalletError(
            f"credential response of {endpoint} has credentials {entries!r}; "
            'expected [{"credential": "<SD-JWT VC>"}, ...]'
        )
    return raws


def well_known_url(identifier: str, name: str) -> str:
    """Return the metadata URL of ``identifier``: ``/.well-known/<name>`` + its path.

    RFC 8414 (section 3.1) and OpenID4VCI put the well-known part between
    the host and the identifier's path.
    """
    parts = urllib.parse.urlsplit(check_http_url(identifier, "identifier"))
    path = f"/.well-known/{name}{parts.path.rstrip('/')}"
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, "", ""))
