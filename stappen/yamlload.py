"""Strict YAML loading for files that authors write by hand, with line numbers.

``load_yaml`` reads one YAML file into plain Python values and keeps the
composed node graph, so that later checks can say on which line a value
is. Every problem goes into a ``Problems`` collection as a message that
names the value and the fix. Nothing is raised for a mistake in the file.

The rules, beyond what PyYAML's ``SafeLoader`` enforces:

- The file is UTF-8, with or without a byte order mark, at most
  ``MAX_FILE_BYTES`` long, and free of the control characters YAML forbids.
- Indentation uses spaces. Tabs inside quoted texts and block texts are fine.
- The file holds exactly one YAML document, and its top level is a mapping.
- Every key is a text, and no mapping repeats a key.
- Only the tags of the YAML core schema are accepted (``!!str``, ``!!int``,
  ``!!float``, ``!!bool``, ``!!null``, ``!!seq``, ``!!map``). Any other tag,
  such as ``!include`` or ``!!python/object``, is an error.
- Dates such as ``2026-01-01`` and times such as ``12:30`` stay texts, as
  written. PyYAML would turn them into ``datetime.date`` objects and into
  base-60 integers (``12:30`` would become ``750``).
- Anchors and aliases are allowed. An alias is copied into ``data`` at each
  place it is used, so the values never share objects. The document may hold
  at most ``MAX_EXPANDED_NODES`` values once every alias is expanded, and
  lists and mappings may nest at most ``MAX_NESTING_DEPTH`` levels. Both are
  counted on the composed graph, once per distinct node, so a "billion
  laughs" file is rejected without being expanded. An alias inside its own
  anchor's value is an error.
- Merge keys (``<<: *defaults``) work as in PyYAML: the keys of the merged
  mapping come first, keys written in the mapping itself override them, and
  in ``<<: [*a, *b]`` the keys of ``*a`` win over those of ``*b``.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from pathlib import Path

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from stappen.errors import Problems

logger = logging.getLogger(__name__)

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_EXPANDED_NODES = 100_000
MAX_NESTING_DEPTH = 100
MAX_REPORTS_PER_KIND = 20
"""Maximum number of control characters or tab lines reported for one file."""

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_BOM = b"\xef\xbb\xbf"
_CORE_TAG = "tag:yaml.org,2002:"
_SCALAR_TAGS = {"str", "int", "float", "bool", "null", "timestamp", "merge"}
_KEY_TAGS = {"str", "timestamp"}
_YAML_BOOLEAN_WORDS = {"yes", "no", "on", "off"}

# YAML 1.1 allows tab, line breaks, NEL and printable Unicode. PyYAML rejects
# everything else, including DEL and the other C0 and C1 control characters.
_FORBIDDEN_CHARACTER = re.compile(
    "[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)
_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")
_ANCHOR_NAME = re.compile(r"[&*]([^\s,\[\]{}]+)")

_constructor = SafeConstructor()


@dataclasses.dataclass(frozen=True)
class Scalar:
    """A scalar value as written in the file. Lines and columns count from 1."""

    text: str
    """The value's characters, with quotes removed and escapes resolved."""
    plain: bool
    """True when the value was written without quotes or a block indicator."""
    tag: str
    """The resolved type: str, int, float, bool, null, timestamp or merge."""
    line: int
    column: int


class YamlDocument:
    """A loaded YAML file: its plain data and the position of each value."""

    def __init__(self, path: Path, text: str, root: MappingNode, entries: dict):
        self.path = path
        self.text = text
        self._root = root
        self._entries = entries
        self.data: dict = _construct(root, entries)

    def line(self, path: tuple) -> int:
        """Return the 1-based line of the value at ``path``.

        For a path that does not exist, this is the line of its nearest
        existing ancestor. A value reached through an alias or a merge key is
        placed where the original is written: a whole aliased value on the
        line of its anchor (``&name``).
        """
        _key_node, value_node = self._locate(path)[-1]
        return value_node.start_mark.line + 1

    def key_line(self, path: tuple) -> int:
        """Return the line of the mapping key that leads to ``path``.

        For a list item or the top level, this is the line of the value.
        """
        key_node, value_node = self._locate(path)[-1]
        node = key_node if key_node is not None else value_node
        return node.start_mark.line + 1

    def scalar(self, path: tuple) -> Scalar | None:
        """Return the scalar at ``path`` as written, or None if there is none."""
        steps = self._locate(path)
        if len(steps) != len(path) + 1:
            return None
        node = steps[-1][1]
        if not isinstance(node, ScalarNode):
            return None
        return _scalar_of(node)

    def _locate(self, path: tuple) -> list[tuple[Node | None, Node]]:
        """Follow ``path`` as far as it exists: (key node, value node) per step."""
        steps: list[tuple[Node | None, Node]] = [(None, self._root)]
        for element in path:
            step = _child_step(steps[-1][1], element, self._entries)
            if step is None:
                break
            steps.append(step)
        return steps


