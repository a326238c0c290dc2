"""QR codes for wallet URLs, as SVG for the citizen's page."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ElementTree

import qrcode
import qrcode.image.svg

MAX_VERSION = 10
"""The largest QR version (57 by 57 modules) a wallet URL may need.

Wallet URLs carry only a reference (request_uri or credential_offer_uri),
so they fit well below this; a longer URL is a bug, not a bigger code.
"""


def qr_svg(data: str, *, label: str) -> str:
    """Return ``data`` as an SVG QR code (error correction M).

    ``label`` becomes the image's accessible name. Raises ``ValueError`` when
    the data needs a code larger than ``MAX_VERSION``.
    """
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        image_factory=qrcode.image.svg.SvgPathImage,
        border=4,
    )
    code.add_data(data)
    code.make(fit=True)
    if code.version > MAX_VERSION:
        raise ValueError(
            f"QR data of {len(data)} characters needs version {code.version}, "
            f"above {MAX_VERSION}; put a reference in the URL, not the content"
        )
    buffer = io.BytesIO()
    code.make_image().save(buffer)
    return _label_svg(buffer.getvalue(), label)


def _label_svg(svg: bytes, label: str) -> str:
    """Give the SVG a role, an accessible name and a size that scales."""
    ElementTree.register_namespace("", "http://www.w3.org/2000/svg")
    root = ElementTree.fromstring(svg)
    root.set("role", "img")
    root.set("aria-label", label)
    root.attrib.pop("width", None)
    root.attrib.pop("height", None)
    title = ElementTree.Element("{http://www.w3.org/2000/svg}title")
    title.text = label
    root.insert(0, title)
    return ElementTree.tostring(root, encoding="unicode")
