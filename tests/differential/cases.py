"""Known differences from Apollo Gateway: each class has a recogniser and a minimal reproduction.

APOLLO_WRONG: Apollo Gateway answers wrongly and the router rightly; these stay, and
`test_known_differences` asserts the router's right answer for each.
BOTH_RIGHT: the spec leaves a choice and the gateways choose differently; these stay.
There is no third list: where the router answers wrongly, the router is fixed (issue 18 fixed
every such class this harness found), and the random runs hold it to Apollo's answer.
"""

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from graphql import FieldNode, Visitor, parse, visit

from tests.differential import data
from tests.differential.compare import normalise
from tests.differential.harness import Answer
from tests.differential.subgraph import DOWN
from tests.differential.world import World

NON_NULL = "Cannot return null for non-nullable field"


@dataclass(frozen=True)
class Known:
    name: str
    reason: str
    matches: Callable[[Answer, Answer, str, World], bool]
    world: str
    query: str
    variables: dict[str, Any] = field(default_factory=dict)
    router_right: Callable[[Answer], bool] = lambda _: True
    down: str | None = None


def _errors(answer: Answer) -> list[dict[str, Any]]:
    body = answer.body if isinstance(answer.body, dict) else {}
    return [e for e in body.get("errors") or [] if isinstance(e, dict)]


def _data(answer: Answer) -> Any:
    return answer.body.get("data") if isinstance(answer.body, dict) else None


def _messages(answer: Answer) -> list[str]:
    return [str(e.get("message")) for e in _errors(answer)]


def _apollo_fails_on_shadowing_alias(ours: Answer, theirs: Answer, query: str, _: World) -> bool:
    pattern = re.compile(r"Invalid non-\w+ value .* (returned by subgraph|for __typename)")
    return (
        ours.status == 200 and theirs.status >= 400 and any(map(pattern.search, _messages(theirs)))
    )


def _apollo_merges_differing_arguments(ours: Answer, theirs: Answer, query: str, w: World) -> bool:
    """Apollo's fetch fails on the conflict, or the query selects two fields whose @requires
    take the same field with different arguments (Apollo then feeds both one value)."""
    if any("conflict because they have differing arguments" in m for m in _messages(theirs)):
        return True
    pairs = re.findall(r'^\s*(\w+)\b.*requires: "([^"]*)"', w.supergraph, re.MULTILINE)
    inputs: dict[str, set[str]] = {}
    for field_name, fields in pairs:
        if re.search(rf"\b{field_name}\b", query):
            for name, arguments in re.findall(r"(\w+)(\([^)]*\))?", fields):
                inputs.setdefault(name, set()).add(arguments)
    return any(len(variants) > 1 for variants in inputs.values())


def _apollo_batch_index_in_error_path(ours: Answer, theirs: Answer, query: str, _: World) -> bool:
    """Same errors, but Apollo's paths carry the index in the `_entities` batch where the
    router's carry the client's list index (and Apollo's data may then lack the objects its
    misplaced errors nulled)."""
    a, b = normalise(ours), normalise(theirs)
    if not _within(b.data, a.data) or a.status != b.status or a.error_paths == b.error_paths:
        return False
    if not _errors(ours) or sorted(_messages(ours)) != sorted(_messages(theirs)):
        return False

    def shape(error: dict[str, Any]) -> str:
        return str([p if isinstance(p, str) else 0 for p in error.get("path") or []])

    return sorted(map(shape, _errors(ours))) == sorted(map(shape, _errors(theirs)))


def _apollo_nulls_all_data(ours: Answer, theirs: Answer, query: str, _: World) -> bool:
    a, b = normalise(ours), normalise(theirs)
    pathless = any(not e.get("path") for e in _errors(ours))
    return b.data is None and a.data is not None and a.error_paths == b.error_paths and not pathless


def _within(part: Any, whole: Any) -> bool:
    """`part` is `whole` with some object fields left out."""
    if isinstance(part, dict) and isinstance(whole, dict):
        return all(key in whole and _within(value, whole[key]) for key, value in part.items())
    if isinstance(part, list) and isinstance(whole, list):
        return len(part) == len(whole) and all(map(_within, part, whole))
    return bool(part == whole) or (part is None and isinstance(whole, dict))