def load_yaml(path, problems: Problems) -> YamlDocument | None:
    """Load a YAML file whose top level is a mapping.

    Returns None when the file cannot be used. Then ``problems`` contains at
    least one error that explains why.
    """
    path = Path(path)
    found = Problems()
    document = _load(path, found)
    problems.extend(found)
    logger.debug("loaded %s with %d problems", path, len(found))
    if found.errors:
        return None
    return document


def read_text_strict(path, problems: Problems) -> str | None:
    """Read a UTF-8 text file, such as Markdown, reporting why it cannot be used.

    A byte order mark is removed. Returns None after adding an error when the
    file is missing, larger than ``MAX_FILE_BYTES`` or not valid UTF-8.
    """
    path = Path(path)
    raw = _read_bytes(path, problems)
    if raw is None:
        return None
    return _decode(path, raw, problems)


def describe(document: YamlDocument | None, path: tuple, value) -> str:
    """Render ``value``, found at ``path``, for a message "expected ..., got ...".

    An unquoted yes/no/on/off shows the word as written and how to keep it a
    text. Texts are quoted and cut at 60 characters. Lists and mappings are
    summarised by size and keys.
    """
    scalar = document.scalar(path) if document is not None else None
    return _describe_value(value, scalar)


def _describe_value(value, scalar: Scalar | None) -> str:
    if isinstance(value, bool):
        return _describe_boolean(value, scalar)
    if value is None:
        return _describe_null(scalar)
    if isinstance(value, (int, float)):
        return _describe_number(value, scalar)
    if isinstance(value, str):
        return _describe_text(value)
    if isinstance(value, list):
        return _describe_list(value)
    if isinstance(value, dict):
        return _describe_mapping(value)
    return repr(value)


# Loading, stage by stage.


def _load(path: Path, problems: Problems) -> YamlDocument | None:
    raw = _read_bytes(path, problems)
    if raw is None:
        return None
    text = _decode(path, raw, problems)
    if text is None or not _check_characters(path, text, problems):
        return None

    root = _compose(path, text, problems)
    if root is None:
        return None

    _check_size(path, text, root, problems)
    _check_nodes(path, root, problems)
    if not isinstance(root, MappingNode):
        _report_top_level(path, root, problems)
    if problems.errors:
        return None
    return YamlDocument(path, text, root, {})


def _read_bytes(path: Path, problems: Problems) -> bytes | None:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            problems.error(path, None, _too_large_message(size))
            return None
        return path.read_bytes()
    except OSError as error:
        reason = error.strerror or str(error)
        problems.error(
            path,
            None,
            f"cannot read the file: {reason}; check that it exists and is readable",
        )
        return None


def _too_large_message(size: int) -> str:
    return (
        f"the file is {size} bytes long, more than the limit of "
        f"{MAX_FILE_BYTES} bytes (2 MiB); split it into smaller files"
    )


def _decode(path: Path, raw: bytes, problems: Problems) -> str | None:
    if raw.startswith(_BOM):
        raw = raw[len(_BOM) :]
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        problems.error(
            path,
            1,
            "the file is saved as UTF-16; save it with UTF-8 encoding instead",
        )
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line, column = _position_of_byte(raw, error.start)
        problems.error(
            path,
            line,
            f"the file is not valid UTF-8: byte 0x{raw[error.start]:02X} at "
            f"column {column} cannot be decoded; save the file with UTF-8 "
            "encoding (a file saved as Windows-1252 or Latin-1 often shows this)",
        )
        return None


def _position_of_byte(raw: bytes, offset: int) -> tuple[int, int]:
    """Return the 1-based line and character column of the byte at ``offset``."""
    before = raw[:offset].decode("utf-8")
    return _position_of_character(before, len(before))


