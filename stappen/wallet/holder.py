"""The holder's side of OpenID4VCI 1.0 and OpenID4VP 1.0, in place of a phone.

``Holder.receive`` follows a credential offer
(``openid-credential-offer://?credential_offer_uri=...``) through the
pre-authorized code flow: the token request with the code and an optional
transaction code, a ``c_nonce`` from the nonce endpoint, a key proof JWT
(``openid4vci-proof+jwt``) and the credential request with ``proofs``.

``Holder.present`` follows an authorization request
(``openid4vp://?client_id=...&request_uri=...``). It fetches the signed
request object and checks its signature against the leaf certificate in
``x5c``, whose hash must be the ``x509_hash:`` client id. Then it picks
credentials with the DCQL query and posts the presentations with
``direct_post``, or encrypted to the verifier's key with
``direct_post.jwt``. A misbehaviour mode from ``stappen.wallet.modes``
can change each step.

Every HTTP exchange goes through a transport function, so tests can route
the wallet to a Flask test client instead of the network.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import hashlib
import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from joserfc import jwe
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, Key, OKPKey

from stappen import dcql, jose, sdjwt
from stappen.wallet import modes
from stappen.wallet.store import StoredCredential, Wallet, WalletError

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 10
"""Seconds to wait for a server. A local API responds well within this."""

MAX_RESPONSE_BYTES = 4 * 1024 * 1024

PRE_AUTHORIZED_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
PROOF_TYP = "openid4vci-proof+jwt"
REQUEST_OBJECT_TYP = "oauth-authz-req+jwt"
SELF_ISSUED_AUDIENCE = "https://self-issued.me/v2"
"""The ``aud`` of a request object when the wallet sent no wallet metadata."""

RESPONSE_MODES = ("direct_post", "direct_post.jwt")
CONTENT_ENCRYPTIONS = ("A128GCM", "A192GCM", "A256GCM", "A128CBC-HS256")
"""JWE ``enc`` values the wallet can use, in its order of preference."""
DEFAULT_CONTENT_ENCRYPTION = "A128GCM"
"""The ``enc`` OpenID4VP 1.0 prescribes when the verifier lists none."""

REGISTERED_CLAIMS = frozenset(
    {"iss", "sub", "iat", "nbf", "exp", "cnf", "vct", "vct#integrity", "status", "jti"}
)
"""Claims about the credential itself rather than its subject."""

Clock = Callable[[], int]
Echo = Callable[[str], None]


class ServerError(WalletError):
    """An HTTP error status from a server. ``error`` is its OAuth error code."""

    def __init__(self, url: str, status: int, error: str, description: str) -> None:
        self.url = url
        self.status = status
        self.error = error
        self.description = description
        super().__init__(f"{url} answered HTTP {status}: {error}: {description}")


class ResponseRejected(ServerError):
    """The verifier's response_uri rejected an authorization response."""

    @classmethod
    def from_error(cls, error: ServerError) -> ResponseRejected:
        return cls(error.url, error.status, error.error, error.description)


class NetworkError(WalletError):
    """A server that could not be reached or timed out."""


@dataclasses.dataclass(frozen=True)
class HttpRequest:
    """One HTTP request that the wallet sends through its transport."""

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes | None = None