def _apollo_drops_fields(ours: Answer, theirs: Answer, query: str, _: World) -> bool:
    a, b = normalise(ours), normalise(theirs)
    return a.error_paths == b.error_paths and a.data != b.data and _within(b.data, a.data)


def _labelled_override(ours: Answer, theirs: Answer, query: str, w: World) -> bool:
    """The query selects a field moved by a progressive @override (one with a label): Apollo
    Gateway gives its query planner no labels, so it plans every such field from the subgraph
    it was moved away from."""
    names = re.findall(r"^\s*(\w+)\b.*overrideLabel:", w.supergraph, re.MULTILINE)
    return any(re.search(rf"\b{name}\b", query) for name in names)


def _skipped_requires_field(ours: Answer, theirs: Answer, query: str, w: World) -> bool:
    """A field with @requires is selected under @skip/@include."""
    names = re.findall(r"^\s*(\w+)\b.*requires:", w.supergraph, re.MULTILINE)
    return any(re.search(rf"\b{n}\b(\([^)]*\))? @(skip|include)\(", query) for n in names)


def _error_under_other_response_name(ours: Answer, theirs: Answer, query: str, _: World) -> bool:
    """Same data and errors, but an error sits under another response name (alias) of the
    same field: which one a subgraph reports depends on the order of its selections."""
    if _data(ours) != _data(theirs) or len(_errors(ours)) != len(_errors(theirs)):
        return False
    if sorted(_messages(ours)) != sorted(_messages(theirs)) or not _aliases(query):
        return False

    def parent(error: dict[str, Any]) -> str:
        return str((error.get("path") or [])[:-1])

    return sorted(map(parent, _errors(ours))) == sorted(map(parent, _errors(theirs)))


def _shareable_root_fields(w: World) -> set[str]:
    query = w.supergraph_schema.query_type
    assert query is not None
    return {
        name
        for name, definition in query.fields.items()
        if definition.ast_node is not None
        and sum(d.name.value == "join__field" for d in definition.ast_node.directives or ()) > 1
    }


def _shareable_root_elsewhere(ours: Answer, theirs: Answer, query: str, w: World) -> bool:
    """With a subgraph down, only root fields several subgraphs serve differ: the gateways
    chose different subgraphs for them."""
    if not any(name == w.name for name, _ in DOWN):
        return False
    shared = _shareable_root_fields(w)
    a, b = _data(ours), _data(theirs)
    if not isinstance(a, dict) or not isinstance(b, dict):
        return False
    differing = {k for k in a.keys() | b.keys() if a.get(k) != b.get(k)}
    return bool(differing) and differing <= shared


def _failed_fetch_without_path(ours: Answer, theirs: Answer, query: str, w: World) -> bool:
    """With a subgraph down, Apollo reports each failed fetch in one error without a path;
    the router reports it on each path the fetch would have filled (and only there)."""
    if not any(name == w.name for name, _ in DOWN):
        return False
    a, b = normalise(ours), normalise(theirs)
    if a.status != b.status or a.data != b.data or "<no path>" in a.error_paths:
        return False
    failed = {
        ".".join(map(str, e["path"]))
        for e in _errors(ours)
        if (e.get("extensions") or {}).get("code") == "SUBREQUEST_HTTP_ERROR"
    }
    theirs_at = set(b.error_paths) - {"<no path>"}
    return bool(failed) and set(a.error_paths) - failed <= theirs_at <= set(a.error_paths)


def _failed_items_vendor_fetch(answer: Answer) -> bool:
    errors = _errors(answer)
    return bool(errors) and all(
        e["extensions"] == {"code": "SUBREQUEST_HTTP_ERROR", "serviceName": "vendors"}
        and e["path"][0] == "items"
        and e["path"][2:] == ["vendor", "country"]
        and _data(answer)["items"][e["path"][1]]["vendor"]["country"] is None
        for e in errors
    )


def _under_null(data: Any, path: list[Any]) -> bool:
    for segment in path[:-1]:
        if data is None:
            return True
        try:
            data = data[segment]
        except (KeyError, IndexError, TypeError):
            return False
    return data is None