def _check_characters(path: Path, text: str, problems: Problems) -> bool:
    """Report the control characters that YAML does not allow, if any."""
    matches = list(_FORBIDDEN_CHARACTER.finditer(text))
    for match in matches[:MAX_REPORTS_PER_KIND]:
        line, column = _position_of_character(text, match.start())
        problems.error(
            path,
            line,
            f"the invisible control character U+{ord(match.group()):04X} at "
            f"column {column} is not allowed in YAML; delete it",
        )
    if len(matches) > MAX_REPORTS_PER_KIND:
        first_unlisted = matches[MAX_REPORTS_PER_KIND].start()
        line, _column = _position_of_character(text, first_unlisted)
        problems.error(
            path,
            line,
            f"{len(matches) - MAX_REPORTS_PER_KIND} more control characters, "
            "from this line on, are not listed; delete all of them",
        )
    return not matches


def _position_of_character(text: str, index: int) -> tuple[int, int]:
    """Return the 1-based line and column of ``text[index]``."""
    line = 1
    line_start = 0
    for match in _LINE_BREAK.finditer(text, 0, index):
        line += 1
        line_start = match.end()
    return line, index - line_start + 1


# Composing the node graph, and reporting syntax errors.


def _compose(path: Path, text: str, problems: Problems) -> Node | None:
    """Compose the single document of ``text``, or report why it fails.

    A tab in the indentation is reported, replaced by spaces, and the text is
    composed again to find the next such line. After the first tab, only
    further tabs are reported, because the tab width the author meant is
    unknown and a later error could come from guessing it wrong.
    """
    tab_lines: list[int] = []
    while True:
        try:
            root = _compose_once(text)
            break
        except yaml.MarkedYAMLError as error:
            tab = _tab_at(text, error.problem_mark)
            if tab is None:
                if not tab_lines:
                    _report_parse_error(path, text, error, problems)
                return None
            _report_tab(path, text, tab, problems)
            tab_lines.append(tab[0])
            if len(tab_lines) == MAX_REPORTS_PER_KIND:
                _report_more_tabs(path, tab[0], problems)
                return None
            text = _replace_tabs(text, tab)
        except yaml.YAMLError as error:
            # Not expected: the characters PyYAML's reader rejects were
            # reported before parsing, and other errors carry a mark.
            problems.error(path, None, f"the YAML parser failed: {error}")
            return None
        except RecursionError:
            _report_too_deep(path, None, problems)
            return None

    if tab_lines:
        return None
    if root is None:
        problems.error(
            path,
            1,
            "the file is empty or contains only comments: "
            "expected a YAML mapping of 'key: value' lines",
        )
    return root


def _source_lines(text: str, keepends: bool = False) -> list[str]:
    """Split the text where YAML breaks lines.

    str.splitlines also breaks at a few control characters, but those were
    rejected before parsing, so the two agree on every line number.
    """
    return text.splitlines(keepends)


def _compose_once(text: str) -> Node | None:
    loader = _LOADER(text)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


def _tab_at(text: str, mark) -> tuple[int, int] | None:
    """Return the 0-based line and column of the tab at ``mark``, if one is there.

    libyaml's message does not name the character, so the text is checked.
    """
    if mark is None:
        return None
    lines = _source_lines(text)
    if mark.line >= len(lines):
        return None
    line = lines[mark.line]
    if line[mark.column : mark.column + 1] != "\t":
        return None
    return mark.line, mark.column


def _report_tab(path: Path, text: str, tab: tuple[int, int], problems) -> None:
    line_number, column = tab
    line = _source_lines(text)[line_number]
    if line[:column].strip(" \t") == "":
        message = (
            "this line is indented with a tab; YAML allows only spaces for "
            "indentation: replace the tab with spaces"
        )
    else:
        message = (
            f"a tab at column {column + 1} cannot be used here; replace it with a space"
        )
    problems.error(path, line_number + 1, message)


def _report_more_tabs(path: Path, line: int, problems: Problems) -> None:
    problems.error(
        path,
        line + 1,
        f"more lines after this one may also contain tabs; only the first "
        f"{MAX_REPORTS_PER_KIND} are listed: replace every tab with spaces",
    )


