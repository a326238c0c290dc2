"""Read DMN XML safely into ElementTree elements that remember their line.

DMN 1.1 to 1.5 and Camunda's exports differ only in the namespace, so callers
match elements by local name (``child(element, "text")``). The reader uses
expat directly and rejects any DOCTYPE, which is where entity declarations
live, so entity expansion ("billion laughs") and external entities cannot
happen. A file that is not well-formed raises DmnError with the line.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from pathlib import Path
from xml.parsers import expat

from stappen.rules.errors import DmnError


class XmlDocument:
    """A parsed file: its root element and the line of every element."""

    def __init__(self, root: ElementTree.Element, lines: dict[int, int]) -> None:
        self.root = root
        self._lines = lines

    def line(self, element: ElementTree.Element | None) -> int | None:
        if element is None:
            return None
        return self._lines.get(id(element))


class _DoctypeFound(Exception):
    def __init__(self, line: int) -> None:
        self.line = line


def read_xml(data: bytes, file: str) -> XmlDocument:
    """Parse XML bytes. Raises DmnError for bad or hostile XML."""
    builder = ElementTree.TreeBuilder()
    lines: dict[int, int] = {}
    parser = expat.ParserCreate(namespace_separator="}")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)

    def start(tag: str, attributes: dict) -> None:
        element = builder.start(
            _clark(tag), {_clark(k): v for k, v in attributes.items()}
        )
        lines[id(element)] = parser.CurrentLineNumber

    def reject_doctype(*_) -> None:
        raise _DoctypeFound(parser.CurrentLineNumber)

    parser.StartElementHandler = start
    parser.EndElementHandler = lambda tag: builder.end(_clark(tag))
    parser.CharacterDataHandler = builder.data
    parser.StartDoctypeDeclHandler = reject_doctype
    parser.EntityDeclHandler = reject_doctype
    parser.buffer_text = True
    try:
        parser.Parse(data, True)
    except _DoctypeFound as found:
        raise DmnError(
            "DOCTYPE and entity declarations are not allowed in a DMN file;"
            " remove the <!DOCTYPE ...> declaration",
            file=file,
            line=found.line,
        ) from None
    except expat.ExpatError as error:
        raise DmnError(
            f"not well-formed XML: {expat.errors.messages[error.code]}"
            f" (column {error.offset + 1}); fix the XML, for example by"
            " opening the file in a DMN modeler and saving it again",
            file=file,
            line=error.lineno,
        ) from None
    return XmlDocument(builder.close(), lines)


def _clark(name: str) -> str:
    """Turn expat's ``namespace}local`` into ElementTree's ``{namespace}local``."""
    if "}" in name:
        return "{" + name
    return name


def read_file(path: Path, file: str) -> tuple[bytes, XmlDocument]:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise DmnError(
            f"cannot read the file: {error.strerror}; check the path", file=file
        ) from None
    return data, read_xml(data, file)


def local_name(element: ElementTree.Element) -> str:
    tag = element.tag
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def children(element: ElementTree.Element, name: str) -> list[ElementTree.Element]:
    return [child for child in element if local_name(child) == name]


def child(element: ElementTree.Element, name: str) -> ElementTree.Element | None:
    for candidate in element:
        if local_name(candidate) == name:
            return candidate
    return None


def text_of(element: ElementTree.Element | None, name: str = "text") -> str | None:
    """Return the text of the ``<text>`` child (or another), or None if absent."""
    if element is None:
        return None
    found = child(element, name)
    if found is None:
        return None
    return found.text or ""


def attribute(element: ElementTree.Element, name: str) -> str | None:
    """Return an attribute by local name, whatever its namespace."""
    if name in element.attrib:
        return element.attrib[name]
    for key, value in element.attrib.items():
        if key.rpartition("}")[2] == name:
            return value
    return None
