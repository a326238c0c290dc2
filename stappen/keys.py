"""Issuer and verifier key files: a private JWKS that only its owner can read.

Create one with ``python -m stappen.keys generate PATH`` and print its
public half, for verifiers or issuer metadata, with
``python -m stappen.keys public PATH``. Key files never belong in git.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import stat
import sys
from pathlib import Path

from joserfc.jwk import Key

from stappen import jose

logger = logging.getLogger(__name__)

FILE_MODE = 0o600
GENERATE_COMMAND = "python -m stappen.keys generate {path}"


class KeyFileError(Exception):
    """A key file that is missing, already exists or cannot be read."""


def generate_keyset(
    path: str | Path, *, alg: str = "ES256", force: bool = False
) -> list[Key]:
    """Write a new private JWKS with one ``alg`` key to ``path`` (mode 0600).

    The parent folder is created. An existing file is replaced only with
    ``force``, because tokens signed with the old key stop verifying.
    """
    path = Path(path)
    if path.exists() and not force:
        raise KeyFileError(
            f"key file {path} already exists; replacing it makes every token "
            "signed with its keys unverifiable, so pass force=True (--force) "
            "only if that is intended"
        )

    key = jose.generate_key(alg)
    text = json.dumps({"keys": [key.as_dict(private=True)]}, indent=2) + "\n"
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    _write_private(path, text, replace=force)
    logger.info("Wrote a new %s key with kid %s to %s", alg, key.kid, path)
    return [key]


def _write_private(path: Path, text: str, *, replace: bool) -> None:
    """Write ``text`` to a file that is created with mode 0600 from the start."""
    target = path.with_name(f".{path.name}.new") if replace else path
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    try:
        descriptor = os.open(target, flags, FILE_MODE)
    except FileExistsError as error:
        raise KeyFileError(
            f"key file {target} appeared while writing; remove it and try again"
        ) from error

    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(text)
    if replace:
        os.replace(target, path)


def load_keyset(path: str | Path) -> list[Key]:
    """Read the private keys of a JWKS file written by ``generate_keyset``.

    Raises ``KeyFileError`` naming the file and the fix. Logs a warning
    when other users may read the file.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as error:
        command = GENERATE_COMMAND.format(path=path)
        raise KeyFileError(
            f"key file {path} not found; create it with `{command}`"
        ) from error
    except (OSError, UnicodeDecodeError) as error:
        raise KeyFileError(f"key file {path} cannot be read: {error}") from error

    _warn_if_readable_by_others(path)
    try:
        document = jose.loads_json(text)
    except ValueError as error:
        raise KeyFileError(f"key file {path} is not valid JSON: {error}") from error
    return _private_keys(document, path)


def _warn_if_readable_by_others(path: Path) -> None:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        logger.warning(
            "Key file %s has mode %o, so other users may read its private keys; "
            "run `chmod 600 %s`",
            path,
            mode,
            path,
        )


def _private_keys(document: object, path: Path) -> list[Key]:
    jwks = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(jwks, list) or not jwks:
        raise KeyFileError(
            f'key file {path} must be a JWKS: {{"keys": [<private JWK>, ...]}}'
        )

    keys = []
    for index, jwk in enumerate(jwks):
        try:
            key = jose.key_from_jwk(jwk, public_only=False)
        except ValueError as error:
            raise KeyFileError(f"key {index} in {path} is invalid: {error}") from error
        if not key.is_private:
            raise KeyFileError(
                f"key {index} in {path} has no private part 'd'; "
                "a key file needs private keys"
            )
        keys.append(key)
    return keys


def public_keyset(keys: list[Key]) -> dict:
    """Return the public JWKS ``{"keys": [...]}`` for ``keys``."""
    return {"keys": [jose.public_jwk(key) for key in keys]}


def main(argv: list[str] | None = None) -> int:
    """Run ``python -m stappen.keys generate|public PATH``."""
    parser = argparse.ArgumentParser(prog="python -m stappen.keys", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    generate = commands.add_parser("generate", help="write a new private JWKS file")
    generate.add_argument("path", type=Path, help="the key file to write")
    generate.add_argument("--alg", choices=jose.ALLOWED_ALGORITHMS, default="ES256")
    generate.add_argument(
        "--force", action="store_true", help="replace an existing file"
    )
    public = commands.add_parser("public", help="print the public JWKS of a key file")
    public.add_argument("path", type=Path, help="the key file to read")
    args = parser.parse_args(argv)

    try:
        if args.command == "generate":
            keys = generate_keyset(args.path, alg=args.alg, force=args.force)
        else:
            keys = load_keyset(args.path)
    except KeyFileError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1

    print(json.dumps(public_keyset(keys), indent=2))
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(message)s")
    sys.exit(main())
