"""Field sets (`@key(fields:)`, `@requires`, `@provides`, `join__FieldSet`): text to selections."""

from functools import lru_cache

from graphql import DocumentNode, OperationDefinitionNode, SelectionSetNode, parse


@lru_cache(maxsize=4096)
def parse_field_set(text: str) -> SelectionSetNode:
    """A field set, a selection set written without its braces; GraphQLSyntaxError if invalid."""
    document = parse("{" + text + "}", no_location=True)
    operation = document.definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    return operation.selection_set


def parse_context_selection(text: str) -> DocumentNode:
    """The selection a context argument reads (`@fromContext(field: "$name <selection>")`,
    `join__ContextArgument.selection`): a selection set whose braces may be left out."""
    body = text.strip()
    return parse(body if body.startswith("{") else "{" + body + "}", no_location=True)