def _replace_tabs(text: str, tab: tuple[int, int]) -> str:
    """Replace the tabs in the indentation of the tab's line by two spaces each.

    A tab after the indentation becomes one space.
    """
    line_number, column = tab
    lines = _source_lines(text, keepends=True)
    line = lines[line_number]
    indentation = len(line) - len(line.lstrip(" \t"))
    if column < indentation:
        line = line[:indentation].replace("\t", "  ") + line[indentation:]
    else:
        line = line[:column] + " " + line[column + 1 :]
    lines[line_number] = line
    return "".join(lines)


def _report_parse_error(path: Path, text: str, error, problems) -> None:
    if isinstance(error, yaml.composer.ComposerError):
        _report_composer_error(path, text, error, problems)
    else:
        _report_syntax_error(path, text, error, problems)


@dataclasses.dataclass(frozen=True)
class _SyntaxRule:
    """A plain explanation for one kind of PyYAML or libyaml syntax error."""

    problem: str
    """Words that the parser's problem text contains, lowercase."""
    context: str
    """Words that the parser's context text contains, lowercase."""
    explanation: str
    hint: str
    at_context: bool = False
    """Report the line where the construct began, not where parsing stopped."""


# The problem texts differ between libyaml (CSafeLoader) and the pure Python
# parser, so each rule matches words that both share.
_SYNTAX_RULES = (
    _SyntaxRule(
        "mapping values are not allowed",
        "",
        "a colon followed by a space starts a key where no key can start",
        "if the value is a text containing ': ', put the whole text in "
        "quotes; otherwise check the indentation of this line",
    ),
    _SyntaxRule(
        "entries are not allowed",
        "",
        "a list item ('- ') cannot start here",
        "start the list on a new line below its key, indented, or put the "
        "text in quotes",
    ),
    _SyntaxRule(
        "end of stream",
        "quoted scalar",
        "the quoted text that starts here is never closed",
        "add the closing quote",
        at_context=True,
    ),
    _SyntaxRule(
        "unknown escape",
        "",
        "a backslash in a double-quoted text starts an unknown escape sequence",
        "put the text in single quotes, or write each backslash as \\\\",
    ),
    _SyntaxRule(
        "','",
        "flow sequence",
        "the list that starts with '[' on line {context_line} is not closed "
        "or lacks a comma",
        "close the list with ']', separate its items with commas, and put "
        "items that contain ':' in quotes",
    ),
    _SyntaxRule(
        "','",
        "flow mapping",
        "the mapping that starts with '{{' on line {context_line} is not "
        "closed or lacks a comma",
        "close the mapping with '}' and separate its entries with commas; a text "
        "inside it that contains ': ' or ',' needs quotes, as in "
        '{nl: "Let op: lees dit", en: "Note: read this"}',
    ),
    _SyntaxRule(
        "expected ':'",
        "simple key",
        "this line has no ': ' after its key",
        "write 'key: value', or indent the line to continue the value above",
        at_context=True,
    ),
    _SyntaxRule(
        "",
        "block mapping",
        "a new key was expected here, in line with the keys of the mapping "
        "that starts on line {context_line}",
        "check the indentation of this line, and if a value starts with a "
        "quote, put the whole value in quotes",
    ),
    _SyntaxRule(
        "",
        "block collection",
        "a new list item ('- ') was expected here, in line with the items of "
        "the list that starts on line {context_line}",
        "check the indentation of this line",
    ),
    _SyntaxRule(
        "document start",
        "",
        "content follows the end of the document ('...')",
        "remove the '...' line",
    ),
    _SyntaxRule(
        "node content",
        "",
        "a value was expected here, but {character} cannot start one",
        "remove the extra character, or put the text in quotes",
    ),
    _SyntaxRule(
        "nesting depth",
        "",
        "lists and mappings are nested too deeply here",
        f"keep the nesting under {MAX_NESTING_DEPTH} levels",
    ),
    _SyntaxRule(
        "cannot start any token",
        "",
        "the character {character} cannot start a value",
        "put the text in quotes",
    ),
    _SyntaxRule(
        "",
        "anchor",
        "'&' starts an anchor name here, but no valid name follows",
        "write an anchor as '&name', or put a text that starts with '&' in quotes",
    ),
    _SyntaxRule(
        "",
        "alias",
        "'*' starts an alias here, but no valid anchor name follows",
        "write an alias as '*name', or put a text that starts with '*' in quotes",
    ),
    _SyntaxRule(
        "",
        "tag",
        "'!' starts a tag here, but the tag is not valid",
        "put a text that starts with '!' in quotes",
    ),
    _SyntaxRule(
        "",
        "block scalar",
        "the block text indicator ('|' or '>') is followed by something "
        "other than a comment or the end of the line",
        "start the text on the next line, indented",
    ),
)


