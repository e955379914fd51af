"""QTI 2.1 and 3.0 name the same things differently: 2.1 `choiceInteraction` with
`responseIdentifier`, 3.0 `qti-choice-interaction` with `response-identifier`. Items are
built and read in 2.1 spelling without namespaces; these functions convert at the edges."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from enum import StrEnum
from typing import Final


class QtiVersion(StrEnum):
    V2_1 = "2.1"
    V3_0 = "3.0"


ITEM_NAMESPACE: Final = {
    QtiVersion.V2_1: "http://www.imsglobal.org/xsd/imsqti_v2p1",
    QtiVersion.V3_0: "http://www.imsglobal.org/xsd/imsqtiasi_v3p0",
}
MANIFEST_NAMESPACE: Final = {
    QtiVersion.V2_1: "http://www.imsglobal.org/xsd/imscp_v1p1",
    QtiVersion.V3_0: "http://www.imsglobal.org/xsd/qti/qtiv3p0/imscp_v1p1",
}
RESOURCE_TYPE: Final = {
    QtiVersion.V2_1: "imsqti_item_xmlv2p1",
    QtiVersion.V3_0: "imsqti_item_xmlv3p0",
}
TEMPLATES: Final = {
    QtiVersion.V2_1: "http://www.imsglobal.org/question/qti_v2p1/rptemplates/{}",
    QtiVersion.V3_0: "https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/{}.xml",
}
# The markup of item bodies that is XHTML in both versions (never prefixed in 3.0).
HTML: Final = frozenset({"div", "p", "span", "table", "tbody", "tr", "td", "th", "ul", "li", "br"})


def template_url(version: QtiVersion, name: str) -> str:
    return TEMPLATES[version].format(name)


def template_name(url: str) -> str | None:
    """match_correct, map_response, … for any version's standard template URL."""
    found = re.search(r"rptemplates/([a-z_]+?)(?:\.xml)?$", url.strip())
    return found.group(1) if found else None


def _kebab(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"-\1", name).lower()


def _camel(name: str) -> str:
    head, *rest = name.split("-")
    return head + "".join(part.capitalize() for part in rest)


def to_version(element: ET.Element, version: QtiVersion) -> None:
    """Rename a 2.1-spelled tree (QTI elements without namespace) in place for `version`."""
    if version is QtiVersion.V2_1:
        return
    for block in element.iter("rubricBlock"):  # 3.0 wraps a rubric's content
        content = ET.Element("contentBody")
        content.extend(list(block))
        for child in list(block):
            block.remove(child)
        block.append(content)
        block.set("use", "scoring")
    for node in element.iter():
        if node.tag.startswith("{"):
            continue  # a foreign namespace: ours or XML Schema's
        if node.tag not in HTML:
            node.tag = "qti-" + _kebab(node.tag)
        node.attrib = {
            (key if key.startswith("{") else _kebab(key)): value
            for key, value in node.attrib.items()
        }


def from_version(element: ET.Element, namespace: str) -> None:
    """Strip `namespace` from a parsed tree and rename 3.0 spellings to 2.1, in place."""
    prefix = "{" + namespace + "}"
    for node in element.iter():
        tag = node.tag if isinstance(node.tag, str) else ""
        if tag.startswith(prefix):
            tag = tag[len(prefix) :]
        if tag.startswith("qti-"):
            tag = _camel(tag[4:])
            node.attrib = {
                (key if key.startswith("{") else _camel(key)): value
                for key, value in node.attrib.items()
            }
        node.tag = tag