@dataclasses.dataclass(frozen=True)
class HttpResponse:
    """A server's response, with lower-case header names."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def content_type(self) -> str:
        """The media type of the body, without parameters such as charset."""
        return self.headers.get("content-type", "").split(";")[0].strip().lower()


Transport = Callable[[HttpRequest], HttpResponse]


def urllib_transport(request: HttpRequest, timeout: float = DEFAULT_TIMEOUT):
    """Send ``request`` with urllib and return the response, HTTP errors included."""
    sent = urllib.request.Request(
        request.url,
        data=request.body,
        headers=dict(request.headers),
        method=request.method,
    )
    opener = urllib.request.build_opener(_HttpOnlyRedirects)
    try:
        with opener.open(sent, timeout=timeout) as answer:
            return _response_from(answer.status, answer.headers, answer)
    except urllib.error.HTTPError as error:
        return _response_from(error.code, error.headers, error)
    except TimeoutError as error:
        raise NetworkError(
            f"{request.url} timed out after {timeout} s; check that the "
            "API runs and that the URL is right"
        ) from error
    except urllib.error.URLError as error:
        raise NetworkError(
            f"{request.url} cannot be reached: {error.reason}; check that the "
            "API runs and that the URL is right"
        ) from error


class _HttpOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects to http and https URLs only."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        check_http_url(newurl, f"redirect from {req.full_url}")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _response_from(status: int, headers, stream) -> HttpResponse:
    body = stream.read(MAX_RESPONSE_BYTES + 1)
    if len(body) > MAX_RESPONSE_BYTES:
        raise NetworkError(f"response is larger than {MAX_RESPONSE_BYTES} bytes")
    names = {name.lower(): value for name, value in headers.items()}
    return HttpResponse(status, names, body)


def check_http_url(url: Any, label: str) -> str:
    """Return ``url`` if it is an absolute http or https URL, else raise."""
    parts = urllib.parse.urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        raise WalletError(
            f"{label} is {url!r}; expected an absolute http:// or https:// URL"
        )
    return url


class _Http:
    """JSON and form requests over a transport, with errors for the user."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    def send(self, method: str, url: str, headers: dict, body: bytes | None = None):
        check_http_url(url, "URL")
        logger.debug("%s %s", method, url)
        response = self.transport(HttpRequest(method, url, headers, body))
        if not 200 <= response.status < 300:
            raise _server_error(url, response)
        return response

    def get_json(self, url: str) -> dict:
        response = self.send("GET", url, {"Accept": "application/json"})
        return _json_object(url, response)

    def post_form(self, url: str, fields: Mapping[str, str], headers=None) -> dict:
        body = urllib.parse.urlencode(fields).encode("utf-8")
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        response = self.send("POST", url, {**form, **(headers or {})}, body)
        return _json_object(url, response)

    def post_json(self, url: str, document: Any, headers=None) -> HttpResponse:
        body = json.dumps(document).encode("utf-8")
        sent = {"Content-Type": "application/json", **(headers or {})}
        return self.send("POST", url, sent, body)


def _server_error(url: str, response: HttpResponse) -> ServerError:
    try:
        document = json.loads(response.body)
    except ValueError:
        document = None

    if not isinstance(document, dict):
        text = response.body[:200].decode("utf-8", "replace").strip()
        return ServerError(url, response.status, "no JSON error", text or "empty body")
    error = str(document.get("error", "no error code"))
    description = document.get("error_description") or document.get("message") or ""
    return ServerError(url, response.status, error, str(description))


def _json_object(url: str, response: HttpResponse) -> dict:
    try:
        document = json.loads(response.body)
    except ValueError as error:
        raise WalletError(f"{url} returned invalid JSON: {error}") from error
    if not isinstance(document, dict):
        raise WalletError(f"{url} returned JSON that is not an object")
    return document


def _require(document: Mapping, name: str, kind: type, source: str) -> Any:
    value = document.get(name)
    if not isinstance(value, kind):
        raise WalletError(f"{source} has {name} {value!r}; expected a {kind.__name__}")
    return value


def _query_parameters(url: str, expected: tuple[str, ...], label: str) -> dict:
    if not isinstance(url, str):
        raise WalletError(f"{label} must be text, got {type(url).__name__}")

    query = urllib.parse.urlsplit(url.strip()).query
    parameters = urllib.parse.parse_qs(query, keep_blank_values=True)
    found = {}
    for name in expected:
        values = parameters.get(name)
        if not values or not values[0]:
            raise WalletError(
                f"{label} {url!r} has no {name} parameter; copy the whole link "
                "from the page (see docs/test-wallet.md)"
            )
        found[name] = values[0]
    return found


# Receiving credentials: OpenID4VCI 1.0 with a pre-authorized code.


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


# Presenting credentials: OpenID4VP 1.0.


@dataclasses.dataclass(frozen=True)
class AuthorizationRequest:
    """A verified OpenID4VP request object, with the parts the wallet uses."""

    client_id: str
    response_uri: str
    response_mode: str
    nonce: str
    state: str
    dcql_query: dict
    client_metadata: dict
    expires_at: int | None
    certificate_subject: str


