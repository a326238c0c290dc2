"""``python -m stappen.review verify FILE``: check an evidence export on its own.

Prints one line per check and exits with 0 when every check passed, 1 when
one failed, and 2 when the file cannot be read.
"""

from __future__ import annotations

import argparse
import re
import sys

from stappen import jose
from stappen.review.evidencecheck import check_document

CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m stappen.review",
        description="Check an application's evidence export without a database.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    verify = commands.add_parser("verify", help="check an evidence JSON file")
    verify.add_argument("file", help="the evidence.json file a consultant exported")
    arguments = parser.parse_args(argv)

    # Strict JSON: a document with a member twice could read one way here and
    # another way in a viewer that keeps the first value.
    try:
        with open(arguments.file, "rb") as handle:
            document = jose.loads_json(handle.read())
    except (OSError, ValueError) as error:
        print(f"cannot read {arguments.file}: {error}", file=sys.stderr)
        return 2

    lines = check_document(document)
    for line in lines:
        print(printable(line.text()))
    failed = sum(not line.passed for line in lines)
    print(f"{len(lines) - failed} of {len(lines)} checks passed")
    return 1 if failed else 0


def printable(text: str) -> str:
    """Escape the control characters and lone surrogates of a check's line.

    A hostile document can put them in the names and values that a line
    quotes, to forge terminal output or to make printing fail.
    """
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return CONTROL_CHARACTERS.sub(lambda match: repr(match.group())[1:-1], text)


if __name__ == "__main__":
    sys.exit(main())
