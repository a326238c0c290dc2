"""Freeze the site app into files with Frozen-Flask.

Frozen-Flask writes a file only when its bytes change and removes files
that no URL produced. Every URL is registered explicitly: the pages link
to each other with hand-written relative hrefs, which Frozen-Flask's
``url_for`` discovery never sees.

Large sites are frozen by several forked processes, each taking a share
of the URLs; the parent then runs Frozen-Flask once over all URLs with
``last_modified`` set to the oldest possible time, so that it skips the
files the workers wrote and removes the stale ones.
"""

from __future__ import annotations

import datetime
import logging
import multiprocessing
import os
import warnings
from pathlib import Path

from flask_frozen import Freezer, MimetypeMismatchWarning, MissingURLGeneratorWarning

from stappen.site import SiteContent, create_site_app

log = logging.getLogger(__name__)

PARALLEL_THRESHOLD = 400
"""Fewer URLs than this are frozen in one process: forking costs more."""

_worker_content: SiteContent | None = None


def freeze(content: SiteContent, destination: Path, *, workers: int | None = None):
    """Write the site into ``destination``; return the number of files."""
    paths = content.paths()
    workers = _worker_count(len(paths), workers)
    last_modified = None
    if workers > 1:
        _freeze_in_workers(content, destination, paths, workers)
        last_modified = datetime.datetime.min
    entries = [_entry(path, last_modified) for path in paths]
    return _freeze_urls(content, destination, entries, remove_extra=True)


def freeze_paths(content: SiteContent, destination: Path, paths: list[str]) -> int:
    """Write only the files at ``paths``; the rest of the site stays."""
    entries = [_entry(path) for path in paths]
    return _freeze_urls(content, destination, entries, remove_extra=False)


def _entry(path: str, last_modified: datetime.datetime | None = None) -> tuple:
    """Return a URL generator entry: Frozen-Flask skips the request when the
    file exists and is newer than ``last_modified``."""
    return ("serve", {"path": path}, last_modified)


def _worker_count(url_count: int, requested: int | None) -> int:
    if requested is not None:
        return max(1, requested)
    if url_count < PARALLEL_THRESHOLD or not hasattr(os, "fork"):
        return 1
    return max(1, min(os.cpu_count() or 1, 8))


def _freeze_urls(content, destination: Path, entries, *, remove_extra: bool) -> int:
    app = create_site_app(content)
    app.config.update(
        FREEZER_DESTINATION=str(destination.resolve()),
        FREEZER_REMOVE_EXTRA_FILES=remove_extra,
        FREEZER_IGNORE_404_NOT_FOUND=False,
        FREEZER_DEFAULT_MIMETYPE="application/octet-stream",
    )
    freezer = Freezer(
        app, with_static_files=False, with_no_argument_rules=False, log_url_for=False
    )
    freezer.register_generator(lambda: iter(entries))
    with warnings.catch_warnings():
        warnings.simplefilter("error", MimetypeMismatchWarning)
        # Freezing a few changed paths leaves out the others on purpose.
        warnings.simplefilter("ignore", MissingURLGeneratorWarning)
        written = freezer.freeze()
    return len(written)


def _freeze_in_workers(content, destination: Path, paths: list[str], workers: int):
    global _worker_content
    _worker_content = content
    content.renderer.compile_templates()
    shares = [(destination, paths[index::workers]) for index in range(workers)]
    context = multiprocessing.get_context("fork")
    try:
        with context.Pool(workers) as pool:
            pool.starmap(_freeze_share, shares)
    finally:
        _worker_content = None


def _freeze_share(destination: Path, paths: list[str]) -> None:
    entries = [_entry(path) for path in paths]
    _freeze_urls(_worker_content, destination, entries, remove_extra=False)