class Holder:
    """A test wallet: receives and presents SD-JWT VCs kept in a wallet file.

    ``transport`` sends HTTP requests (urllib by default). ``clock`` returns
    the time in seconds since 1970 and ``sleep`` waits a number of seconds.
    Tests replace both to move a server's clock instead of waiting. ``echo``
    receives one line for each thing that happened.
    """

    def __init__(
        self,
        wallet_path: str | Path,
        *,
        transport: Transport = urllib_transport,
        clock: Clock = lambda: int(time.time()),
        sleep: Callable[[float], None] = time.sleep,
        echo: Echo | None = None,
    ) -> None:
        self.wallet_path = Path(wallet_path)
        self.http = _Http(transport)
        self.clock = clock
        self.sleep = sleep
        self.echo = echo or (lambda line: logger.info("%s", line))

    # Receiving.

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

    # Presenting.

    def present(
        self, request_url: str, mode: str | None = None, decline: bool = False
    ) -> dict:
        """Answer the authorization request at ``request_url``.

        Returns the JSON the verifier answered the (last) response with.
        ``mode`` names a misbehaviour from ``stappen.wallet.modes``;
        ``decline`` sends ``access_denied`` instead of credentials. Raises
        ResponseRejected when the verifier rejects a response.
        """
        behaviour = modes.find(mode)
        wallet = Wallet.load(self.wallet_path)
        request = self.fetch_request(request_url)
        if decline:
            return self._decline(request)

        chosen = self._choose(wallet, request, behaviour)
        submission = Submission(self, wallet, request, chosen, behaviour)
        return behaviour.send(submission)

    def fetch_request(self, request_url: str) -> AuthorizationRequest:
        """Fetch the request object that ``request_url`` refers to, and verify it."""
        parameters = _query_parameters(
            request_url, ("client_id", "request_uri"), "authorization request link"
        )
        method = _request_uri_method(request_url)
        if method != "get":
            raise WalletError(
                f"request_uri_method is {method!r}; this wallet fetches request "
                "objects with GET only"
            )

        uri = check_http_url(parameters["request_uri"], "request_uri")
        accept = {"Accept": f"application/{REQUEST_OBJECT_TYP}"}
        response = self.http.send("GET", uri, accept)
        if response.content_type != f"application/{REQUEST_OBJECT_TYP}":
            raise WalletError(
                f"{uri} returned Content-Type {response.content_type!r}; a "
                f"request object must be application/{REQUEST_OBJECT_TYP}"
            )
        token = response.body.decode("ascii", "replace").strip()
        request = verify_request_object(token, parameters["client_id"], self.clock())
        self.echo(
            f"Request from {request.client_id} (certificate "
            f"{request.certificate_subject}), response mode {request.response_mode}"
        )
        return request

    def _decline(self, request: AuthorizationRequest) -> dict:
        fields = {
            "error": "access_denied",
            "error_description": "the holder declined to present credentials",
            "state": request.state,
        }
        answer = _post_response(self.http, request.response_uri, fields)
        self.echo(f"Declined: sent access_denied to {request.response_uri}")
        return answer

    def _choose(
        self, wallet: Wallet, request: AuthorizationRequest, behaviour: modes.Mode
    ) -> dcql.Selection:
        candidates = behaviour.choose(wallet.credentials, self.clock())
        try:
            selection = dcql.match(
                request.dcql_query, [_candidate(c) for c in candidates]
            )
        except dcql.InvalidQuery as error:
            raise WalletError(
                f"the request's dcql_query is invalid: {error}"
            ) from error

        if selection is None:
            requested = sorted(
                {vct for q in request.dcql_query["credentials"] for vct in _vcts(q)}
            )
            stored = sorted({c.vct for c in candidates}) or ["nothing usable"]
            raise WalletError(
                f"the wallet cannot satisfy the request: it requests "
                f"{', '.join(requested)} and the wallet contains {', '.join(stored)}; "
                "receive the missing credentials first"
            )
        return selection


def subject_claim_names(credential: StoredCredential) -> list[str]:
    """Return the names of a credential's top-level claims about its subject."""
    return sorted(set(credential.claims) - REGISTERED_CLAIMS)


def _candidate(credential: StoredCredential) -> dcql.Candidate:
    return dcql.Candidate(
        id=credential.id,
        vct=credential.vct,
        claims=credential.claims,
        issuer=credential.issuer,
    )


def _vcts(credential_query: dict) -> list[str]:
    return list(credential_query["meta"]["vct_values"])


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


# Verifying the request object.


def _request_uri_method(request_url: str) -> str:
    query = urllib.parse.urlsplit(request_url.strip()).query
    values = urllib.parse.parse_qs(query).get("request_uri_method", ["get"])
    return values[0].lower()


