"""The spellings of IMS Common Cartridge 1.3 (and what earlier versions call the same
things), in one place."""

from __future__ import annotations

from typing import Final

MANIFEST: Final = "imsmanifest.xml"
CP: Final = "http://www.imsglobal.org/xsd/imsccv1p3/imscp_v1p1"
LOM_MANIFEST: Final = "http://ltsc.ieee.org/xsd/imsccv1p3/LOM/manifest"
SCHEMA: Final = "IMS Common Cartridge"
SCHEMA_VERSION: Final = "1.3.0"
# Our own metadata, which other systems ignore: what CC has no place for (Markdown sources,
# the level, a lesson's required flag and duration), so that our own export round-trips.
EXTENSION: Final = "https://lms.example/xsd/cartridge-extension/v1"
OURS: Final = f"{{{EXTENSION}}}lms"

WEB_CONTENT: Final = "webcontent"
# Prefixes: 1.0 to 1.3 differ in the version suffix only (imswl_xmlv1p1, imswl_xmlv1p3…).
WEB_LINK: Final = "imswl_xmlv1p"
LTI_LINK: Final = "imsbasiclti_xmlv1p"
DISCUSSION: Final = "imsdt_xmlv1p"
QTI: Final = "imsqti_xml"
KINDS_NOT_CARRIED: Final = {
    DISCUSSION: "discussion topics are not imported: the platform has no discussions",
    QTI: "only QTI 2.1 items (imsqti_xmlv2p1) and CC's QTI 1.2 assessments and question "
    "banks are imported",
}
HTML_SUFFIXES: Final = (".html", ".htm", ".xhtml")
