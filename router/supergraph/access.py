"""Who may read what: `@authenticated`, `@requiresScopes` and `@policy` read from a supergraph.

A requirement is a conjunction: signed in, and one clause of the scope disjunction, and one
clause of the policy disjunction (each clause a set of names all needed). Requirements on a
type apply wherever a value of that type is selected; requirements on a field apply to that
field. `AccessRules` answers both by name; an element without directives needs nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from graphql import (
    DirectiveNode,
    DocumentNode,
    EnumTypeDefinitionNode,
    InterfaceTypeDefinitionNode,
    ObjectTypeDefinitionNode,
    ScalarTypeDefinitionNode,
    ValueNode,
)

from router.federation.authorization import Clause, clauses_of, conjoin
from router.federation.links import Link

Disjunction = tuple[Clause, ...]


@dataclass(frozen=True, slots=True)
class Requirement:
    authenticated: bool = False
    scopes: Disjunction | None = None  # None: no scope is needed
    policies: Disjunction | None = None  # None: no policy is needed

    @property
    def empty(self) -> bool:
        return not self.authenticated and self.scopes is None and self.policies is None

    def __and__(self, other: Requirement) -> Requirement:
        if other.empty:
            return self
        if self.empty:
            return other
        return Requirement(
            self.authenticated or other.authenticated,
            _both(self.scopes, other.scopes),
            _both(self.policies, other.policies),
        )


NOTHING = Requirement()


def _both(left: Disjunction | None, right: Disjunction | None) -> Disjunction | None:
    if left is None:
        return right
    if right is None:
        return left
    return tuple(conjoin(list(left), list(right)))


def _disjunction(value: ValueNode | None) -> Disjunction:
    return tuple(clauses_of(value))


@dataclass(frozen=True)
class DirectiveNames:
    authenticated: str | None
    requires_scopes: str | None
    policy: str | None

    @classmethod
    def of(cls, links: dict[str, Link]) -> DirectiveNames:
        def name(feature: str) -> str | None:
            link = links.get(feature)
            return link.directive(feature) if link else None

        return cls(name("authenticated"), name("requiresScopes"), name("policy"))

    def requirement(self, directives: Iterable[DirectiveNode]) -> Requirement:
        result = NOTHING
        for directive in directives:
            name = directive.name.value
            arguments = {a.name.value: a.value for a in directive.arguments or ()}
            if name == self.authenticated:
                result = result & Requirement(authenticated=True)
            elif name == self.requires_scopes:
                result = result & Requirement(scopes=_disjunction(arguments.get("scopes")))
            elif name == self.policy:
                result = result & Requirement(policies=_disjunction(arguments.get("policies")))
        return result


_GUARDED_TYPES = (
    ObjectTypeDefinitionNode,
    InterfaceTypeDefinitionNode,
    ScalarTypeDefinitionNode,
    EnumTypeDefinitionNode,
)


@dataclass(frozen=True)
class AccessRules:
    types: dict[str, Requirement] = field(default_factory=dict)
    fields: dict[tuple[str, str], Requirement] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.types and not self.fields

    def of_type(self, name: str) -> Requirement:
        return self.types.get(name, NOTHING)

    def of_field(self, type_name: str, field_name: str) -> Requirement:
        return self.fields.get((type_name, field_name), NOTHING)


def read_access_rules(document: DocumentNode, links: dict[str, Link]) -> AccessRules:
    names = DirectiveNames.of(links)
    if names.authenticated is None and names.requires_scopes is None and names.policy is None:
        return AccessRules()
    types: dict[str, Requirement] = {}
    fields: dict[tuple[str, str], Requirement] = {}
    for definition in document.definitions:
        if not isinstance(definition, _GUARDED_TYPES):
            continue
        type_name = definition.name.value
        own = names.requirement(definition.directives or ())
        if not own.empty:
            types[type_name] = own
        if isinstance(definition, ObjectTypeDefinitionNode | InterfaceTypeDefinitionNode):
            for field_node in definition.fields or ():
                required = names.requirement(field_node.directives or ())
                if not required.empty:
                    fields[(type_name, field_node.name.value)] = required
    return AccessRules(types, fields)