def verify_request_object(token: str, client_id: str, now: int) -> AuthorizationRequest:
    """Verify a signed request object for the ``x509_hash`` client id prefix.

    The signature must verify with the leaf certificate of ``x5c``, whose
    base64url SHA-256 hash must be the client id. Raises WalletError naming
    the failed check.
    """
    # NOTE: no chain to a trust anchor is checked. The x509_hash pins the leaf
    # certificate, and a test wallet trusts any verifier it is pointed at.
    prefix, _, expected_hash = client_id.partition(":")
    if prefix != "x509_hash" or not expected_hash:
        raise WalletError(
            f"client_id {client_id!r} does not use the x509_hash: prefix; this "
            "wallet supports x509_hash client ids only"
        )

    try:
        header, _ = jose.decode_unverified(token)
        leaf = _leaf_certificate(header.get("x5c"))
        _check_certificate_hash(leaf, expected_hash)
        _check_certificate_times(leaf, now)
        _, claims = jose.verify(
            token, _certificate_key(leaf), typ=REQUEST_OBJECT_TYP, now=now
        )
    except jose.VerificationError as error:
        raise WalletError(
            f"request object failed the {error.check} check: {error.reason}"
        ) from error

    return _authorization_request(claims, client_id, leaf)


def _leaf_certificate(x5c: Any) -> x509.Certificate:
    if not isinstance(x5c, list) or not x5c or not isinstance(x5c[0], str):
        raise jose.VerificationError(
            "x5c", f"header x5c is {x5c!r}; expected a list of base64 certificates"
        )
    try:
        return x509.load_der_x509_certificate(base64.b64decode(x5c[0], validate=True))
    except ValueError as error:
        raise jose.VerificationError(
            "x5c", f"x5c[0] is not a base64 DER certificate: {error}"
        ) from error


def certificate_hash(certificate: x509.Certificate) -> str:
    """Return the ``x509_hash`` of a certificate: base64url SHA-256 of its DER."""
    der = certificate.public_bytes(serialization.Encoding.DER)
    return jose.b64url_encode(hashlib.sha256(der).digest())


def _check_certificate_hash(leaf: x509.Certificate, expected: str) -> None:
    actual = certificate_hash(leaf)
    if actual != expected:
        raise jose.VerificationError(
            "client_id",
            f"client_id hash {expected!r} does not match the x5c leaf "
            f"certificate, whose SHA-256 is {actual!r}",
        )


def _check_certificate_times(leaf: x509.Certificate, now: int) -> None:
    moment = datetime.datetime.fromtimestamp(now, tz=datetime.UTC)
    if not leaf.not_valid_before_utc <= moment <= leaf.not_valid_after_utc:
        raise jose.VerificationError(
            "x5c",
            f"leaf certificate is valid from {leaf.not_valid_before_utc} to "
            f"{leaf.not_valid_after_utc}, not at {moment}",
        )


def _certificate_key(leaf: x509.Certificate) -> Key:
    public_key = leaf.public_key()
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return ECKey.import_key(public_key)
    if isinstance(public_key, ed25519.Ed25519PublicKey):
        pem = public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return OKPKey.import_key(pem)
    raise jose.VerificationError(
        "x5c", f"leaf certificate has a {type(public_key).__name__}, not EC or Ed25519"
    )


def _authorization_request(
    claims: dict, client_id: str, leaf: x509.Certificate
) -> AuthorizationRequest:
    source = "request object"
    _expect(claims, "client_id", client_id)
    _expect(claims, "response_type", "vp_token")
    _expect(claims, "aud", SELF_ISSUED_AUDIENCE)
    mode = claims.get("response_mode")
    if mode not in RESPONSE_MODES:
        raise WalletError(
            f"{source} has response_mode {mode!r}; expected one of {RESPONSE_MODES}"
        )
    if "redirect_uri" in claims:
        raise WalletError(
            f"{source} has a redirect_uri, which OpenID4VP forbids with {mode}"
        )

    return AuthorizationRequest(
        client_id=client_id,
        response_uri=check_http_url(claims.get("response_uri"), "response_uri"),
        response_mode=mode,
        nonce=_require(claims, "nonce", str, source),
        state=_require(claims, "state", str, source),
        dcql_query=_require(claims, "dcql_query", dict, source),
        client_metadata=claims.get("client_metadata") or {},
        expires_at=claims.get("exp"),
        certificate_subject=leaf.subject.rfc4514_string(),
    )


def _expect(claims: dict, name: str, expected: str) -> None:
    if claims.get(name) != expected:
        raise WalletError(
            f"request object has {name} {claims.get(name)!r}; expected {expected!r}"
        )


# Sending the response.


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