def _report_syntax_error(path: Path, text: str, error, problems) -> None:
    rule = _match_rule(error)
    mark = error.problem_mark or error.context_mark
    if rule is not None and rule.at_context and error.context_mark is not None:
        mark = error.context_mark
    explanation = "the YAML syntax is invalid here"
    hint = ""
    if rule is not None:
        explanation = rule.explanation.format(
            context_line=_line_of(error.context_mark),
            character=repr(_character_at(text, mark)),
        )
        hint = f"; {rule.hint}"
    message = (
        f"invalid YAML at column {mark.column + 1}: {explanation} "
        f"(parser message: {error.problem}){hint}"
    )
    problems.error(path, mark.line + 1, message)


def _match_rule(error) -> _SyntaxRule | None:
    problem = (error.problem or "").lower()
    context = (error.context or "").lower()
    for rule in _SYNTAX_RULES:
        if rule.problem in problem and rule.context in context:
            return rule
    return None


def _line_of(mark) -> int | None:
    return None if mark is None else mark.line + 1


def _character_at(text: str, mark) -> str:
    lines = _source_lines(text)
    if mark.line < len(lines) and mark.column < len(lines[mark.line]):
        return lines[mark.line][mark.column]
    return ""


def _report_composer_error(path: Path, text: str, error, problems) -> None:
    problem = error.problem or ""
    context = error.context or ""
    mark = error.problem_mark
    if "another document" in problem:
        message = (
            "a second YAML document starts here, but the file must contain "
            "exactly one: remove the '---' line or move the second document "
            "to a file of its own"
        )
    elif "duplicate anchor" in context:
        name = _anchor_name_at(text, mark)
        first = error.context_mark.line + 1
        message = (
            f"anchor '&{name}' is defined twice: first on line {first}, "
            f"again on line {mark.line + 1}; give each anchor its own name"
        )
    elif "undefined alias" in problem:
        name = _anchor_name_at(text, mark)
        message = (
            f"alias '*{name}' refers to no anchor: define '&{name}' before "
            "this line, or correct the name"
        )
    else:
        message = f"the YAML structure is invalid (parser message: {problem})"
    problems.error(path, mark.line + 1, message)


def _anchor_name_at(text: str, mark) -> str:
    line = _source_lines(text)[mark.line]
    match = _ANCHOR_NAME.match(line, mark.column)
    return match.group(1) if match else "?"


# Checking the composed graph: size, nesting, tags and keys.


@dataclasses.dataclass
class _Measure:
    """Sizes of a node graph, counted once per distinct node."""

    distinct: int = 0
    too_large: Node | None = None
    """The first node whose expansion is larger than MAX_EXPANDED_NODES."""
    heights: dict[int, int] = dataclasses.field(default_factory=dict)
    """Levels of lists and mappings in each node, keyed by node identity."""
    cyclic: bool = False


def _check_size(path: Path, text: str, root: Node, problems: Problems) -> None:
    """Report a graph that is recursive, too large or too deep once expanded."""
    measure = _measure(root)
    if measure.cyclic:
        _report_recursive_aliases(path, text, problems)
    elif measure.too_large is not None:
        _report_too_large(path, measure, problems)
    elif measure.heights[id(root)] > MAX_NESTING_DEPTH:
        line = _first_too_deep(root, measure.heights).start_mark.line + 1
        _report_too_deep(path, line, problems)


def _measure(root: Node) -> _Measure:
    """Count the expanded values and nesting depth without expanding aliases.

    A depth-first walk in post-order records each distinct node's expanded
    size and height once, keyed by its identity, so a node that many aliases
    refer to costs one visit. Reaching a node that is still open on the
    walk's path means an alias sits inside its own anchor.
    """
    measure = _Measure()
    sizes: dict[int, int] = {}
    heights = measure.heights
    open_nodes: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if children_done:
            open_nodes.discard(id(node))
            _record_node(node, sizes, heights, measure)
            continue
        if id(node) in sizes:
            continue
        open_nodes.add(id(node))
        stack.append((node, True))
        for child in _children(node):
            if id(child) in open_nodes:
                measure.cyclic = True
                return measure
            if id(child) not in sizes:
                stack.append((child, False))
    return measure


