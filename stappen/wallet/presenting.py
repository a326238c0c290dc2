"""Presenting credentials: OpenID4VP 1.0.

``Holder.present`` follows an authorization request
(``openid4vp://?client_id=...&request_uri=...``). It fetches the signed
request object and checks its signature against the leaf certificate in
``x5c``, whose hash must be the ``x509_hash:`` client id. Then it picks
credentials with the DCQL query and sends the response through a
``Submission``. A misbehaviour mode from ``stappen.wallet.modes`` can
change each step.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from stappen import dcql
from stappen.wallet import modes
from stappen.wallet.request_object import (
    REQUEST_OBJECT_TYP,
    AuthorizationRequest,
    _request_uri_method,
    verify_request_object,
)
from stappen.wallet.store import StoredCredential, Wallet, WalletError
from stappen.wallet.submission import Submission, _post_response
from stappen.wallet.transport import _Http, _query_parameters, check_http_url


class Presenting:
    """The presenting half of ``Holder``, which sets the attributes below."""

    wallet_path: Path
    http: _Http
    clock: Callable[[], int]
    echo: Callable[[str], None]

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


def _candidate(credential: StoredCredential) -> dcql.Candidate:
    return dcql.Candidate(
        id=credential.id,
        vct=credential.vct,
        claims=credential.claims,
        issuer=credential.issuer,
    )


def _vcts(credential_query: dict) -> list[str]:
    return list(credential_query["meta"]["vct_values"])
