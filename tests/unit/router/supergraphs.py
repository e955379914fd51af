"""Supergraph SDL for tests: Apollo composition's fixed header plus the types a test writes.

The types part of each test is pasted from `@apollo/composition` output for the subgraphs the
test describes; only the boilerplate (link/join definitions, graph enum) is generated here.
"""

import re
from pathlib import Path

_HEADER = """schema
  @link(url: "https://specs.apollo.dev/link/v1.0")
  @link(url: "https://specs.apollo.dev/join/v0.3", for: EXECUTION)
{
  query: Query
%(roots)s}

directive @join__enumValue(graph: join__Graph!) repeatable on ENUM_VALUE

directive @join__field(graph: join__Graph, requires: join__FieldSet, provides: join__FieldSet, \
type: String, external: Boolean, override: String, usedOverridden: Boolean) repeatable on \
FIELD_DEFINITION | INPUT_FIELD_DEFINITION

directive @join__graph(name: String!, url: String!) on ENUM_VALUE

directive @join__implements(graph: join__Graph!, interface: String!) repeatable on \
OBJECT | INTERFACE

directive @join__type(graph: join__Graph!, key: join__FieldSet, extension: Boolean! = false, \
resolvable: Boolean! = true, isInterfaceObject: Boolean! = false) repeatable on OBJECT | \
INTERFACE | UNION | ENUM | INPUT_OBJECT | SCALAR

directive @join__unionMember(graph: join__Graph!, member: String!) repeatable on UNION

directive @link(url: String, as: String, for: link__Purpose, import: [link__Import]) \
repeatable on SCHEMA

scalar join__FieldSet

enum join__Graph {
%(graphs)s
}

scalar link__Import

enum link__Purpose {
  SECURITY
  EXECUTION
}
"""


INACCESSIBLE_LINK = '  @link(url: "https://specs.apollo.dev/inaccessible/v0.2", for: SECURITY)'
INACCESSIBLE_DIRECTIVE = (
    "directive @inaccessible on FIELD_DEFINITION | OBJECT | INTERFACE | UNION | "
    "ARGUMENT_DEFINITION | SCALAR | ENUM | ENUM_VALUE | INPUT_OBJECT | INPUT_FIELD_DEFINITION"
)


def supergraph(
    graphs: dict[str, str],
    types: str,
    *,
    mutation: bool = False,
    inaccessible: bool = False,
    extra_links: str = "",
) -> str:
    """`graphs` maps subgraph names to URLs; `types` is composition's type section."""
    if inaccessible:
        extra_links = "\n".join(filter(None, [INACCESSIBLE_LINK, extra_links]))
    lines = "\n".join(
        f'  {name.upper()} @join__graph(name: "{name}", url: "{url}")'
        for name, url in graphs.items()
    )
    roots = "  mutation: Mutation\n" if mutation else ""
    header = _HEADER % {"graphs": lines, "roots": roots}
    if extra_links:
        header = header.replace("for: EXECUTION)\n", f"for: EXECUTION)\n{extra_links}\n", 1)
    if inaccessible:
        header = header.replace(
            "directive @join__enumValue",
            f"{INACCESSIBLE_DIRECTIVE}\n\ndirective @join__enumValue",
            1,
        )
    return header + "\n" + types


def local_graphs(*names: str) -> dict[str, str]:
    return {name: f"http://{name}.local/graphql" for name in names}


_COMPOSED = Path(__file__).parents[1] / "composition" / "fixtures"


def composed(fixture: str) -> str:
    """The supergraph a composition fixture holds (Apollo's output for its subgraphs), with
    each subgraph at http://<name>.local/graphql, where the router tests' clients find it."""
    sdl = (_COMPOSED / fixture / "supergraph.graphql").read_text()
    return re.sub(r'url: "http://(\w+)[^"]*"', r'url: "http://\1.local/graphql"', sdl)
