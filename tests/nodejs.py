"""Run JavaScript from pytest, so that one pytest run tests both implementations."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent
NODE_MODULES = PROJECT / "node_modules"

# Generous for a few hundred small tests on a slow machine, because node needs
# under a second for the tables here.
TIMEOUT_SECONDS = 120


def node_or_skip() -> str:
    """Return the path of node, or skip the test when Node.js is not installed."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed. Install Node.js 20 or later.")
    return node


def require_packages(*packages: str) -> None:
    """Skip the test unless the npm packages are installed in node_modules."""
    missing = [
        package
        for package in packages
        if not (NODE_MODULES / package / "package.json").is_file()
    ]
    if missing:
        pytest.skip(
            f"node_modules has no {', '.join(missing)}. Run `npm ci` in {PROJECT} "
            f"to install the npm packages."
        )


def run_node_tests(test_file: Path) -> int:
    """Run a node:test file and return how many tests passed.

    Fails the calling pytest test with node's output when node reports a
    failure or exits with an error.
    """
    node = node_or_skip()
    command = [node, "--test", "--test-reporter=tap", str(test_file)]
    result = subprocess.run(
        command,
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )

    output = result.stdout + result.stderr
    if result.returncode != 0:
        pytest.fail(
            f"node --test {test_file.relative_to(PROJECT)} exited with status "
            f"{result.returncode}:\n{output}",
            pytrace=False,
        )

    passed = re.search(r"^# pass (\d+)$", result.stdout, re.MULTILINE)
    if passed is None:
        pytest.fail(f"node's output has no '# pass' count:\n{output}", pytrace=False)
    return int(passed.group(1))


def run_node_script(source: str, stdin: str) -> str:
    """Run an ES module source text with node and return what it writes to stdout."""
    node = node_or_skip()
    result = subprocess.run(
        [node, "--input-type=module", "--eval", source],
        cwd=PROJECT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )

    if result.returncode != 0:
        pytest.fail(
            f"node exited with status {result.returncode}:\n{result.stderr}",
            pytrace=False,
        )
    return result.stdout