def _record_node(node: Node, sizes: dict, heights: dict, measure: _Measure) -> None:
    children = _children(node)
    size = 1 + sum(sizes[id(child)] for child in children)
    sizes[id(node)] = min(size, MAX_EXPANDED_NODES + 1)
    height = 0
    if not isinstance(node, ScalarNode):
        height = 1 + max((heights[id(child)] for child in children), default=0)
    heights[id(node)] = height
    measure.distinct += 1
    if size > MAX_EXPANDED_NODES and measure.too_large is None:
        measure.too_large = node


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return node.value
    if isinstance(node, MappingNode):
        return [child for pair in node.value for child in pair]
    return []


def _report_too_large(path: Path, measure: _Measure, problems: Problems) -> None:
    node = measure.too_large
    if measure.distinct > MAX_EXPANDED_NODES:
        message = (
            f"the file contains more than {MAX_EXPANDED_NODES} values, the "
            "limit for one file; split it into smaller files"
        )
    else:
        message = (
            f"the aliases in this value expand to more than {MAX_EXPANDED_NODES}"
            " values, the limit for one file; each alias ('*name') copies the "
            "whole value of its anchor, so use fewer aliases or smaller anchors"
        )
    problems.error(path, node.start_mark.line + 1, message)


def _first_too_deep(root: Node, heights: dict[int, int]) -> Node:
    """Return the first node below the top that lies deeper than the limit."""
    node = root
    for _level in range(MAX_NESTING_DEPTH):
        node = max(_children(node), key=lambda child: heights[id(child)])
    return node


def _report_too_deep(path: Path, line: int | None, problems: Problems) -> None:
    problems.error(
        path,
        line,
        f"lists and mappings are nested more than {MAX_NESTING_DEPTH} levels "
        "deep, the limit; flatten the structure",
    )


def _report_recursive_aliases(path: Path, text: str, problems: Problems) -> None:
    """Find each alias used inside its own anchor's value, from the events."""
    open_anchors: list[str | None] = []
    anchor_lines: dict[str, int] = {}
    for event in yaml.parse(text, Loader=_LOADER):
        if isinstance(event, yaml.CollectionStartEvent):
            open_anchors.append(event.anchor)
            if event.anchor is not None:
                anchor_lines[event.anchor] = event.start_mark.line + 1
        elif isinstance(event, yaml.CollectionEndEvent):
            open_anchors.pop()
        elif isinstance(event, yaml.AliasEvent) and event.anchor in open_anchors:
            name = event.anchor
            problems.error(
                path,
                event.start_mark.line + 1,
                f"alias '*{name}' is used inside the value of its own anchor "
                f"'&{name}' (line {anchor_lines[name]}), so that value would "
                "contain itself forever; remove the alias or refer to another "
                "anchor",
            )


def _check_nodes(path: Path, root: Node, problems: Problems) -> None:
    """Check the tags, scalar values and keys of every distinct node.

    The walk visits each node once even when aliases make the graph cyclic.
    """
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if _check_tag(path, node, problems):
            _check_value(path, node, problems)
        stack.extend(_children(node))


def _check_value(path: Path, node: Node, problems: Problems) -> None:
    if isinstance(node, MappingNode):
        _check_keys(path, node, problems)
    elif isinstance(node, ScalarNode):
        _check_scalar(path, node, problems)


def _check_tag(path: Path, node: Node, problems: Problems) -> bool:
    tag = _short_tag(node)
    expected = {ScalarNode: _SCALAR_TAGS, SequenceNode: {"seq"}, MappingNode: {"map"}}
    if tag in expected[type(node)]:
        return True
    line = node.start_mark.line + 1
    if tag in _SCALAR_TAGS or tag in {"seq", "map"}:
        message = f"tag !!{tag} cannot be used on {_kind_of(node)}; remove the tag"
    else:
        message = (
            f"tag {_display_tag(node.tag)} is not supported: only plain YAML "
            "values (texts, numbers, booleans, empty values, lists and "
            "mappings) can be used; remove the tag, or put the text in quotes "
            "if the '!' belongs to it"
        )
    problems.error(path, line, message)
    return False


def _short_tag(node: Node) -> str:
    if node.tag.startswith(_CORE_TAG):
        return node.tag[len(_CORE_TAG) :]
    return node.tag


