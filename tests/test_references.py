"""Application references: their form and how typed ones are read."""

from __future__ import annotations

import re

import pytest

from stappen.references import new_reference, normalize_reference

FORM = re.compile(r"VIL-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}")


def test_new_reference_form():
    references = {new_reference("VIL") for _ in range(200)}

    assert all(FORM.fullmatch(reference) for reference in references)
    assert len(references) == 200


@pytest.mark.parametrize(
    "typed",
    [
        "VIL-7K3M-Q9TX",
        "vil-7k3m-q9tx",
        "VIL 7K3M Q9TX",
        "VIL7K3MQ9TX",
        " vil-7k3mq9tx ",
    ],
)
def test_typed_forms_read(typed):
    assert normalize_reference(typed) == "VIL-7K3M-Q9TX"


def test_look_alike_characters_read():
    assert normalize_reference("VIL-7K3O-IL0X") == "VIL-7K30-110X"


def test_prefix_keeps_its_letters():
    assert normalize_reference("VOLI-7K3M-Q9TX") == "VOLI-7K3M-Q9TX"


def test_short_text_not_formatted():
    assert normalize_reference("vil-7k") == "VIL7K"
