"""`@authenticated`, `@requiresScopes` and `@policy`, enforced before planning.

As Apollo Router does it: every place in an operation that needs more than the caller has is
removed before the operation is planned, so no subgraph is asked for it; the client's
response holds null there (propagated as the GraphQL spec says when the field is non-null)
and one error per place with its path, UNAUTHENTICATED when the caller has no credentials
and FORBIDDEN when they lack a scope or policy. With ``reject_unauthorized``, an operation
that asks for anything the caller may not have is refused whole instead.

A field needs what its own directives say, what its parent type's and its return type's
say, and, when asked through an interface, what every implementation's type and field say
(the data could be any of them). A fragment on a type needs what the type says. What an
operation needs is worked out once per operation; what a caller is denied is a small key,
and the filtered plan for each key is cached beside the operation.

Policies are decided by a `PolicyEvaluator`. The default reads the caller's token claims: a
policy named ``claim:value`` holds when that claim equals the value or contains it (a list,
or a space-separated string like ``scope``); ``policies`` names other policies after such
a test. Any other policy is denied: unknown rules fail closed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    REMOVE,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    NameNode,
    Node,
    OperationDefinitionNode,
    SelectionSetNode,
    Visitor,
    get_named_type,
    visit,
)

from router.policies.authentication import Caller
from router.policies.refusal import Refusal
from router.supergraph.access import NOTHING, AccessRules, Requirement

PolicyEvaluator = Callable[[str, Caller], bool]
GuardedNode = FieldNode | InlineFragmentNode | FragmentSpreadNode
Verdict = tuple[tuple[int, str], ...]  # (guard index, error code) of each denied guard

UNAUTHENTICATED = "UNAUTHENTICATED"
FORBIDDEN = "FORBIDDEN"


def _claim_holds(claims: Mapping[str, Any], test: str) -> bool:
    name, _, expected = test.partition(":")
    value = claims.get(name)
    if isinstance(value, str):
        return value == expected or expected in value.split()
    if isinstance(value, list | tuple):
        return expected in [str(item) for item in value]
    return value is not None and str(value) == expected


@dataclass(frozen=True)
class ClaimPolicies:
    """The default evaluator: ``claim:value`` tests on the token, or names given to them."""

    named: Mapping[str, str] = field(default_factory=dict)

    def __call__(self, policy: str, caller: Caller) -> bool:
        test = self.named.get(policy, policy)
        return ":" in test and _claim_holds(caller.claims, test)


@dataclass(frozen=True)
class AuthorizationConfig:
    reject_unauthorized: bool = False
    policies: PolicyEvaluator = field(default_factory=ClaimPolicies)


@dataclass(frozen=True, slots=True)
class Guard:
    node: GuardedNode
    requirement: Requirement
    subject: str  # "User.email", or "type Secret" for a fragment
    path: tuple[str, ...]  # where it first appears in the response, for whole-request refusals


def _wording(disjunction: tuple[tuple[str, ...], ...]) -> str:
    return " or ".join(" and ".join(clause) or "(nothing)" for clause in disjunction) or "(none)"


def judge(requirement: Requirement, caller: Caller | None, policies: PolicyEvaluator) -> str | None:
    """The error code for a caller who does not meet the requirement, else None."""
    if requirement.empty:
        return None
    if caller is None:
        return UNAUTHENTICATED
    if requirement.scopes is not None and not any(
        set(clause) <= caller.scopes for clause in requirement.scopes
    ):
        return FORBIDDEN
    if requirement.policies is not None and not any(
        all(policies(policy, caller) for policy in clause) for clause in requirement.policies
    ):
        return FORBIDDEN
    return None


def refusal(guard: Guard, code: str) -> Refusal:
    if code == UNAUTHENTICATED:
        return Refusal(code, f"Sign in to read {guard.subject}.")
    needs = []
    if guard.requirement.scopes is not None:
        needs.append(f"the scopes {_wording(guard.requirement.scopes)}")
    if guard.requirement.policies is not None:
        needs.append(f"the policies {_wording(guard.requirement.policies)}")
    return Refusal(code, f"Not authorized to read {guard.subject}: it needs {', '.join(needs)}.")


class _Guards:
    def __init__(
        self,
        schema: GraphQLSchema,
        rules: AccessRules,
        fragments: Mapping[str, FragmentDefinitionNode],
    ) -> None:
        self.schema = schema
        self.rules = rules
        self.fragments = fragments
        self.found: list[Guard] = []
        self.seen_fragments: set[str] = set()

    def field_requirement(
        self, parent: GraphQLObjectType | GraphQLInterfaceType, name: str
    ) -> Requirement:
        definition = parent.fields[name]
        rules = self.rules
        required = (
            rules.of_field(parent.name, name)
            & rules.of_type(parent.name)
            & rules.of_type(get_named_type(definition.type).name)
        )
        if isinstance(parent, GraphQLInterfaceType):
            for implementation in self.schema.get_possible_types(parent):
                required = (
                    required
                    & rules.of_type(implementation.name)
                    & rules.of_field(implementation.name, name)
                )
        return required

    def walk(
        self, selections: SelectionSetNode, parent: GraphQLNamedType, path: tuple[str, ...]
    ) -> None:
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                self.field(selection, parent, path)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self.schema.get_type(condition.name.value) if condition else parent
                if target is None:
                    continue
                required = self.rules.of_type(target.name) if condition else NOTHING
                self.guard(
                    selection, required, f"type {target.name}", (*path, f"... on {target.name}")
                )
                self.walk(selection.selection_set, target, path)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments.get(selection.name.value)
                target = (
                    self.schema.get_type(fragment.type_condition.name.value) if fragment else None
                )
                if fragment is None or target is None:
                    continue
                self.guard(
                    selection,
                    self.rules.of_type(target.name),
                    f"type {target.name}",
                    (*path, f"... on {target.name}"),
                )
                if fragment.name.value not in self.seen_fragments:
                    self.seen_fragments.add(fragment.name.value)
                    self.walk(fragment.selection_set, target, path)

    def field(self, node: FieldNode, parent: GraphQLNamedType, path: tuple[str, ...]) -> None:
        name = node.name.value
        if name.startswith("__") or not isinstance(
            parent, GraphQLObjectType | GraphQLInterfaceType
        ):
            return
        definition = parent.fields.get(name)
        if definition is None:
            return
        key = node.alias.value if node.alias else name
        self.guard(
            node, self.field_requirement(parent, name), f"{parent.name}.{name}", (*path, key)
        )
        if node.selection_set is not None:
            self.walk(node.selection_set, get_named_type(definition.type), (*path, key))

    def guard(
        self, node: GuardedNode, required: Requirement, subject: str, path: tuple[str, ...]
    ) -> None:
        if not required.empty:
            self.found.append(Guard(node, required, subject, path))


def find_guards(
    schema: GraphQLSchema,
    rules: AccessRules,
    document: DocumentNode,
    operation: OperationDefinitionNode,
) -> tuple[Guard, ...]:
    """Every place in the operation that needs something of its caller."""
    if rules.empty:
        return ()
    root = schema.get_root_type(operation.operation)
    if root is None:
        return ()
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    guards = _Guards(schema, rules, fragments)
    guards.walk(operation.selection_set, root, ())
    return tuple(guards.found)


_TYPENAME = FieldNode(name=NameNode(value="__typename"))


class _Remover(Visitor):
    def __init__(self, removed: set[int]) -> None:
        super().__init__()
        self.removed = removed

    def enter(self, node: Node, *_: Any) -> Any:
        return REMOVE if id(node) in self.removed else None

    def leave_selection_set(self, node: SelectionSetNode, *_: Any) -> Any:
        if not node.selections:
            return SelectionSetNode(selections=(_TYPENAME,))
        return None


def without(document: DocumentNode, nodes: list[GuardedNode]) -> DocumentNode:
    """The document with these selections removed; an emptied selection keeps `__typename`."""
    filtered: DocumentNode = visit(document, _Remover({id(node) for node in nodes}))
    return filtered


class Authorization:
    def __init__(self, rules: AccessRules, config: AuthorizationConfig | None = None) -> None:
        self.rules = rules
        self.config = config or AuthorizationConfig()

    def verdict(self, guards: tuple[Guard, ...], caller: Caller | None) -> Verdict:
        denied = []
        for index, guard in enumerate(guards):
            code = judge(guard.requirement, caller, self.config.policies)
            if code is not None:
                denied.append((index, code))
        return tuple(denied)

    @staticmethod
    def refusals(guards: tuple[Guard, ...], verdict: Verdict) -> dict[int, Refusal]:
        """What each denied selection reports, by node identity (for shaping the response)."""
        return {id(guards[index].node): refusal(guards[index], code) for index, code in verdict}

    @staticmethod
    def errors(guards: tuple[Guard, ...], verdict: Verdict) -> list[dict[str, Any]]:
        """One error per denied selection, for refusing the operation whole."""
        result = []
        for index, code in verdict:
            guard = guards[index]
            reason = refusal(guard, code)
            result.append(
                {"message": reason.message, "path": list(guard.path), "extensions": {"code": code}}
            )
        return result
