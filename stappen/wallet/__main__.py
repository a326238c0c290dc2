"""Run the test wallet: ``python -m stappen.wallet [--wallet FILE] COMMAND``.

Exit status 0 means the step worked: credentials received, a presentation
accepted, or, with a misbehaviour ``--mode``, the response rejected as it
should be. Exit status 1 means it did not, with the reason on stderr.
"""

from __future__ import annotations

import argparse
import datetime
import json
import logging
import sys
from pathlib import Path

from stappen.wallet.holder import Holder, ResponseRejected
from stappen.wallet.modes import MODES
from stappen.wallet.store import DEFAULT_PATH, StoredCredential, Wallet, WalletError

logger = logging.getLogger(__name__)

EPILOG = """\
WALLET_URL is the link behind the QR code on the step's page: an
openid-credential-offer:// link to receive, an openid4vp:// link to present.
docs/test-wallet.md shows how to copy it and what each mode does."""


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, run the command and return the exit status."""
    args = _parser().parse_args(argv)
    try:
        return args.run(args)
    except ResponseRejected as rejection:
        return _rejected(args, rejection)
    except WalletError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m stappen.wallet",
        description="A test wallet for the Stappen API's wallet steps.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_wallet_option(parser, DEFAULT_PATH)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    def command(name: str, run, help: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help)
        # SUPPRESS keeps a --wallet given before the command.
        _add_wallet_option(sub, argparse.SUPPRESS)
        sub.set_defaults(run=run)
        return sub

    command("init", _init, "create an empty wallet file with mode 0600")
    command("list", _list, "list the credentials in the wallet")
    show = command("show", _show, "print one credential's claims and raw SD-JWT VC")
    show.add_argument("id", metavar="ID", help="a credential id from `list`")

    receive = command("receive", _receive, "receive the credentials of an offer")
    receive.add_argument(
        "url", metavar="WALLET_URL", help="openid-credential-offer:// link"
    )
    receive.add_argument(
        "--tx-code", metavar="CODE", help="the transaction code the page shows"
    )

    present = command("present", _present, "answer a presentation request")
    present.add_argument("url", metavar="WALLET_URL", help="openid4vp:// link")
    answer = present.add_mutually_exclusive_group()
    answer.add_argument(
        "--mode",
        choices=sorted(MODES),
        metavar="MODE",
        help=f"misbehave on purpose: {', '.join(sorted(MODES))}",
    )
    answer.add_argument(
        "--decline", action="store_true", help="decline, as a citizen can in the app"
    )
    return parser


def _add_wallet_option(parser: argparse.ArgumentParser, default) -> None:
    parser.add_argument(
        "--wallet",
        type=Path,
        default=default,
        metavar="FILE",
        help=f"the wallet file to use (default: ./{DEFAULT_PATH})",
    )


def _init(args) -> int:
    Wallet.create(args.wallet)
    print(f"Created the empty wallet {args.wallet} (mode 0600)")
    return 0


def _list(args) -> int:
    wallet = Wallet.load(args.wallet)
    if not wallet.credentials:
        print(
            f"{args.wallet} contains no credentials; receive some with "
            "`python -m stappen.wallet receive WALLET_URL`"
        )
        return 0

    now = int(datetime.datetime.now(datetime.UTC).timestamp())
    for credential in wallet.credentials:
        print(_list_line(credential, now))
    return 0


def _list_line(credential: StoredCredential, now: int) -> str:
    expiry = "no expiry"
    if credential.expires_at is not None:
        state = "expired" if credential.is_expired(now) else "expires"
        expiry = f"{state} {_when(credential.expires_at)}"
    return (
        f"{credential.id}  {credential.vct}  from {credential.issuer}  "
        f"received {_when(credential.received_at)}  {expiry}"
    )


def _show(args) -> int:
    credential = Wallet.load(args.wallet).get(args.id)
    expiry = _when(credential.expires_at) if credential.expires_at else "no expiry"
    print(f"id: {credential.id}")
    print(f"type (vct): {credential.vct}")
    print(f"issuer: {credential.issuer}")
    print(f"received: {_when(credential.received_at)}")
    print(f"expires: {expiry}")
    print(f"holder key: {credential.key_id}")
    print("claims:")
    print(json.dumps(credential.claims, indent=2, ensure_ascii=False))
    print("SD-JWT VC:")
    print(credential.raw)
    return 0


def _receive(args) -> int:
    ids = _holder(args).receive(args.url, tx_code=args.tx_code)
    print(f"Stored {len(ids)} credential(s) in {args.wallet}: {', '.join(ids)}")
    return 0


def _present(args) -> int:
    answer = _holder(args).present(args.url, mode=args.mode, decline=args.decline)
    if args.decline:
        print(f"The verifier accepted the decline: {json.dumps(answer)}")
        return 0
    if args.mode is None:
        print(f"The verifier accepted the response: {json.dumps(answer)}")
        return 0

    expected = MODES[args.mode].expected
    print(
        f"error: the verifier accepted a response made with mode {args.mode}; "
        f"a correct verifier ends with: {expected}",
        file=sys.stderr,
    )
    return 1


def _rejected(args, rejection: ResponseRejected) -> int:
    mode = getattr(args, "mode", None)
    if mode is None:
        print(
            f"error: the verifier rejected the response: {rejection}", file=sys.stderr
        )
        return 1

    print(f"The verifier rejected the response, as mode {mode} intends: {rejection}")
    print(f"A correct verifier ends with: {MODES[mode].expected}")
    return 0


def _holder(args) -> Holder:
    return Holder(args.wallet, echo=print)


def _when(seconds: int) -> str:
    moment = datetime.datetime.fromtimestamp(seconds, tz=datetime.UTC)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    sys.exit(main())
