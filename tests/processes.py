"""Run one function in several fresh processes at once, to test races."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

TIMEOUT_SECONDS = 60


def run_in_processes(function: Callable[..., Any], *args: Any, count: int) -> list:
    """Call ``function(barrier, *args)`` in ``count`` processes and return the results.

    The processes start with "spawn", so none inherits a database connection,
    and ``barrier.wait()`` lets them begin their race together. An exception
    in a process is raised here.
    """
    context = multiprocessing.get_context("spawn")
    with (
        context.Manager() as manager,
        ProcessPoolExecutor(count, mp_context=context) as pool,
    ):
        barrier = manager.Barrier(count)
        futures = [pool.submit(function, barrier, *args) for _ in range(count)]
        return [future.result(timeout=TIMEOUT_SECONDS) for future in futures]
