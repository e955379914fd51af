"""Common Cartridge's QTI 1.2 resource types, which both the courses subgraph (reading and
writing cartridges) and the assessments subgraph (the documents themselves) recognise."""

from __future__ import annotations

from typing import Final

ASSESSMENT_TYPE: Final = "imsqti_xmlv1p2/imscc_xmlv1p3/assessment"


def is_cc_qti(kind: str) -> bool:
    """CC's QTI 1.2 resource types, any CC version (imscc_xmlv1p0 to v1p3)."""
    return kind.startswith("imsqti_xmlv1p2/imscc_xmlv1p") and kind.endswith(
        ("/assessment", "/question-bank")
    )
