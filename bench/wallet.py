"""Benchmark: the wallet step's verification and status polling.

Run with ``.venv/bin/python bench/wallet.py``. It prints, measured in one
run:

- verifications per second of one SD-JWT VC presentation with five
  disclosures and a key binding JWT (``stappen.sdjwt.verify_presentation``,
  every check but the status list), beside the bare signature checks it
  contains: the issuer's JWS and the KB-JWT, verified with joserfc alone.
  Target: the full verification within 2x of the bare checks.
- status polls per second against ``GET /api/v1/wallet-sessions/{id}/status``
  under gunicorn with 2 workers and SQLite, beside ``GET /api/v1/health``, a
  bare Flask endpoint on the same server, with the same client. Sessions are
  polled in turn at about the pace of the citizens' pages. Target: the
  status endpoint at 90% of the bare one.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from joserfc import jws  # noqa: E402

from stappen import jose, sdjwt  # noqa: E402
from stappen.storage.polltimes import SINGLE_HOST_STATE_TTL_MS  # noqa: E402

ISSUER = "https://uitgifte.bench.example"
AUD = "x509_hash:bench"
NONCE = "n-0S6_WzA2Mj"


def make_presentation() -> tuple[str, dict, dict]:
    issuer_key = jose.generate_key()
    holder_key = jose.generate_key()
    now = int(time.time())
    claims = {
        "netto_per_maand": 1450.5,
        "alleenstaand": True,
        "kinderen_thuis": False,
        "woonplaats": "Utrecht",
        "vermogen": 2100,
    }
    issued = sdjwt.issue(
        issuer_key,
        issuer=ISSUER,
        vct="urn:stappen:bench",
        claims=claims,
        disclosable=set(claims),
        holder_jwk=jose.public_jwk(holder_key),
        iat=now,
        exp=now + 3600,
    )
    presentation = sdjwt.present(
        issued,
        disclose=set(claims),
        holder_key=holder_key,
        nonce=NONCE,
        aud=AUD,
        iat=now,
    )
    return presentation, jose.public_jwk(issuer_key), jose.public_jwk(holder_key)


def interleaved_rates(first, second, rounds: int = 20) -> tuple[float, float]:
    """Return the median rates of two actions measured in alternating rounds.

    Alternating short rounds expose both actions to the same load from
    other processes, so their ratio stays steady on a busy machine.
    """
    first_rates, second_rates = [], []
    for _ in range(rounds):
        first_rates.append(rate(first, seconds=0.2))
        second_rates.append(rate(second, seconds=0.2))
    return statistics.median(first_rates), statistics.median(second_rates)


def rate(action, seconds: float = 2.0) -> float:
    """Return how many times per second ``action`` runs, over ``seconds``."""
    count = 0
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        action()
        count += 1
    return count / (time.perf_counter() - started)


def bench_verification() -> None:
    presentation, issuer_jwk, holder_jwk = make_presentation()
    trusted = sdjwt.TrustedIssuers({ISSUER: [issuer_jwk]})
    parts = presentation.split("~")
    issuer_jwt, kb_jwt = parts[0], parts[-1]
    issuer_key = jose.key_from_jwk(issuer_jwk)
    holder_key = jose.key_from_jwk(holder_jwk)

    def full():
        sdjwt.verify_presentation(
            presentation, trusted=trusted, nonce=NONCE, aud=AUD, now=int(time.time())
        )

    def bare():
        jws.deserialize_compact(issuer_jwt, issuer_key, algorithms=["ES256"])
        jws.deserialize_compact(kb_jwt, holder_key, algorithms=["ES256"])

    full()
    full_rate, bare_rate = interleaved_rates(full, bare)
    print(
        f"verification   full {full_rate:8.0f}/s   bare signatures "
        f"{bare_rate:8.0f}/s   full takes {bare_rate / full_rate:4.2f}x"
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(port: int, path: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", path)
    status = connection.getresponse().status
    connection.close()
    return status


def _post(port: int, path: str, body: dict) -> dict:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    data = json.dumps(body)
    connection.request("POST", path, data, {"Content-Type": "application/json"})
    reply = json.loads(connection.getresponse().read())
    connection.close()
    return reply


def _load(
    port: int, paths: list[str], seconds: float, threads: int = 8
) -> tuple[float, float]:
    """Send GETs from ``threads`` clients for ``seconds``, taking ``paths`` in turn.

    Returns the requests per second and the share of them rejected with 429.
    """
    counts = [0] * threads
    rejected = [0] * threads
    deadline = time.perf_counter() + seconds

    def client(index: int) -> None:
        position = index
        while time.perf_counter() < deadline:
            status = _get(port, paths[position % len(paths)])
            position += threads
            counts[index] += 1
            rejected[index] += status == 429

    workers = [threading.Thread(target=client, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sum(counts) / seconds, sum(rejected) / max(1, sum(counts))


def _alternating_load(
    port: int, status_paths: list[str], length: float, round_seconds: float
) -> tuple[float, float, float]:
    """Poll statuses for ``length`` seconds in rounds, each after a round of health.

    Returns the rates of the bare endpoint and of the polls, and the share
    of polls rejected with 429. Alternating rounds expose both endpoints to
    the same load from other processes.
    """
    bare_rates, poll_rates, rejected_shares = [], [], []
    for _ in range(max(1, round(length / round_seconds))):
        bare_rates.append(_load(port, ["/api/v1/health"], round_seconds)[0])
        polls, rejected = _load(port, status_paths, round_seconds)
        poll_rates.append(polls)
        rejected_shares.append(rejected)
    return (
        statistics.mean(bare_rates),
        statistics.mean(poll_rates),
        statistics.mean(rejected_shares),
    )


def _start_gunicorn(folder: Path, port: int) -> subprocess.Popen:
    environment = {
        **os.environ,
        "STAPPEN_STEPS_DIR": str(PROJECT / "steps"),
        "STAPPEN_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "STAPPEN_KEYS_DIR": str(folder / "keys"),
        "STAPPEN_DATABASE_URL": f"sqlite:///{folder / 'bench.sqlite3'}",
    }
    flask = [sys.executable, "-m", "flask", "--app", "app"]
    for command in (["keys", "generate"], ["init-db"]):
        subprocess.run(
            flask + command,
            cwd=PROJECT,
            env=environment,
            check=True,
            capture_output=True,
        )
    gunicorn = [
        sys.executable,
        "-m",
        "gunicorn",
        "--workers",
        "2",
        "--bind",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        "app:app",
    ]
    server = subprocess.Popen(gunicorn, cwd=PROJECT, env=environment)
    for _ in range(100):
        try:
            if _get(port, "/api/v1/health") == 200:
                return server
        except OSError:
            time.sleep(0.1)
    server.terminate()
    raise RuntimeError("gunicorn did not start")


def bench_polling(sessions: int, seconds: float) -> None:
    with tempfile.TemporaryDirectory() as folder:
        port = _free_port()
        server = _start_gunicorn(Path(folder), port)
        try:
            ids = [
                _post(
                    port,
                    "/api/v1/wallet-sessions",
                    {"flow": "vil", "step": "gegevens-delen"},
                )["transaction_id"]
                for _ in range(sessions)
            ]
            status_paths = [f"/api/v1/wallet-sessions/{i}/status" for i in ids]
            bare, _ = _load(port, ["/api/v1/health"], seconds)
            # Pages poll every second while the citizen scans the code. Each
            # session is polled once, then in turn for long enough that the
            # API refreshes its copies of the states as it does for real
            # pages. With enough sessions, polls of one session come more
            # than a second apart, so the API serves them instead of rejecting them.
            _load(port, status_paths, sessions / bare)
            length = max(seconds, 2 * SINGLE_HOST_STATE_TTL_MS / 1000)
            bare, polls, rejected = _alternating_load(
                port, status_paths, length, seconds
            )
        finally:
            server.terminate()
            server.wait(timeout=10)
    print(
        f"status polls   {polls:8.0f}/s   bare Flask endpoint {bare:8.0f}/s   "
        f"polls at {polls / bare:4.0%} of bare ({rejected:.1%} rejected with 429)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sessions",
        type=int,
        default=5000,
        help="sessions polled in turn (default: 5000)",
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=3.0,
        help="length of each load run in seconds (default: 3)",
    )
    args = parser.parse_args()
    bench_verification()
    bench_polling(args.sessions, args.seconds)


if __name__ == "__main__":
    main()
