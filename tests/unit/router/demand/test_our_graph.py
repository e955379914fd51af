"""Demand control on the platform's own supergraph: the subgraphs' `@listSize`/`@cost` reach
it, and the pages the platform shows cost well under the configured maximum."""

from pathlib import Path

import pytest
from graphql import OperationDefinitionNode, parse, validate

from router.config import load_config
from router.config.demand_control import DemandControlSection
from router.gateway.demand_estimate import compile_cost
from router.supergraph import Supergraph, load_supergraph

ROOT = Path(__file__).parents[4]
SUPERGRAPH = ROOT / "schema" / "supergraph.graphql"
COURSE_PAGE = """
query CoursePage($slug: String!) {
  course(slug: $slug) {
    id title description descriptionHtml level tags language enrollmentCount viewerCanEdit
    instructor { id name }
    coInstructors { id name }
    category { id name }
    modules { id title lessons { id title } }
    assessments { id title }
  }
}
"""
CATALOGUE = """
query Catalogue($first: Int, $after: String) {
  courses(first: $first, after: $after) {
    totalCount
    pageInfo { endCursor hasNextPage }
    edges { cursor node { id title slug instructor { name } category { name } enrollmentCount } }
  }
}
"""
DASHBOARD = """
query Dashboard {
  me { id name enrollments { edges { node { id progress course { title modules { lessons { id } } } } } } }
}
"""


@pytest.fixture(scope="module")
def supergraph() -> Supergraph:
    return load_supergraph(SUPERGRAPH.read_text())


def _estimate(supergraph: Supergraph, query: str, variables: dict[str, object]) -> float:
    document = parse(query)
    assert validate(supergraph.api_schema, document) == []
    operation = document.definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    estimated = DemandControlSection().strategy.static_estimated
    formula = compile_cost(
        supergraph.api_schema, supergraph.costs, estimated.list_size, document, operation
    )
    return formula.estimate(variables)


def test_connections_are_sized_by_first(supergraph: Supergraph) -> None:
    connections = [
        ("Query", "courses"),
        ("Query", "searchCourses"),
        ("Course", "enrollments"),
        ("User", "enrollments"),
        ("User", "submissions"),
        ("Query", "notifications"),
        ("Query", "users"),
    ]
    for key in connections:
        list_size = supergraph.costs.list_sizes[key]
        assert list_size.slicing_arguments == ("first",), key
        assert list_size.sized_fields == ("edges",), key
    assert supergraph.costs.fields[("Query", "searchCourses")] == 10
    assert supergraph.costs.fields[("Query", "courseAnalytics")] == 25


def test_pages_cost_well_under_the_maximum(supergraph: Supergraph) -> None:
    """Under half the maximum the platform's router.yaml enforces, which refuses the whole
    catalogue with every module and lesson."""
    platform = load_config(ROOT / "router.yaml", environ={}).demand_control
    assert (platform.enabled, platform.mode) == (True, "enforce")
    maximum = platform.strategy.static_estimated.max
    course_page = _estimate(supergraph, COURSE_PAGE, {"slug": "intro"})
    default_catalogue = _estimate(supergraph, CATALOGUE, {})
    largest_catalogue = _estimate(supergraph, CATALOGUE, {"first": 100})
    dashboard = _estimate(supergraph, DASHBOARD, {})
    assert default_catalogue < largest_catalogue  # the page size counts
    assert max(course_page, largest_catalogue, dashboard) < maximum / 2
