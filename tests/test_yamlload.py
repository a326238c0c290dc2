"""Tests for the strict YAML loader: data, positions, and every error message.

Messages that quote the parser's own text are checked with libyaml's wording,
which the loader uses when PyYAML was built with it. A table at the end
checks the same errors with PyYAML's pure Python parser.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import yaml

from stappen import yamlload
from stappen.errors import Problems
from stappen.yamlload import (
    MAX_EXPANDED_NODES,
    MAX_FILE_BYTES,
    Scalar,
    describe,
    load_yaml,
    read_text_strict,
)

FLOW = Path(__file__).parent / "data" / "yaml" / "flow.yaml"

needs_libyaml = pytest.mark.skipif(
    yamlload._LOADER is not getattr(yaml, "CSafeLoader", None),
    reason="the expected parser messages are libyaml's",
)

TAB_MESSAGE = (
    "this line is indented with a tab; YAML allows only spaces for "
    "indentation: replace the tab with spaces"
)
ALIAS_LIMIT_MESSAGE = (
    f"the aliases in this value expand to more than {MAX_EXPANDED_NODES} values, "
    "the limit for one file; each alias ('*name') copies the whole value of its "
    "anchor, so use fewer aliases or smaller anchors"
)
TAG_ADVICE = (
    "is not supported: only plain YAML values (texts, numbers, booleans, empty "
    "values, lists and mappings) can be used; remove the tag, or put the text in "
    "quotes if the '!' belongs to it"
)


@pytest.fixture
def load(tmp_path, monkeypatch):
    """Load YAML text from flow.yaml in a fresh working directory.

    Returns the document and the rendered problems, so messages read
    ``flow.yaml:LINE: ...``.
    """
    monkeypatch.chdir(tmp_path)

    def load_text(content: str | bytes):
        if isinstance(content, str):
            content = content.encode("utf-8")
        path = tmp_path / "flow.yaml"
        path.write_bytes(content)
        problems = Problems()
        document = load_yaml(path, problems)
        return document, [str(problem) for problem in problems]

    return load_text


@pytest.fixture
def pure_python(monkeypatch):
    """Make the loader use PyYAML's pure Python parser instead of libyaml."""
    monkeypatch.setattr(yamlload, "_LOADER", yaml.SafeLoader)


@pytest.fixture
def flow():
    problems = Problems()
    document = load_yaml(FLOW, problems)
    assert list(problems) == []
    return document


# Plain data.


def test_flow_data(flow):
    step = flow.data["steps"][2]
    assert flow.data["stappen"] == 1
    assert flow.data["titel"]["en"] == "Apply for a parking permit"
    assert step["soorten"] == ["auto", "motor", "bestelbus"]
    assert step["akkoord"] is True
    assert step["bevestigd"] == "yes"
    assert step["aantal"] == 3
    assert step["prijs"] == 12.5
    assert step["opmerking"] is None
    assert flow.data["steps"][0]["text"] == (
        "Met deze stappen vraagt u een vergunning aan.\nHet duurt ongeveer 5 minuten.\n"
    )


def test_date_stays_text(flow):
    assert flow.data["geldig_vanaf"] == "2026-01-01"


def test_time_stays_text(flow):
    assert flow.data["steps"][2]["open_vanaf"] == "08:30"


def test_document_path_and_text(flow):
    assert flow.path == FLOW
    assert flow.text == FLOW.read_text(encoding="utf-8")


def test_merge_key_values(flow):
    naam, kenteken = flow.data["steps"][1:3]
    assert naam["verplicht"] is True
    assert naam["hulp"] == "Vul in zoals op uw paspoort"
    assert kenteken["verplicht"] is False
    assert "<<" not in naam


def test_merge_list_first_wins(load):
    document, messages = load(
        "a: &a {x: 1}\nb: &b {x: 2, y: 2}\nc:\n  <<: [*a, *b]\n  z: 3\n"
    )
    assert messages == []
    assert document.data["c"] == {"x": 1, "y": 2, "z": 3}


def test_alias_values_not_shared(load):
    document, messages = load("a: &a [1, 2]\nb: *a\n")
    document.data["a"].append(3)
    assert messages == []
    assert document.data["b"] == [1, 2]


def test_explicit_core_tags(load):
    document, messages = load("a: !!str 12\nb: !!float 1\nc: !!int '7'\n")
    assert messages == []
    assert document.data == {"a": "12", "b": 1.0, "c": 7}


def test_date_key_is_text(load):
    document, messages = load("2026-01-01: nieuwjaar\n")
    assert messages == []
    assert document.data == {"2026-01-01": "nieuwjaar"}


