from router.execution.errors import subgraph_error
from router.planning.selection import ALIAS_MARKER
from router.supergraph.requires import parse_requires


def _requires_alias() -> str:
    field = parse_requires("price(discount: 5)").selections[0]
    alias = getattr(field, "alias", None)
    assert alias is not None
    return str(alias.value)


def test_a_subgraph_error_path_names_fields_not_the_routers_aliases() -> None:
    raw = {"message": "price failed", "path": ["_entities", 0, "price"]}
    path: list[str | int] = ["items", 2, _requires_alias(), f"name{ALIAS_MARKER}1"]
    error = subgraph_error(raw, "items", path)
    assert error["path"] == ["items", 2, "price", "name"]
    assert error["extensions"] == {"code": "SUBGRAPH_ERROR", "serviceName": "items"}
