"""The built site works under a sub-path: every local link resolves."""

from __future__ import annotations

import urllib.parse

from tests.sitecrawl import _Links, crawl, fetch, serve_site

PREFIX = "/proef/portaal/"


def test_every_link_resolves_under_subpath(built_fixture_site):
    with serve_site(built_fixture_site, PREFIX) as base:
        seen, problems = crawl(base, base + PREFIX)
    assert problems == []
    assert len(seen) > 20


def test_links_stay_under_subpath(built_fixture_site):
    with serve_site(built_fixture_site, PREFIX) as base:
        seen, _ = crawl(base, base + PREFIX)
    outside = [
        url for url in seen if not urllib.parse.urlsplit(url).path.startswith(PREFIX)
    ]
    assert outside == []


def test_every_step_page_reached(built_fixture_site):
    with serve_site(built_fixture_site, PREFIX) as base:
        seen, _ = crawl(base, base + PREFIX)
    for lang in ("nl", "en"):
        for step in ("welkom", "woonplaats", "inkomen", "geen-recht"):
            assert f"{base}{PREFIX}{lang}/demo/{step}/" in seen


def test_not_found_page_links_from_deep_path(built_fixture_site):
    with serve_site(built_fixture_site, PREFIX) as base:
        missing = f"{base}{PREFIX}nl/demo/bestaat/niet/"
        status, _, body = fetch(missing)
        parser = _Links()
        parser.feed(body.decode("utf-8"))
        targets = [urllib.parse.urljoin(missing, link) for link in parser.links]
        statuses = {target: fetch(target)[0] for target in targets}
    assert status == 404
    assert targets
    assert all(code == 200 for code in statuses.values()), statuses