def test_bom_accepted(load):
    document, messages = load(b"\xef\xbb\xbfa: 1\nb: 2\n")
    assert messages == []
    assert document.data == {"a": 1, "b": 2}
    assert document.line(("b",)) == 2


def test_crlf_lines(load):
    document, messages = load("a: 1\r\nb:\r\n  c: 2\r\n")
    assert messages == []
    assert document.line(("b", "c")) == 3


def test_tabs_inside_texts_accepted(load):
    document, messages = load('a: "x\ty"\nb: |\n  x\n  \ty\nc: "first\n\tsecond"\n')
    assert messages == []
    assert document.data["a"] == "x\ty"
    assert document.data["b"] == "x\n\ty\n"
    assert document.data["c"] == "first second"


# Positions.


def test_line_of_value(flow):
    assert flow.line(("steps", 2, "title", "nl")) == 25


def test_line_of_list_item(flow):
    assert flow.line(("steps", 1)) == 18


def test_line_of_flow_mapping_value(flow):
    assert flow.line(("steps", 1, "title", "en")) == 20


def test_line_of_nested_mapping(flow):
    assert flow.line(("titel",)) == 5


def test_line_of_block_text(flow):
    assert flow.line(("steps", 0, "text")) == 15


def test_line_of_empty_value(flow):
    assert flow.line(("steps", 2, "opmerking")) == 32


def test_line_of_missing_key(flow):
    assert flow.line(("steps", 2, "title", "en")) == 25


def test_line_of_missing_index(flow):
    assert flow.line(("steps", 7, "title")) == 12


def test_line_of_bool_index(flow):
    assert flow.line(("steps", True)) == 12


def test_line_of_top_level(flow):
    assert flow.line(()) == 2


def test_line_of_merged_value(flow):
    assert flow.line(("steps", 1, "hulp")) == 10


def test_line_of_alias_value(load):
    document, _messages = load("a: &a\n  x: 1\nb: *a\n")
    assert document.line(("b",)) == 1
    assert document.key_line(("b",)) == 3


def test_key_line(flow):
    assert flow.key_line(("titel",)) == 4
    assert flow.key_line(("steps", 0, "title")) == 13


def test_key_line_of_list_item(flow):
    assert flow.key_line(("steps", 2)) == 21


def test_key_line_of_missing_key(flow):
    assert flow.key_line(("steps", 0, "title", "en")) == 13


def test_scalar_plain_boolean(flow):
    scalar = flow.scalar(("steps", 2, "akkoord"))
    assert scalar == Scalar(text="yes", plain=True, tag="bool", line=28, column=14)


def test_scalar_quoted(flow):
    scalar = flow.scalar(("steps", 2, "bevestigd"))
    assert scalar == Scalar(text="yes", plain=False, tag="str", line=29, column=16)


def test_scalar_of_list(flow):
    assert flow.scalar(("steps",)) is None


def test_scalar_of_missing_path(flow):
    assert flow.scalar(("steps", 2, "onbekend")) is None


# describe().


def test_describe_unquoted_yes(flow):
    path = ("steps", 2, "akkoord")
    assert describe(flow, path, True) == (
        "yes (unquoted yes/no/on/off/true/false are read as a boolean in YAML; "
        'put the text in quotes: "yes")'
    )


def test_describe_true_word(load):
    document, _messages = load("a: True\n")
    assert describe(document, ("a",), True) == "True"


def test_describe_bool_without_document():
    assert describe(None, ("a",), False) == "false"


def test_describe_quoted_text(flow):
    assert describe(flow, ("steps", 2, "bevestigd"), "yes") == "'yes'"


def test_describe_long_text():
    text = "x" * 61
    assert describe(None, (), text) == repr("x" * 60 + "...")


def test_describe_text_of_60():
    text = "x" * 60
    assert describe(None, (), text) == repr(text)


def test_describe_number_as_written(load):
    document, _messages = load("versie: 1.10\n")
    assert describe(document, ("versie",), 1.1) == "1.10"


def test_describe_empty_value(flow):
    assert describe(flow, ("steps", 2, "opmerking"), None) == "an empty value"


def test_describe_null_word(load):
    document, _messages = load("a: ~\n")
    assert describe(document, ("a",), None) == "~ (an empty value in YAML)"


def test_describe_lists():
    assert describe(None, (), []) == "an empty list"
    assert describe(None, (), ["a"]) == "a list of 1 item"
    assert describe(None, (), ["a", "b", "c"]) == "a list of 3 items"


