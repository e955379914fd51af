"""A QTI import that also carries Common Cartridge QTI 1.2 resources (assessments and
question banks): the bank's items, the CC items and the assessments written in ONE
transaction, so a failure leaves nothing behind.

A CC item whose identifier and content equal an item already imported from the same
package (our cartridge carries each question twice: in the QTI 2.1 bank and inside its
assessments) is that question, not a copy. A CC item that does not map is left out and
reported, with the slot it had; the rest imports. A resource with errors imports nothing
of the package.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common.auth import Principal
from common.errors import BadUserInput
from common.graphql.catalog import CourseFacts
from subgraphs.assessments.bank import QuestionMeta, question_rows, require_manager
from subgraphs.assessments.models import AssessmentRow, QuestionRow
from subgraphs.assessments.qti.cc_assessments import CcResource, Draw, ItemRef
from subgraphs.assessments.questions import QuestionDraft, build_spec
from subgraphs.assessments.service import AssessmentsService, Slot

NOT_IMPORTED = "Not imported: "


@dataclass(slots=True)
class CcImported:
    questions: list[QuestionRow] = field(default_factory=list)  # the bank's, in order
    assessments: dict[str, AssessmentRow] = field(default_factory=dict)  # by resource


def content_key(draft: QuestionDraft, meta: QuestionMeta) -> str:
    """What makes two imported items the same question."""
    return json.dumps(
        [
            draft.kind.value,
            draft.prompt.strip(),
            draft.points,
            build_spec(draft),
            meta.difficulty.value,
            sorted(meta.tags),
        ],
        sort_keys=True,
    )


def left_out(resources: Sequence[CcResource]) -> None:
    """Each item that did not map says so, as a warning of its own (the rest imports)."""
    for resource in resources:
        for item in resource.items:
            if item.draft is None and item.problems:
                item.warnings[:0] = [NOT_IMPORTED + problem for problem in item.problems]


async def import_all(
    sessions: async_sessionmaker[AsyncSession],
    assessments: AssessmentsService,
    principal: Principal,
    course: CourseFacts,
    bank: Sequence[tuple[str, QuestionDraft, QuestionMeta]],
    resources: Sequence[CcResource],
) -> CcImported:
    """`bank` (identifier, draft, meta) and the resources' items and assessments, in one
    transaction; BadUserInput (nothing written) when anything is refused."""
    require_manager(principal, course, "import questions into its bank")
    if any(resource.errors for resource in resources):
        raise BadUserInput("A QTI 1.2 resource of the package has errors; nothing was imported.")
    result = CcImported()
    known: dict[tuple[str, str], QuestionRow] = {}
    async with sessions.begin() as session:
        rows = question_rows(principal, course, [(draft, meta) for _, draft, meta in bank])
        session.add_all(rows)
        for (identifier, draft, meta), row in zip(bank, rows, strict=True):
            known[(identifier, content_key(draft, meta))] = row
        result.questions = rows
        for resource in resources:
            by_item: dict[str, QuestionRow] = {}
            for item in resource.items:
                if item.draft is None:
                    continue
                key = (item.identifier, content_key(item.draft, item.meta))
                if key not in known:
                    (known[key],) = question_rows(principal, course, [(item.draft, item.meta)])
                    known[key].archived = item.archived  # not in the bank's export: as it was
                    session.add(known[key])
                by_item[item.identifier] = known[key]
            await session.flush()
            if resource.draft is None:
                continue
            slots = []
            for slot in resource.slots:
                if isinstance(slot, Draw):
                    slots.append(Slot(draw_tag=slot.tag, draw_count=slot.count))
                elif isinstance(slot, ItemRef) and slot.identifier in by_item:
                    slots.append(Slot(question_id=by_item[slot.identifier].id))
                else:
                    resource.warnings.append(
                        f"Its item {slot.identifier!r} is left out (see the item)."
                    )
            result.assessments[resource.identifier] = await assessments.create_in(
                session, principal, course, replace(resource.draft, slots=tuple(slots))
            )
        await session.flush()
        for made in [*rows, *result.assessments.values()]:
            await session.refresh(made)
    return result
