"""`persisted_queries:`: operations known by id from local manifests, and the safelist that
refuses every other operation.

Bodies compare as Apollo Router compares them: normalised, i.e. parsed and printed again with
operations then fragments each sorted by name, so whitespace, commas, comments and the order
of top-level definitions do not matter, while the order of fields does. A body that does not
parse is compared as it is written."""

import logging

from graphql import (
    FragmentDefinitionNode,
    GraphQLError,
    OperationDefinitionNode,
    parse,
)

from router.config.apq import PersistedQueriesSection
from router.lru import LRU
from router.policies.manifest import operation_id, print_sorted, read_manifests

logger = logging.getLogger("router")

MAX_TOKENS = 15_000  # as the gateway parses
NORMALISED_CACHE_SIZE = 1024


def normalise(body: str) -> str:
    try:
        document = parse(body, no_location=True, max_tokens=MAX_TOKENS)
    except GraphQLError:
        return body
    return print_sorted(
        d
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode | FragmentDefinitionNode)
    )


def _first_name(body: str) -> str:
    try:
        document = parse(body, no_location=True, max_tokens=MAX_TOKENS)
    except GraphQLError:
        return "(unparsable)"
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            return definition.name.value if definition.name else "(anonymous)"
    return "(no operation)"


class PersistedQueryList:
    """The manifests' operations by id, and whether a freeform body is allowed."""

    def __init__(self, section: PersistedQueriesSection) -> None:
        self.section = section
        self.bodies = read_manifests(section.local_manifests)
        self.safelist = frozenset(normalise(body) for body in self.bodies.values())
        self._normalised: LRU[str, str] = LRU(NORMALISED_CACHE_SIZE)

    @property
    def require_id(self) -> bool:
        return self.section.safelist.require_id

    @property
    def enforced(self) -> bool:
        return self.section.safelist.enabled

    def body(self, identifier: str) -> str | None:
        return self.bodies.get(identifier)

    def known(self, body: str) -> bool:
        normalised = self._normalised.get(body)
        if normalised is None:
            normalised = normalise(body)
            self._normalised.put(body, normalised)
        return normalised in self.safelist

    def allows(self, body: str, operation_name: str | None) -> bool:
        """Whether a body sent in full may run (logged when unknown, with `log_unknown`)."""
        if self.known(body):
            return True
        self.log_unknown(body, operation_name, refused=self.enforced)
        return not self.enforced

    def log_unknown(self, body: str, operation_name: str | None, *, refused: bool) -> None:
        """With `log_unknown`, one line: the operation's name and hash, never its variables."""
        if self.section.log_unknown:
            logger.warning(
                "unknown operation %s (sha256 %s) %s",
                operation_name or _first_name(body),
                operation_id(body),
                "refused" if refused else "allowed",
            )