def test_describe_mappings():
    assert describe(None, (), {}) == "an empty mapping"
    assert describe(None, (), {"nl": 1}) == "a mapping with key nl"
    assert describe(None, (), {"a": 1, "b": 2}) == "a mapping with keys a, b"


def test_describe_many_keys():
    mapping = {key: 1 for key in "abcdefg"}
    assert describe(None, (), mapping) == (
        "a mapping with keys a, b, c, d, e and 2 more"
    )


# Encoding and characters.


def test_invalid_utf8(load):
    document, messages = load("a: 1\nb: 2\nc: caf\xe9\n".encode("latin-1"))
    assert document is None
    assert messages == [
        "flow.yaml:3: the file is not valid UTF-8: byte 0xE9 at column 7 cannot "
        "be decoded; save the file with UTF-8 encoding (a file saved as "
        "Windows-1252 or Latin-1 often shows this)"
    ]


def test_invalid_utf8_after_multibyte(load):
    _document, messages = load(b"a: \xc3\xa9\xff\n")
    assert messages == [
        "flow.yaml:1: the file is not valid UTF-8: byte 0xFF at column 5 cannot "
        "be decoded; save the file with UTF-8 encoding (a file saved as "
        "Windows-1252 or Latin-1 often shows this)"
    ]


def test_utf16_rejected(load):
    _document, messages = load("a: 1\n".encode("utf-16"))
    assert messages == [
        "flow.yaml:1: the file is saved as UTF-16; save it with UTF-8 encoding instead"
    ]


def test_control_characters(load):
    document, messages = load("a: b\x07c\nb: ok\nc: \x01\n")
    assert document is None
    assert messages == [
        "flow.yaml:1: the invisible control character U+0007 at column 5 is not "
        "allowed in YAML; delete it",
        "flow.yaml:3: the invisible control character U+0001 at column 4 is not "
        "allowed in YAML; delete it",
    ]


def test_control_character_limit(load):
    _document, messages = load("a: " + "\x02" * 25 + "\n")
    assert len(messages) == 21
    assert messages[0] == (
        "flow.yaml:1: 5 more control characters, from this line on, are not "
        "listed; delete all of them"
    )


# Tabs.


def test_tab_indentation(load):
    document, messages = load("a:\n\tb: 1\n")
    assert document is None
    assert messages == [f"flow.yaml:2: {TAB_MESSAGE}"]


def test_tab_after_spaces(load):
    _document, messages = load("a:\n  b: 1\n  \tc: 2\n")
    assert messages == [f"flow.yaml:3: {TAB_MESSAGE}"]


def test_several_tab_lines(load):
    _document, messages = load("a:\n\tb: 1\n\tc: 2\nd:\n\t- x\n")
    assert messages == [
        f"flow.yaml:2: {TAB_MESSAGE}",
        f"flow.yaml:3: {TAB_MESSAGE}",
        f"flow.yaml:5: {TAB_MESSAGE}",
    ]


def test_tab_after_list_dash(load):
    _document, messages = load("-\tb\n")
    assert messages == [
        "flow.yaml:1: a tab at column 2 cannot be used here; replace it with a space"
    ]


def test_tab_hides_later_errors(load):
    _document, messages = load("a:\n\tb: 1\nc: [1, 2\n")
    assert messages == [f"flow.yaml:2: {TAB_MESSAGE}"]


def test_tab_report_limit(load):
    _document, messages = load("a:\n" + "\tb: 1\n" * 25)
    assert len(messages) == 21
    assert messages[19] == (
        "flow.yaml:21: more lines after this one may also contain tabs; only the "
        "first 20 are listed: replace every tab with spaces"
    )


# Syntax errors.


@needs_libyaml
def test_colon_in_text(load):
    document, messages = load("id: stap\ntitle: Stap 1: aanvraag\n")
    assert document is None
    assert messages == [
        "flow.yaml:2: invalid YAML at column 14: a colon followed by a space "
        "starts a key where no key can start (parser message: mapping values are "
        "not allowed in this context); if the value is a text containing ': ', "
        "put the whole text in quotes; otherwise check the indentation of this "
        "line"
    ]


@needs_libyaml
def test_unclosed_quote(load):
    _document, messages = load('a: 1\nb: "abc\nc: 3\n')
    assert messages == [
        "flow.yaml:2: invalid YAML at column 4: the quoted text that starts here "
        "is never closed (parser message: found unexpected end of stream); add "
        "the closing quote"
    ]


@needs_libyaml
def test_unclosed_bracket(load):
    _document, messages = load("a: [1, 2\nb: 3\n")
    assert messages == [
        "flow.yaml:2: invalid YAML at column 2: the list that starts with '[' on "
        "line 1 is not closed or lacks a comma (parser message: did not find "
        "expected ',' or ']'); close the list with ']', separate its items with "
        "commas, and put items that contain ':' in quotes"
    ]


