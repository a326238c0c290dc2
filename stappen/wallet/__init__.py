"""A test wallet: the holder's side of OpenID4VCI and OpenID4VP, without a phone.

Tests and pilot teams use it to receive SD-JWT VCs from the Stappen API and
to present them, honestly or with one deliberate fault (see ``modes``).
``python -m stappen.wallet --help`` lists the commands; docs/test-wallet.md
describes them.
"""

from stappen.wallet.holder import (
    AuthorizationRequest,
    Holder,
    HttpRequest,
    HttpResponse,
    NetworkError,
    ResponseRejected,
    ServerError,
    urllib_transport,
)
from stappen.wallet.modes import MODES
from stappen.wallet.store import StoredCredential, Wallet, WalletError, WalletFileError

__all__ = [
    "MODES",
    "AuthorizationRequest",
    "Holder",
    "HttpRequest",
    "HttpResponse",
    "NetworkError",
    "ResponseRejected",
    "ServerError",
    "StoredCredential",
    "Wallet",
    "WalletError",
    "WalletFileError",
    "urllib_transport",
]
