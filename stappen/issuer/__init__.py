"""The pilot issuer: OpenID4VCI 1.0 with a pre-authorized code, for wallet steps.

No authentic source, such as the BRP, UWV or the tax office, is reachable
from a pilot. This issuer therefore issues the credentials of a wallet
step of purpose ``issue`` from the citizen's own answers or from a test
persona (``steps/<flow>/personas.yaml``), and marks every credential as
pilot data with two plain claims that are never hidden behind a
disclosure:

- ``bron``: always ``"pilot"``;
- ``herkomst``: ``"testpersona"``, ``"eigen_opgave"`` (the citizen's own
  answers) or ``"testpersona_en_eigen_opgave"``, and ``"regelcheck"`` for
  the voucher of a check step (:mod:`stappen.checking`), and ``"besluit"``
  for the decision credential of a decision step (:mod:`stappen.deciding`).

Every claim of the step is selectively disclosable. The credential's
``iss`` is the step's ``issuer`` setting, and it carries a ``status``
reference to the API's Token Status List.

The endpoints follow docs/wallet-api.md:

- ``GET /.well-known/openid-credential-issuer`` and
  ``GET /.well-known/oauth-authorization-server``: the metadata;
- ``GET /api/v1/issuer/offers/<offer_id>``: the credential offer;
- ``POST /api/v1/issuer/token``: the pre-authorized code (and the
  transaction code) for an access token;
- ``POST /api/v1/issuer/nonce``: a fresh ``c_nonce``;
- ``POST /api/v1/issuer/credential``: one SD-JWT VC per request, bound to
  the key of its key proof;
- ``GET /api/v1/status-lists/<list_id>``: the signed status list.

:func:`prepare_issuance` builds the offer when the citizen's page creates
an issuing session, and :func:`revoke` (``flask credentials revoke ID``)
marks an issued credential as revoked. The signing key is the first key of
the pilot issuer's key file (see :mod:`stappen.apiconfig`), whose public
half the API's verifier trusts for the issue steps' issuer identifiers.

Each module has one part. ``blueprint`` has the Flask blueprint, the
issuer's settings and errors, and the helpers the others share.
``metadata`` publishes the credential configurations, ``offers`` builds
and serves the offers, and ``tokens`` has the token and nonce endpoints.
``credentials`` checks key proofs and issues, and ``status_lists`` serves
the status list and revokes. Importing this package registers the routes
on ``blueprint``.
"""

from stappen.issuer.blueprint import (
    ACCESS_TOKEN_LIFETIME,
    C_NONCE_TYP,
    PRE_AUTHORIZED_GRANT,
    PROOF_TYP,
    STATUS_LIST_SIZE,
    TEXT_TX_CODE_ALPHABET,
    TOKEN_PATH,
    CredentialNotFound,
    IssuerError,
    IssuerSetupError,
    blueprint,
    public_url,
)
from stappen.issuer.credentials import credential
from stappen.issuer.metadata import offered_configurations
from stappen.issuer.offers import flow_personas, prepare_issuance, prepare_offer
from stappen.issuer.status_lists import revoke, status_list_uri
from stappen.issuer.tokens import nonce, token

__all__ = [
    "ACCESS_TOKEN_LIFETIME",
    "C_NONCE_TYP",
    "PRE_AUTHORIZED_GRANT",
    "PROOF_TYP",
    "STATUS_LIST_SIZE",
    "TEXT_TX_CODE_ALPHABET",
    "TOKEN_PATH",
    "CredentialNotFound",
    "IssuerError",
    "IssuerSetupError",
    "blueprint",
    "credential",
    "flow_personas",
    "nonce",
    "offered_configurations",
    "prepare_issuance",
    "prepare_offer",
    "public_url",
    "revoke",
    "status_list_uri",
    "token",
]