@needs_libyaml
def test_unclosed_brace(load):
    _document, messages = load("a: {x: 1\nb: 3\n")
    assert messages == [
        "flow.yaml:2: invalid YAML at column 2: the mapping that starts with '{' "
        "on line 1 is not closed or lacks a comma (parser message: did not find "
        "expected ',' or '}'); close the mapping with '}' and separate its "
        "entries with commas; a text inside it that contains ': ' or ',' needs "
        'quotes, as in {nl: "Let op: lees dit", en: "Note: read this"}'
    ]


@needs_libyaml
def test_bad_indentation(load):
    _document, messages = load("a:\n  b: 1\n c: 2\n")
    assert messages == [
        "flow.yaml:3: invalid YAML at column 2: a new key was expected here, in "
        "line with the keys of the mapping that starts on line 1 (parser message: "
        "did not find expected key); check the indentation of this line, and if "
        "a value starts with a quote, put the whole value in quotes"
    ]


@needs_libyaml
def test_text_after_quote(load):
    _document, messages = load('a: "x" y\n')
    assert messages == [
        "flow.yaml:1: invalid YAML at column 8: a new key was expected here, in "
        "line with the keys of the mapping that starts on line 1 (parser message: "
        "did not find expected key); check the indentation of this line, and if "
        "a value starts with a quote, put the whole value in quotes"
    ]


@needs_libyaml
def test_list_item_out_of_line(load):
    _document, messages = load("- a\nb: 1\n")
    assert messages == [
        "flow.yaml:2: invalid YAML at column 1: a new list item ('- ') was "
        "expected here, in line with the items of the list that starts on line 1 "
        "(parser message: did not find expected '-' indicator); check the "
        "indentation of this line"
    ]


@needs_libyaml
def test_list_after_key(load):
    _document, messages = load("a: - b\n")
    assert messages == [
        "flow.yaml:1: invalid YAML at column 4: a list item ('- ') cannot start "
        "here (parser message: block sequence entries are not allowed in this "
        "context); start the list on a new line below its key, indented, or put "
        "the text in quotes"
    ]


@needs_libyaml
def test_missing_colon(load):
    _document, messages = load("a: 1\nb\nc: 2\n")
    assert messages == [
        "flow.yaml:2: invalid YAML at column 1: this line has no ': ' after its "
        "key (parser message: could not find expected ':'); write 'key: value', "
        "or indent the line to continue the value above"
    ]


@needs_libyaml
def test_unknown_escape(load):
    _document, messages = load('a: "C:\\map"\n')
    assert messages == [
        "flow.yaml:1: invalid YAML at column 7: a backslash in a double-quoted "
        "text starts an unknown escape sequence (parser message: found unknown "
        "escape character); put the text in single quotes, or write each "
        "backslash as \\\\"
    ]


@needs_libyaml
def test_reserved_character(load):
    _document, messages = load("a: @gemeente\n")
    assert messages == [
        "flow.yaml:1: invalid YAML at column 4: the character '@' cannot start a "
        "value (parser message: found character that cannot start any token); "
        "put the text in quotes"
    ]


@needs_libyaml
def test_anchor_without_name(load):
    _document, messages = load("a: & b\n")
    assert messages == [
        "flow.yaml:1: invalid YAML at column 5: '&' starts an anchor name here, "
        "but no valid name follows (parser message: did not find expected "
        "alphabetic or numeric character); write an anchor as '&name', or put a "
        "text that starts with '&' in quotes"
    ]


@needs_libyaml
def test_content_after_document_end(load):
    _document, messages = load("a: 1\n...\nb: 2\n")
    assert messages == [
        "flow.yaml:3: invalid YAML at column 1: content follows the end of the "
        "document ('...') (parser message: did not find expected <document "
        "start>); remove the '...' line"
    ]


@needs_libyaml
def test_missing_value(load):
    _document, messages = load("a: [x,, y]\n")
    assert messages == [
        "flow.yaml:1: invalid YAML at column 7: a value was expected here, but "
        "',' cannot start one (parser message: did not find expected node "
        "content); remove the extra character, or put the text in quotes"
    ]


@needs_libyaml
def test_unexplained_syntax_error(load):
    _document, messages = load("%YAML 1.1\n%YAML 1.1\n---\na: 1\n")
    assert messages == [
        "flow.yaml:2: invalid YAML at column 1: the YAML syntax is invalid here "
        "(parser message: found duplicate %YAML directive)"
    ]


