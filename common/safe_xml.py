"""Untrusted XML, parsed safely: any DTD is refused (so no entity expansion, no external
entity, no billion laughs), nothing is fetched, and a document has a size
bound. Shared by every importer of packages (QTI, Common Cartridge)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Final

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from common.errors import BadUserInput

MAX_XML_BYTES: Final = 1024 * 1024


def parse(data: bytes, name: str, max_bytes: int = MAX_XML_BYTES) -> ET.Element:
    """The root element of `data`; BAD_USER_INPUT saying what is wrong with it otherwise."""
    if len(data) > max_bytes:
        raise BadUserInput(f"{name} is larger than {max_bytes // 1024} KiB.", field="file")
    try:
        root: ET.Element = SafeET.fromstring(data, forbid_dtd=True)
    except DefusedXmlException:
        raise BadUserInput(
            f"{name} declares a DTD or entities, which are refused.", field="file"
        ) from None
    except ET.ParseError as error:
        raise BadUserInput(f"{name} is not well-formed XML ({error}).", field="file") from None
    return root
