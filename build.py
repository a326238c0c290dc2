"""Validate, build, preview and test Stappen flows: ``python build.py --help``."""

import sys

from stappen.cli import main

if __name__ == "__main__":
    sys.exit(main())