@needs_libyaml
def test_libyaml_nesting_limit(load):
    _document, messages = load("a: " + "[" * 2000 + "]" * 2000 + "\n")
    assert messages == [
        "flow.yaml:1: invalid YAML at column 1003: lists and mappings are nested "
        "too deeply here (parser message: exceeded maximum nesting depth); keep "
        "the nesting under 100 levels"
    ]


PURE_PYTHON_CASES = [
    (
        "title: Stap 1: aanvraag\n",
        "flow.yaml:1: invalid YAML at column 14: a colon followed by a space "
        "starts a key where no key can start (parser message: mapping values are "
        "not allowed here); if the value is a text containing ': ', put the "
        "whole text in quotes; otherwise check the indentation of this line",
    ),
    (
        "a: [1, 2\nb: 3\n",
        "flow.yaml:2: invalid YAML at column 2: the list that starts with '[' on "
        "line 1 is not closed or lacks a comma (parser message: expected ',' or "
        "']', but got ':'); close the list with ']', separate its items with "
        "commas, and put items that contain ':' in quotes",
    ),
    (
        "a:\n  b: 1\n c: 2\n",
        "flow.yaml:3: invalid YAML at column 2: a new key was expected here, in "
        "line with the keys of the mapping that starts on line 1 (parser message: "
        "expected <block end>, but found '<block mapping start>'); check the "
        "indentation of this line, and if a value starts with a quote, put the "
        "whole value in quotes",
    ),
    (
        "a: @x\n",
        "flow.yaml:1: invalid YAML at column 4: the character '@' cannot start a "
        "value (parser message: found character '@' that cannot start any "
        "token); put the text in quotes",
    ),
    (
        'a: "abc\nb: 1\n',
        "flow.yaml:1: invalid YAML at column 4: the quoted text that starts here "
        "is never closed (parser message: found unexpected end of stream); add "
        "the closing quote",
    ),
    ("a:\n\tb: 1\n", f"flow.yaml:2: {TAB_MESSAGE}"),
    (
        "a:\tb\n",
        "flow.yaml:1: a tab at column 3 cannot be used here; replace it with a space",
    ),
    (
        "a: 1\n---\nb: 2\n",
        "flow.yaml:2: a second YAML document starts here, but the file must "
        "contain exactly one: remove the '---' line or move the second document "
        "to a file of its own",
    ),
    (
        "a: &x 1\nb: &x 2\n",
        "flow.yaml:2: anchor '&x' is defined twice: first on line 1, again on "
        "line 2; give each anchor its own name",
    ),
    (
        "a: " + "[" * 2000 + "]" * 2000 + "\n",
        "flow.yaml: lists and mappings are nested more than 100 levels deep, the "
        "limit; flatten the structure",
    ),
]


@pytest.mark.parametrize(("text", "message"), PURE_PYTHON_CASES)
def test_pure_python_parser(load, pure_python, text, message):
    document, messages = load(text)
    assert document is None
    assert messages == [message]


# Document structure.


def test_empty_file(load):
    document, messages = load("")
    assert document is None
    assert messages == [
        "flow.yaml:1: the file is empty or contains only comments: expected a "
        "YAML mapping of 'key: value' lines"
    ]


def test_comments_only(load):
    _document, messages = load("# alleen commentaar\n\n   \n# nog meer\n")
    assert messages == [
        "flow.yaml:1: the file is empty or contains only comments: expected a "
        "YAML mapping of 'key: value' lines"
    ]


def test_second_document(load):
    document, messages = load("---\na: 1\n---\nb: 2\n")
    assert document is None
    assert messages == [
        "flow.yaml:3: a second YAML document starts here, but the file must "
        "contain exactly one: remove the '---' line or move the second document "
        "to a file of its own"
    ]


def test_top_level_list(load):
    document, messages = load("- a\n- b\n")
    assert document is None
    assert messages == [
        "flow.yaml:1: expected a YAML mapping of 'key: value' lines at the top "
        "level, got a list of 2 items"
    ]


def test_top_level_text(load):
    _document, messages = load("# kop\nhallo wereld\n")
    assert messages == [
        "flow.yaml:2: expected a YAML mapping of 'key: value' lines at the top "
        "level, got 'hallo wereld'"
    ]


def test_top_level_null(load):
    _document, messages = load("---\n~\n")
    assert messages == [
        "flow.yaml:2: expected a YAML mapping of 'key: value' lines at the top "
        "level, got ~ (an empty value in YAML)"
    ]


# Keys.