def _display_tag(tag: str) -> str:
    if tag.startswith(_CORE_TAG):
        return "!!" + tag[len(_CORE_TAG) :]
    return tag


def _kind_of(node: Node) -> str:
    if isinstance(node, SequenceNode):
        return "a list"
    if isinstance(node, MappingNode):
        return "a mapping"
    return "a single value"


# NOTE: numbers follow PyYAML's YAML 1.1 rules, so 0612 is read as the octal
# number 394 and 1_000 as 1000. A caller that expects a text sees the digits
# as written through describe().
_CONVERSIONS = {
    "int": (_constructor.construct_yaml_int, "a whole number"),
    "float": (_constructor.construct_yaml_float, "a number"),
    "bool": (_constructor.construct_yaml_bool, "true or false"),
}


def _scalar_value(node: ScalarNode) -> object:
    """Return the Python value of a scalar with a core-schema tag.

    Raises ValueError or KeyError when the text does not fit an explicit tag,
    such as ``!!int abc``.
    """
    tag = _short_tag(node)
    if tag == "null":
        return None
    if tag not in _CONVERSIONS or ":" in node.value:
        # Texts, dates, merge keys, and base-60 numbers such as 12:30.
        return node.value
    convert, _meaning = _CONVERSIONS[tag]
    return convert(node)


def _check_scalar(path: Path, node: ScalarNode, problems: Problems) -> None:
    try:
        _scalar_value(node)
    except (ValueError, KeyError):
        tag = _short_tag(node)
        _convert, meaning = _CONVERSIONS[tag]
        problems.error(
            path,
            node.start_mark.line + 1,
            f"value {node.value!r} is tagged !!{tag} but is not {meaning}; "
            "remove the tag or correct the value",
        )


def _check_keys(path: Path, node: MappingNode, problems: Problems) -> None:
    """Report keys that are not texts, repeated keys and invalid merge values."""
    lines_by_key: dict[str, list[int]] = {}
    for key_node, value_node in node.value:
        if _is_merge_key(key_node):
            _check_merge_value(path, value_node, problems)
        key = _key_text(path, key_node, problems)
        if key is not None:
            lines_by_key.setdefault(key, []).append(key_node.start_mark.line + 1)
    for key, lines in lines_by_key.items():
        if len(lines) > 1:
            problems.error(path, lines[1], _duplicate_key_message(key, lines))


def _duplicate_key_message(key: str, lines: list[int]) -> str:
    if len(lines) == 2:
        return (
            f"key {key!r} appears twice: first on line {lines[0]}, again on "
            f"line {lines[1]}; remove one"
        )
    listed = ", ".join(str(line) for line in lines[:-1])
    return (
        f"key {key!r} appears {len(lines)} times: on lines {listed} and "
        f"{lines[-1]}; keep one"
    )


def _key_text(path: Path, key_node: Node, problems: Problems) -> str | None:
    """Return a key as text, or report why it is not one."""
    line = key_node.start_mark.line + 1
    if not isinstance(key_node, ScalarNode):
        problems.error(
            path,
            line,
            f"a key must be a text, got {_kind_of(key_node)}; write a plain "
            "text before ':'",
        )
        return None
    tag = _short_tag(key_node)
    if tag in _KEY_TAGS or tag == "merge":
        return key_node.value
    if tag in _SCALAR_TAGS:
        # A key with an unsupported tag was reported by _check_tag already.
        problems.error(path, line, _key_not_text_message(key_node, tag))
    return None


def _key_not_text_message(key_node: ScalarNode, tag: str) -> str:
    text = key_node.value
    if tag == "null" and text == "":
        return "a key is missing before ':'; write a text key, such as 'title:'"
    kinds = {
        "int": "a number",
        "float": "a number",
        "bool": "a boolean (unquoted yes/no/on/off/true/false)",
        "null": "an empty value (null)",
    }
    return (
        f"key {text} is read as {kinds[tag]}, but keys must be texts; put it "
        f'in quotes: "{text}":'
    )


def _is_merge_key(key_node: Node) -> bool:
    return isinstance(key_node, ScalarNode) and _short_tag(key_node) == "merge"


def _check_merge_value(path: Path, value_node: Node, problems: Problems) -> None:
    if _merge_sources(value_node) is not None:
        return
    problems.error(
        path,
        value_node.start_mark.line + 1,
        "the merge key '<<' must be followed by an alias to a mapping, such as "
        f"'<<: *defaults', or a list of such aliases; got {_kind_of(value_node)}",
    )


