"""``python -m stappen.review verify FILE``: check an evidence export on its own.

Prints one line per check and exits with 0 when every check passed, 1 when
one failed, and 2 when the file cannot be read.
"""

from __future__ import annotations

import argparse
import json
import sys

from stappen.review.evidencecheck import check_document


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m stappen.review",
        description="Check an application's evidence export without a database.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    verify = commands.add_parser("verify", help="check an evidence JSON file")
    verify.add_argument("file", help="the evidence.json file a consultant exported")
    arguments = parser.parse_args(argv)

    try:
        with open(arguments.file, encoding="utf-8") as handle:
            document = json.load(handle)
    except (OSError, ValueError) as error:
        print(f"cannot read {arguments.file}: {error}", file=sys.stderr)
        return 2

    lines = check_document(document)
    for line in lines:
        print(line.text())
    failed = sum(not line.passed for line in lines)
    print(f"{len(lines) - failed} of {len(lines)} checks passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