def test_duplicate_key(load):
    document, messages = load("id: a\ntitle: x\ntext: y\ntitle: z\n")
    assert document is None
    assert messages == [
        "flow.yaml:4: key 'title' appears twice: first on line 2, again on line "
        "4; remove one"
    ]


def test_duplicate_keys_at_depth(load):
    text = "steps:\n  - id: a\n    title:\n      nl: x\n      nl: y\n    id: b\n"
    _document, messages = load(text)
    assert messages == [
        "flow.yaml:5: key 'nl' appears twice: first on line 4, again on line 5; "
        "remove one",
        "flow.yaml:6: key 'id' appears twice: first on line 2, again on line 6; "
        "remove one",
    ]


def test_key_three_times(load):
    _document, messages = load("a: 1\nb: 2\na: 3\na: 4\n")
    assert messages == [
        "flow.yaml:3: key 'a' appears 3 times: on lines 1, 3 and 4; keep one"
    ]


def test_quoted_key_duplicates_plain(load):
    _document, messages = load("title: x\n'title': y\n")
    assert messages == [
        "flow.yaml:2: key 'title' appears twice: first on line 1, again on line "
        "2; remove one"
    ]


def test_same_key_in_sibling_mappings(load):
    _document, messages = load("a:\n  nl: x\nb:\n  nl: y\n")
    assert messages == []


def test_number_key(load):
    document, messages = load("1: een\n")
    assert document is None
    assert messages == [
        "flow.yaml:1: key 1 is read as a number, but keys must be texts; put it "
        'in quotes: "1":'
    ]


def test_boolean_key(load):
    _document, messages = load("yes: ja\n")
    assert messages == [
        "flow.yaml:1: key yes is read as a boolean (unquoted "
        "yes/no/on/off/true/false), but keys must be texts; put it in quotes: "
        '"yes":'
    ]


def test_null_key(load):
    _document, messages = load("~: leeg\n")
    assert messages == [
        "flow.yaml:1: key ~ is read as an empty value (null), but keys must be "
        'texts; put it in quotes: "~":'
    ]


def test_missing_key(load):
    _document, messages = load("a: 1\n? \n: 2\n")
    assert messages == [
        "flow.yaml:2: a key is missing before ':'; write a text key, such as 'title:'"
    ]


def test_list_as_key(load):
    _document, messages = load("? [a, b]\n: c\n")
    assert messages == [
        "flow.yaml:1: a key must be a text, got a list; write a plain text before ':'"
    ]


def test_merge_value_not_mapping(load):
    _document, messages = load("a:\n  <<: 5\n  b: 1\n")
    assert messages == [
        "flow.yaml:2: the merge key '<<' must be followed by an alias to a "
        "mapping, such as '<<: *defaults', or a list of such aliases; got a "
        "single value"
    ]


def test_quoted_merge_key_is_text(load):
    document, messages = load("'<<': x\n")
    assert messages == []
    assert document.data == {"<<": "x"}


# Tags.


def test_include_tag(load):
    document, messages = load("a: 1\nb: !include stap.yaml\n")
    assert document is None
    assert messages == [f"flow.yaml:2: tag !include {TAG_ADVICE}"]


def test_python_tag(load):
    _document, messages = load("a: !!python/object/apply:os.system [ls]\n")
    assert messages == [
        f"flow.yaml:1: tag !!python/object/apply:os.system {TAG_ADVICE}"
    ]


def test_binary_tag(load):
    _document, messages = load("a: !!binary aGFsbG8=\n")
    assert messages == [f"flow.yaml:1: tag !!binary {TAG_ADVICE}"]


def test_set_tag(load):
    _document, messages = load("a: !!set {x, y}\n")
    assert messages == [f"flow.yaml:1: tag !!set {TAG_ADVICE}"]


def test_tag_on_wrong_kind(load):
    _document, messages = load("a: !!map x\nb: !!str [1]\n")
    assert messages == [
        "flow.yaml:1: tag !!map cannot be used on a single value; remove the tag",
        "flow.yaml:2: tag !!str cannot be used on a list; remove the tag",
    ]


def test_tagged_value_does_not_fit(load):
    _document, messages = load("a: !!int abc\nb: !!bool misschien\n")
    assert messages == [
        "flow.yaml:1: value 'abc' is tagged !!int but is not a whole number; "
        "remove the tag or correct the value",
        "flow.yaml:2: value 'misschien' is tagged !!bool but is not true or "
        "false; remove the tag or correct the value",
    ]


# Anchors and aliases.


def test_undefined_alias(load):
    document, messages = load("a: 1\nb: *standaard\n")
    assert document is None
    assert messages == [
        "flow.yaml:2: alias '*standaard' refers to no anchor: define "
        "'&standaard' before this line, or correct the name"
    ]