def _error_under_nulled_parent(ours: Answer, theirs: Answer, query: str, _: World) -> bool:
    """One gateway also reports a subgraph's field error whose parent another error nulled
    (its fetches differ: one fetch that met both errors, or a later fetch never made)."""
    a, b = normalise(ours), normalise(theirs)
    if a.data != b.data or a.error_paths == b.error_paths:
        return False
    more, fewer = (ours, b) if set(b.error_paths) < set(a.error_paths) else (theirs, a)
    if not set(fewer.error_paths) < set(normalise(more).error_paths):
        return False
    extra = [
        e for e in _errors(more) if ".".join(map(str, e.get("path") or [])) not in fewer.error_paths
    ]
    return all(
        e.get("extensions", {}).get("serviceName") and _under_null(a.data, e.get("path") or [])
        for e in extra
    )


def _aliases(query: str) -> set[str]:
    """Aliases that differ from their field's name."""
    found: set[str] = set()

    class Aliases(Visitor):
        def enter_field(self, node: FieldNode, *_: Any) -> None:
            if node.alias and node.alias.value != node.name.value:
                found.add(node.alias.value)

    visit(parse(query), Aliases())
    return found


def _planned_names(world: World) -> set[str]:
    """Field names a plan selects on its own: keys, @requires inputs, __typename."""
    names = {"__typename"}
    for found in re.findall(r'(?:key|requires): "([^"]*)"', world.supergraph):
        names.update(re.findall(r"[_A-Za-z]\w*", re.sub(r"\([^)]*\)", "", found)))
    return names


def _alias_collides_with_planned_field(ours: Answer, theirs: Answer, query: str, w: World) -> bool:
    return bool(_aliases(query) & _planned_names(w))


def _requires_arguments_confused(ours: Answer, theirs: Answer, query: str, w: World) -> bool:
    """The query selects a field whose @requires takes another field with arguments, and
    that other field itself; or one whose @requires takes a field without arguments, and
    that field with arguments."""
    pairs = re.findall(r'^\s*(\w+)\b.*requires: "([^"]*)"', w.supergraph, re.MULTILINE)
    return any(
        re.search(rf"\b{field}\b", query)
        and re.search(rf"\b{needed}\b" if arguments else rf"\b{needed}\(", query)
        for field, inputs in pairs
        for needed, arguments in re.findall(r"(\w+)(\([^)]*\))?", inputs)
    )


def _derived(identity: str, name: str, kind: str, args: dict[str, Any], inputs: Any) -> Any:
    """A nullable scalar with @requires `inputs` as the generic subgraph answers it (None for
    its null or error)."""
    key = (identity, name, json.dumps(args, sort_keys=True), json.dumps(inputs, sort_keys=True))
    if data.raises(key) or data.is_null(key, False):
        return None
    return data.scalar(kind, key)


def _cost_and_label_right(answer: Answer) -> bool:
    """Every Item answered has the cost computed from its price(discount: 5) and the label
    from its price (discount 0), a null where that input or the field itself failed."""
    items: list[dict[str, Any]] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if str(value.get("id", "")).startswith("Item-"):
                items.append(value)
            for inner in value.values():
                walk(inner)
        elif isinstance(value, list):
            for inner in value:
                walk(inner)

    def price(identity: str, discount: int) -> Any:
        key = (identity, "price", json.dumps({"discount": discount}))
        if data.raises(key) or data.is_null(key, True):
            return None
        return data.scalar("Int", key)

    def right(identity: str, name: str, kind: str, args: dict[str, Any], discount: int) -> Any:
        needed = price(identity, discount)
        return None if needed is None else _derived(identity, name, kind, args, {"price": needed})

    walk(_data(answer))
    return bool(items) and all(
        item["cost"] == right(item["id"], "cost", "Int", {}, 5)
        and item["label"] == right(item["id"], "label", "String", {"lang": "en"}, 0)
        for item in items
    )


