"""The test wallet ``Holder``: the holder's side of OpenID4VCI and OpenID4VP.

``Holder`` combines ``receiving.Receiving`` (OpenID4VCI 1.0 with a
pre-authorized code) and ``presenting.Presenting`` (OpenID4VP 1.0). The
other modules of this package do the parts: ``transport`` sends HTTP,
``request_object`` verifies a signed request object, and ``submission``
builds and sends the response.

This module also re-exports the names that callers and tests imported from
it before those parts had their own modules.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

from stappen.wallet.presenting import Presenting
from stappen.wallet.receiving import (  # noqa: F401 (re-exported)
    PRE_AUTHORIZED_GRANT,
    PROOF_TYP,
    REGISTERED_CLAIMS,
    Receiving,
    _credential_identifiers,
    subject_claim_names,
    well_known_url,
)
from stappen.wallet.request_object import (  # noqa: F401 (re-exported)
    REQUEST_OBJECT_TYP,
    RESPONSE_MODES,
    SELF_ISSUED_AUDIENCE,
    AuthorizationRequest,
    certificate_hash,
    verify_request_object,
)
from stappen.wallet.submission import (  # noqa: F401 (re-exported)
    CONTENT_ENCRYPTIONS,
    DEFAULT_CONTENT_ENCRYPTION,
    Submission,
    encrypt_response,
    sdjwt_path,
)
from stappen.wallet.transport import (  # noqa: F401 (re-exported)
    DEFAULT_TIMEOUT,
    MAX_RESPONSE_BYTES,
    HttpRequest,
    HttpResponse,
    NetworkError,
    ResponseRejected,
    ServerError,
    Transport,
    _Http,
    _HttpOnlyRedirects,
    check_http_url,
    urllib_transport,
)

logger = logging.getLogger(__name__)

Clock = Callable[[], int]
Echo = Callable[[str], None]


class Holder(Receiving, Presenting):
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