def test_duplicate_anchor(load):
    _document, messages = load("a: &x 1\nb: &x 2\nc: *x\n")
    assert messages == [
        "flow.yaml:2: anchor '&x' is defined twice: first on line 1, again on "
        "line 2; give each anchor its own name"
    ]


def test_recursive_list_alias(load):
    document, messages = load("a: 1\nb: &r [1, *r]\n")
    assert document is None
    assert messages == [
        "flow.yaml:2: alias '*r' is used inside the value of its own anchor '&r' "
        "(line 2), so that value would contain itself forever; remove the alias "
        "or refer to another anchor"
    ]


def test_recursive_mapping_alias(load):
    _document, messages = load("a: &r\n  b:\n    c: *r\n")
    assert messages == [
        "flow.yaml:3: alias '*r' is used inside the value of its own anchor '&r' "
        "(line 1), so that value would contain itself forever; remove the alias "
        "or refer to another anchor"
    ]


def billion_laughs(levels: int) -> str:
    lines = ["l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for level in range(1, levels):
        aliases = ", ".join([f"*l{level - 1}"] * 10)
        lines.append(f"l{level}: &l{level} [{aliases}]")
    return "\n".join(lines) + "\n"


def test_billion_laughs(load, monkeypatch):
    visits = []
    record_node = yamlload._record_node

    def counting_record_node(node, *args):
        visits.append(node)
        record_node(node, *args)

    def fail_construct(*args):
        raise AssertionError("the loader built data for a rejected document")

    monkeypatch.setattr(yamlload, "_record_node", counting_record_node)
    monkeypatch.setattr(yamlload, "_construct", fail_construct)
    document, messages = load(billion_laughs(10))
    assert document is None
    assert messages == [f"flow.yaml:5: {ALIAS_LIMIT_MESSAGE}"]
    # Ten levels of ten lists: 10**10 values once expanded. The walk visits
    # each distinct node once: the top mapping, 10 keys, 10 lists and the 10
    # lol scalars. The 90 aliases refer to those lists and add no nodes.
    assert len(visits) == len({id(node) for node in visits})
    assert len(visits) == 31


def test_alias_limit_boundary(load, monkeypatch):
    monkeypatch.setattr(yamlload, "MAX_EXPANDED_NODES", 10)
    # 1 top mapping + 2 keys + 2 lists of 2 scalars = 9 values once expanded.
    document, messages = load("a: &a [x, y]\nb: *a\n")
    assert messages == []
    assert document.data == {"a": ["x", "y"], "b": ["x", "y"]}


def test_alias_limit_passed(load, monkeypatch):
    monkeypatch.setattr(yamlload, "MAX_EXPANDED_NODES", 10)
    _document, messages = load("a: &a [x, y, z]\nb: *a\n")
    assert messages == [
        "flow.yaml:1: the aliases in this value expand to more than 10 values, "
        "the limit for one file; each alias ('*name') copies the whole value of "
        "its anchor, so use fewer aliases or smaller anchors"
    ]


def test_too_many_values(load, monkeypatch):
    monkeypatch.setattr(yamlload, "MAX_EXPANDED_NODES", 10)
    _document, messages = load("".join(f"k{index}: v\n" for index in range(6)))
    assert messages == [
        "flow.yaml:1: the file contains more than 10 values, the limit for one "
        "file; split it into smaller files"
    ]


def test_nesting_limit(load):
    text = "".join(" " * (2 * level) + f"k{level}:\n" for level in range(120))
    document, messages = load(text)
    assert document is None
    assert messages == [
        "flow.yaml:101: lists and mappings are nested more than 100 levels deep, "
        "the limit; flatten the structure"
    ]


def test_nesting_at_limit(load):
    # The top mapping is level 1, so 99 nested lists reach level 100.
    document, messages = load("a: " + "[" * 99 + "]" * 99 + "\n")
    assert messages == []
    assert document is not None


# Files.


def test_file_too_large(load):
    document, messages = load(b"#" * (MAX_FILE_BYTES + 1))
    assert document is None
    assert messages == [
        "flow.yaml: the file is 2097153 bytes long, more than the limit of "
        "2097152 bytes (2 MiB); split it into smaller files"
    ]


def test_missing_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    problems = Problems()
    assert load_yaml(tmp_path / "weg.yaml", problems) is None
    assert [str(problem) for problem in problems] == [
        "weg.yaml: cannot read the file: No such file or directory; check that "
        "it exists and is readable"
    ]


def test_problems_added_to_existing(load, tmp_path):
    problems = Problems()
    problems.error("other.yaml", 4, "earlier problem")
    (tmp_path / "flow.yaml").write_text("a: 1\na: 2\n", encoding="utf-8")
    load_yaml(tmp_path / "flow.yaml", problems)
    assert len(problems.errors) == 2


def test_several_problems_in_one_file(load):
    text = (
        "id: aanvraag\n"
        "1: een\n"
        "titel: !include titel.yaml\n"
        "steps:\n"
        "  - id: a\n"
        "    id: b\n"
        "  - yes: ja\n"
        "id: dubbel\n"
    )
    document, messages = load(text)
    assert document is None
    assert messages == [
        "flow.yaml:2: key 1 is read as a number, but keys must be texts; put it "
        'in quotes: "1":',
        f"flow.yaml:3: tag !include {TAG_ADVICE}",
        "flow.yaml:6: key 'id' appears twice: first on line 5, again on line 6; "
        "remove one",
        "flow.yaml:7: key yes is read as a boolean (unquoted "
        "yes/no/on/off/true/false), but keys must be texts; put it in quotes: "
        '"yes":',
        "flow.yaml:8: key 'id' appears twice: first on line 1, again on line 8; "
        "remove one",
    ]


# read_text_strict().


def test_read_text(tmp_path):
    path = tmp_path / "uitleg.md"
    path.write_bytes(b"\xef\xbb\xbf# Uitleg\n\nCaf\xc3\xa9\n")
    problems = Problems()
    assert read_text_strict(path, problems) == "# Uitleg\n\nCafé\n"
    assert list(problems) == []


def test_read_text_invalid_utf8(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("uitleg.md").write_bytes(b"# Uitleg\n\nCaf\xe9\n")
    problems = Problems()
    assert read_text_strict("uitleg.md", problems) is None
    assert [str(problem) for problem in problems] == [
        "uitleg.md:3: the file is not valid UTF-8: byte 0xE9 at column 4 cannot "
        "be decoded; save the file with UTF-8 encoding (a file saved as "
        "Windows-1252 or Latin-1 often shows this)"
    ]


def test_read_text_missing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    problems = Problems()
    assert read_text_strict("weg.md", problems) is None
    assert len(problems.errors) == 1


# Random mutations.

FRAGMENTS = [
    ":", ": ", "-", "- ", " ", "  ", "\t", "\n", "'", '"', "[", "]", "{", "}",
    ",", "&a", "*a", "*vraag", "&vraag", "!", "!!int", "!!python/object", "#",
    "|", ">", "?", "%", "@", "`", "<<: ", "---", "...", "\\", "é", "\x00",
    "yes", "~", "1:", "\r\n",
]  # fmt: skip


def mutate(source: bytes, rng: random.Random) -> bytes:
    """Apply one to four random edits.

    An edit inserts a YAML fragment or a byte above 127, deletes up to eight
    bytes, or swaps two lines.
    """
    data = bytearray(source)
    for _edit in range(rng.randint(1, 4)):
        position = rng.randrange(len(data) + 1)
        choice = rng.random()
        if choice < 0.5:
            fragment = rng.choice(FRAGMENTS).encode("utf-8")
            data[position:position] = fragment
        elif choice < 0.75:
            del data[position : position + rng.randint(1, 8)]
        elif choice < 0.9:
            lines = bytes(data).split(b"\n")
            first, second = rng.randrange(len(lines)), rng.randrange(len(lines))
            lines[first], lines[second] = lines[second], lines[first]
            data = bytearray(b"\n".join(lines))
        else:
            data[position:position] = bytes([rng.randrange(128, 256)])
    return bytes(data)


@pytest.mark.parametrize("parser", ["libyaml", "pure python"])
def test_random_mutations(tmp_path, monkeypatch, parser):
    if parser == "pure python":
        monkeypatch.setattr(yamlload, "_LOADER", yaml.SafeLoader)
    rng = random.Random(20260101)
    source = FLOW.read_bytes()
    path = tmp_path / "flow.yaml"
    outcomes = {"loaded": 0, "rejected": 0}
    for _case in range(250):
        path.write_bytes(mutate(source, rng))
        problems = Problems()
        document = load_yaml(path, problems)
        if document is None:
            outcomes["rejected"] += 1
            assert problems.errors, path.read_bytes()
        else:
            outcomes["loaded"] += 1
            assert list(problems) == [], path.read_bytes()
            assert isinstance(document.data, dict)
        for problem in problems:
            assert problem.line is None or problem.line >= 1
    assert outcomes["loaded"] > 0
    assert outcomes["rejected"] > 0