APOLLO_WRONG: tuple[Known, ...] = (
    Known(
        "alias shadowing a field the plan adds",
        "An alias equal to a key field or to __typename, on a field of another type, makes Apollo "
        "Gateway read the aliased value where it expects its own key or __typename selection: "
        "it fails the whole request (400, INTERNAL_SERVER_ERROR 'Invalid non-object value'). "
        "The aliases are valid GraphQL; the router answers them.",
        _apollo_fails_on_shadowing_alias,
        "commerce",
        "{ products { sku: warehouse { id } shippingEstimate } }",
        router_right=lambda a: a.status == 200 and "sku" in _data(a)["products"][0],
    ),
    Known(
        "@requires with arguments merged into one fetch",
        "Two fields requiring the same external field with different arguments (Item.cost needs "
        "price(discount: 5), Item.label needs price) make Apollo Gateway ask the owning subgraph "
        "for both without aliases: the subgraph refuses the fetch ('Fields price conflict') and "
        "Apollo loses every field of it. The router aliases the inputs and answers.",
        _apollo_merges_differing_arguments,
        "chain",
        "{ items { label @include(if: false) cost } }",
        router_right=lambda a: _data(a) == {"items": [{"cost": 77}, None, {"cost": 77}]},
    ),
    Known(
        "@requires of one field with and without arguments fed one value",
        "Item.cost requires price(discount: 5), Item.label requires price: with both asked, "
        "Apollo Gateway sends one `price` in the representation of one fetch, so one of the two "
        "is computed from the other's price (Item-2's cost 4 instead of 83). The router sends "
        "each field its own price, in separate fetches.",
        _apollo_merges_differing_arguments,
        "chain",
        "{ orders { lines { item { id cost label } } } }",
        router_right=_cost_and_label_right,
    ),
    Known(
        "@requires input taken from the client's field with other arguments",
        "Item.cost requires price(discount: 5) (11 for Item-0, so cost is 77); when the client "
        "also selects `price` (discount 0, 54), Apollo Gateway sends the client's price as the "
        "@requires input and answers cost 78. The router keeps the two apart.",
        _requires_arguments_confused,
        "chain",
        "{ items { price cost } }",
        router_right=lambda a: _data(a)["items"][0] == {"price": 54, "cost": 77},
    ),
    Known(
        "client's field with arguments taken for a @requires input without",
        "Item.label requires price (discount 0); when the client also selects "
        "price(discount: 1) (20 for Item-4), Apollo Gateway answers the client's field with "
        "the @requires input's value (43). The router keeps the two apart.",
        _requires_arguments_confused,
        "chain",
        '{ searchItems(filter: {name: "x"}) { label price(discount: 1) } }',
        router_right=lambda a: _data(a)["searchItems"][0]["price"] == 20,
    ),
    Known(
        "error paths from entity batches",
        "An error inside an `_entities` fetch is reported by Apollo Gateway at the index of the "
        "representation in the batch, not at the client's list index it came from; the router "
        "maps it back to the client's path.",
        _apollo_batch_index_in_error_path,
        "media",
        '{ search(term: "y") { ... on Book { averageOf score similar { title } } } }',
        router_right=lambda a: [e["path"] for e in _errors(a)] == [["search", 2, "similar"]],
    ),
    Known(
        "Apollo nulls the whole data",
        "With a nullable field's error under a fragment on an @interfaceObject type and a sibling "
        "selection of the same field under @include(if: $false), Apollo Gateway answers "
        "data: null although the error's field is nullable; the router keeps the data.",
        _apollo_nulls_all_data,
        "media",
        "query Q($v0: Int, $v1: Boolean!, $v2: Int, $v3: Boolean!, $v4: Boolean!) { media { title "
        "averageOf(last: $v0) ...F2 @skip(if: $v4) __typename } }\n"
        "fragment F0 on Person { name }\nfragment F1 on Person { a: id }\n"
        "fragment F2 on Book { ... on Media { a: score __typename similar @include(if: $v3) "
        "{ title @skip(if: false) } similar { averageOf(last: $v2) } } author { id ...F1 "
        "name: name name } pages: author { id @skip(if: $v1) name: name __typename name ...F0 } }",
        {"v0": 2, "v1": False, "v2": 0, "v3": False, "v4": False},
        router_right=lambda a: _data(a) is not None and _data(a)["media"][0]["similar"] is None,
    ),
    Known(
        "fields dropped under fragments on @interfaceObject types",
        "`... on Book { ... on Media { __typename score } title }` where Media is an entity "
        "interface that another subgraph extends with @interfaceObject: Apollo Gateway answers "
        "empty objects for every Book, dropping title and score; the router answers them. "
        "Seen too: a topRated Movie answered null, without an error, under a named fragment.",
        _apollo_drops_fields,
        "media",
        "{ media { ... on Book { ... on Media { __typename score } title } } }",
        router_right=lambda a: _data(a)["media"][0]["title"] == "title-380",
    ),
    Known(
        "a skipped @requires field drops its fetch's other fields",
        "`shippingEstimate @skip(if: true)` (it @requires weight) makes Apollo Gateway skip the "
        "whole inventory fetch, so inStock (non-null) and warehouse, which the client did ask "
        "for, come back null; the router skips only shippingEstimate.",
        _skipped_requires_field,
        "commerce",
        "{ topProduct { warehouse { name } shippingEstimate @include(if: false) } }",
        router_right=lambda a: _data(a) == {"topProduct": {"warehouse": {"name": "name-516"}}},
    ),
)

