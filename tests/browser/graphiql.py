"""GraphiQL as a person uses it: open the page, type a query (and headers), press run, read
the response pane."""

from __future__ import annotations

import json

from tests.browser.chromium import Page

EDITOR = "document.querySelector({selector})?.CodeMirror"
QUERY_EDITOR = EDITOR.format(selector=json.dumps(".graphiql-query-editor .CodeMirror"))
RESPONSE = EDITOR.format(selector=json.dumps(".graphiql-response .CodeMirror"))
HEADERS_EDITOR = EDITOR.format(
    selector=json.dumps(".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror")
)


async def open_graphiql(page: Page, endpoint: str) -> None:
    """Open GraphiQL at a GraphQL endpoint, ready once its editor and schema are there."""
    await page.open(endpoint)
    await page.wait_for(f"{QUERY_EDITOR} !== undefined", "GraphiQL's query editor")
    await page.wait_for(
        "document.querySelector('.graphiql-execute-button') !== null", "the run button"
    )


async def set_headers(page: Page, headers: dict[str, str]) -> None:
    await page.evaluate(
        "[...document.querySelectorAll('.graphiql-editor-tools button')]"
        ".find((button) => button.textContent.trim() === 'Headers').click()"
    )
    await page.wait_for(f"{HEADERS_EDITOR} !== undefined", "the headers editor")
    await page.evaluate(f"{HEADERS_EDITOR}.setValue({json.dumps(json.dumps(headers))})")


async def run(page: Page, query: str) -> None:
    """Type the query and press run once GraphiQL has taken it in (it parses the editor's
    text, and stores it, 100 ms after the last change; run before that, it would still
    take a subscription for the previous document's kind of operation)."""
    await page.evaluate(f"{QUERY_EDITOR}.setValue({json.dumps(query)})")
    await page.wait_for(
        f"localStorage.getItem('graphiql:query') === {json.dumps(query)}", "the query taken in"
    )
    await page.evaluate("document.querySelector('.graphiql-execute-button').click()")


async def response_with(page: Page, text: str) -> str:
    """The response pane once it shows ``text``."""
    shown: str = await page.wait_for(
        f"(({RESPONSE})?.getValue() ?? '').includes({json.dumps(text)}) && {RESPONSE}.getValue()",
        f"a response showing {text!r}",
    )
    return shown