def _merge_sources(value_node: Node) -> list[MappingNode] | None:
    """Return the mappings that a merge key merges, or None if it is invalid."""
    if isinstance(value_node, MappingNode):
        return [value_node]
    if not isinstance(value_node, SequenceNode):
        return None
    if not all(isinstance(item, MappingNode) for item in value_node.value):
        return None
    return value_node.value


def _report_top_level(path: Path, root: Node, problems: Problems) -> None:
    got = _kind_of(root)
    if isinstance(root, ScalarNode):
        got = _describe_scalar_node(root)
    elif isinstance(root, SequenceNode):
        got = _describe_list(root.value)
    problems.error(
        path,
        root.start_mark.line + 1,
        f"expected a YAML mapping of 'key: value' lines at the top level, got {got}",
    )


# Building plain data, and finding nodes again by path.


def _construct(node: Node, entries: dict) -> object:
    """Build plain Python data from a checked, acyclic node graph.

    Recursion is safe here because ``_check_size`` has limited the depth.
    """
    if isinstance(node, ScalarNode):
        return _scalar_value(node)
    if isinstance(node, SequenceNode):
        return [_construct(item, entries) for item in node.value]
    return {
        key: _construct(value_node, entries)
        for key, (_key_node, value_node) in _mapping_entries(node, entries).items()
    }


def _mapping_entries(node: MappingNode, cache: dict) -> dict:
    """Return a mapping's keys with their key and value nodes, merges applied."""
    entries = cache.get(id(node))
    if entries is not None:
        return entries
    merged: dict = {}
    own: dict = {}
    for key_node, value_node in node.value:
        if _is_merge_key(key_node):
            for source in reversed(_merge_sources(value_node)):
                merged.update(_mapping_entries(source, cache))
        else:
            own[key_node.value] = (key_node, value_node)
    merged.update(own)
    cache[id(node)] = merged
    return merged


def _child_step(node: Node, element, cache: dict):
    if isinstance(node, MappingNode) and isinstance(element, str):
        return _mapping_entries(node, cache).get(element)
    is_index = isinstance(element, int) and not isinstance(element, bool)
    if isinstance(node, SequenceNode) and is_index and 0 <= element < len(node.value):
        return None, node.value[element]
    return None


def _scalar_of(node: ScalarNode) -> Scalar:
    return Scalar(
        text=node.value,
        plain=node.style in (None, ""),
        tag=_short_tag(node),
        line=node.start_mark.line + 1,
        column=node.start_mark.column + 1,
    )


# Describing values for messages.


def _describe_scalar_node(node: ScalarNode) -> str:
    try:
        value = _scalar_value(node)
    except (ValueError, KeyError):
        value = node.value
    return _describe_value(value, _scalar_of(node))


def _describe_boolean(value: bool, scalar: Scalar | None) -> str:
    if scalar is None or scalar.tag != "bool":
        return "true" if value else "false"
    word = scalar.text
    if scalar.plain and word.lower() in _YAML_BOOLEAN_WORDS:
        return (
            f"{word} (unquoted yes/no/on/off/true/false are read as a boolean "
            f'in YAML; put the text in quotes: "{word}")'
        )
    return word


def _describe_null(scalar: Scalar | None) -> str:
    if scalar is None or scalar.tag != "null" or scalar.text == "":
        return "an empty value"
    return f"{scalar.text} (an empty value in YAML)"


def _describe_number(value, scalar: Scalar | None) -> str:
    if scalar is not None and scalar.plain and scalar.tag in {"int", "float"}:
        return scalar.text
    return repr(value)


def _describe_text(value: str) -> str:
    if len(value) > 60:
        return repr(value[:60] + "...")
    return repr(value)


def _describe_list(items: list) -> str:
    if not items:
        return "an empty list"
    noun = "item" if len(items) == 1 else "items"
    return f"a list of {len(items)} {noun}"


def _describe_mapping(mapping: dict) -> str:
    if not mapping:
        return "an empty mapping"
    keys = [str(key) for key in mapping]
    shown = ", ".join(keys[:5])
    if len(keys) > 5:
        shown += f" and {len(keys) - 5} more"
    noun = "key" if len(keys) == 1 else "keys"
    return f"a mapping with {noun} {shown}"