# Both gateways right: the answers differ where the spec leaves a choice.
BOTH_RIGHT: tuple[Known, ...] = (
    Known(
        "error under another response name of the same field",
        "`a: quantity` and (in a fragment) `quantity` on one object, the subgraph's non-null error names the "
        "response name it completed first, which depends on the order of the fetch's "
        "selections; both paths point at the same field.",
        _error_under_other_response_name,
        "chain",
        "{ orders { lines { a: quantity ...F0 } } } fragment F0 on Line { quantity item { upc } }",
    ),
)

BOTH_RIGHT += (
    Known(
        "@shareable root field taken from another subgraph",
        "Query.vendorCount is served by items and by orders; the router asks items, Apollo "
        "asks orders (with the fetch it makes there anyway). Either is right; with items down "
        "the router's vendorCount is null and Apollo's is not (and the other way round).",
        _shareable_root_elsewhere,
        "chain",
        "{ vendorCount orders { id } }",
        down="items",
    ),
)

BOTH_RIGHT += (
    Known(
        "subgraph error under a parent another error nulled",
        "Book-1's similar and averageOf (non-null) both fail in one ratings fetch; averageOf's "
        "null propagates up to data. The router reports both subgraph errors, Apollo only the "
        "one whose null propagated; the spec has every field error that occurred reported, "
        "and a client loses nothing either way. The other way round too: in zoo, Apollo "
        "fetches onDuty { name greeting } at once (care @provides the name greeting "
        "@requires) and reports greeting's error under the nulled keeper as well.",
        _error_under_nulled_parent,
        "media",
        "{ media { similar { similar { score } } averageOf(last: 1) } }",
    ),
)


APOLLO_WRONG += (
    Known(
        "alias equal to a key field on another field",
        "`sku: name` beside a field another subgraph resolves by the key `sku`: Apollo answers "
        "the key's value where the client asked for `name`; the router fetches its own copy of "
        "the key under an internal name and answers `name`.",
        _alias_collides_with_planned_field,
        "commerce",
        "{ topProduct { sku: name inStock } }",
        router_right=lambda a: _data(a) == {"topProduct": {"inStock": True, "sku": "name-155"}},
    ),
    Known(
        "progressive override labels ignored",
        'Account.tier moved to activity with @override(from: "profiles", label: "percent(100)"). '
        "Apollo Gateway passes no override labels to its query planner, which then takes every "
        "label as off: it asks profiles, which does not hold Account-4 (tier null). Apollo "
        "Router draws percent(N) labels per request (percent(100): always on), as the router "
        "does: it asks activity, which holds Account-4 (tier 91).",
        _labelled_override,
        "accounts",
        "{ invoices { account { tier } } }",
        router_right=lambda a: (
            _data(a) == {"invoices": [{"account": {"tier": t}} for t in (24, 24, 91)]}
        ),
    ),
)

APOLLO_WRONG += (
    Known(
        "a failed fetch's error without a path",
        "With a subgraph down, Apollo Gateway reports each failed fetch in one error without a "
        "path, although the spec asks for the path of the field an error concerns; the router "
        "puts it on each field the fetch would have filled, here each item's vendor country.",
        _failed_fetch_without_path,
        "chain",
        "{ items { vendor { country } } }",
        router_right=_failed_items_vendor_fetch,
        down="vendors",
    ),
)

KNOWN = (*APOLLO_WRONG, *BOTH_RIGHT)


def classify(ours: Answer, theirs: Answer, query: str, world: World) -> str | None:
    """The name of the known class this difference belongs to, or None."""
    return next((k.name for k in KNOWN if k.matches(ours, theirs, query, world)), None)
