"""GraphiQL in a browser with no network: the router's and a subgraph's page load from the
project's own files, run a query with the headers pane's token, and stream a subscription
whose socket carries that token in connection_init."""

from common.settings import Settings
from tests.accounts import Account, register
from tests.browser.chromium import Page
from tests.browser.graphiql import open_graphiql, response_with, run, set_headers
from tests.integration.subscriptions.test_live_notifications import live, remind
from tests.support import GraphQLClient

REACHABLE = "fetch({url!r}, {{mode: 'no-cors'}}).then(() => true, () => false)"


async def test_the_browser_reaches_loopback_and_nothing_else(page: Page, router_url: str) -> None:
    assert await page.evaluate(REACHABLE.format(url=f"{router_url}/health")) is True
    assert await page.evaluate(REACHABLE.format(url="https://unpkg.com/react@18")) is False


async def test_the_routers_graphiql_runs_a_query_with_the_headers_token(
    page: Page, router_url: str, graph: GraphQLClient
) -> None:
    learner = await register(graph, "Grace Fiql")
    await open_graphiql(page, f"{router_url}/graphql")
    await set_headers(page, {"Authorization": f"Bearer {learner.access_token}"})
    await run(page, "{ me { email name } }")
    shown = await response_with(page, learner.email)
    assert "Grace Fiql" in shown


async def test_the_routers_graphiql_streams_a_subscription_to_the_headers_user(
    page: Page, router_url: str, graph: GraphQLClient, admin: Account, migrated: Settings
) -> None:
    learner = await register(graph, "Sue Scriber")
    await open_graphiql(page, f"{router_url}/graphql")
    await set_headers(page, {"Authorization": f"Bearer {learner.access_token}"})
    await run(page, "subscription { notificationAdded(category: REMINDER) { title } }")
    await live(migrated, learner)  # the token reached the subgraph: it streams their channel
    await remind(graph, admin, learner, title="seen in GraphiQL")
    await response_with(page, "seen in GraphiQL")


async def test_a_subgraphs_graphiql_runs_a_query(
    page: Page, subgraph_urls: dict[str, str], graph: GraphQLClient
) -> None:
    learner = await register(graph, "Sam Subgraph")
    await open_graphiql(page, f"{subgraph_urls['users']}/graphql")
    await set_headers(page, {"Authorization": f"Bearer {learner.access_token}"})
    await run(page, "{ me { email } }")
    await response_with(page, learner.email)
