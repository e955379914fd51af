"""Administrators: listing users with filters and pages, roles, and deleting accounts."""

from __future__ import annotations

from tests.accounts import Account, login, register
from tests.support import GraphQLClient, error_codes

USERS = """
query($first: Int, $after: String, $filter: UserFilterInput) {
  users(first: $first, after: $after, filter: $filter) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage endCursor }
    edges { cursor node { id name email roles } }
  }
}
"""
SET_ROLES = """
mutation($input: SetUserRolesInput!) { setUserRoles(input: $input) { user { id roles } } }
"""
DELETE = "mutation($input: DeleteUserInput!) { deleteUser(input: $input) { deletedUserId } }"


async def test_only_admins_list_users(users: GraphQLClient, learner: Account) -> None:
    body = await users.execute(USERS, token=learner.access_token)
    assert error_codes(body) == ["FORBIDDEN"]


async def test_admin_pages_through_filtered_users(users: GraphQLClient, admin: Account) -> None:
    tag = "Pagination Probe"
    created = {(await register(users, name=f"{tag} {index}")).id for index in range(5)}
    seen: list[str] = []
    after = None
    for _ in range(5):
        variables = {"first": 2, "after": after, "filter": {"search": tag}}
        page = (await users.data(USERS, variables, token=admin.access_token))["users"]
        assert page["totalCount"] == 5
        seen += [edge["node"]["id"] for edge in page["edges"]]
        after = page["pageInfo"]["endCursor"]
        if not page["pageInfo"]["hasNextPage"]:
            break
    assert len(seen) == 5
    assert set(seen) == created


async def test_admin_filters_by_role(users: GraphQLClient, admin: Account) -> None:
    body = await users.data(
        USERS, {"first": 100, "filter": {"role": "ADMIN"}}, token=admin.access_token
    )
    roles = [edge["node"]["roles"] for edge in body["users"]["edges"]]
    assert roles
    assert all("ADMIN" in r for r in roles)


async def test_search_with_like_wildcards_is_literal(users: GraphQLClient, admin: Account) -> None:
    body = await users.data(
        USERS, {"first": 5, "filter": {"search": "%_%"}}, token=admin.access_token
    )
    assert body["users"]["totalCount"] == 0


async def test_bad_page_arguments_are_explained(users: GraphQLClient, admin: Account) -> None:
    too_many = await users.execute(USERS, {"first": 1000}, token=admin.access_token)
    assert error_codes(too_many) == ["BAD_USER_INPUT"]
    assert "between 0 and 100" in too_many["errors"][0]["message"]
    bad_cursor = await users.execute(USERS, {"after": "not-a-cursor"}, token=admin.access_token)
    assert error_codes(bad_cursor) == ["BAD_USER_INPUT"]


async def test_admin_grants_instructor_role_and_students_cannot(
    users: GraphQLClient, admin: Account, learner: Account, other_learner: Account
) -> None:
    escalate = await users.execute(
        SET_ROLES,
        {"input": {"userId": learner.id, "roles": ["ADMIN"]}},
        token=learner.access_token,
    )
    assert error_codes(escalate) == ["FORBIDDEN"]
    granted = await users.data(
        SET_ROLES,
        {"input": {"userId": other_learner.id, "roles": ["STUDENT", "INSTRUCTOR"]}},
        token=admin.access_token,
    )
    assert granted["setUserRoles"]["user"]["roles"] == ["INSTRUCTOR", "STUDENT"]
    fresh = (await login(users, other_learner.email))["data"]["login"]["accessToken"]
    me = await users.data("{ me { roles } }", token=fresh)
    assert me["me"]["roles"] == ["INSTRUCTOR", "STUDENT"]


async def test_admin_cannot_remove_their_own_admin_role(
    users: GraphQLClient, admin: Account
) -> None:
    body = await users.execute(
        SET_ROLES, {"input": {"userId": admin.id, "roles": ["STUDENT"]}}, token=admin.access_token
    )
    assert error_codes(body) == ["BAD_USER_INPUT"]


async def test_delete_own_account_then_its_tokens_stop_working(
    users: GraphQLClient, learner: Account
) -> None:
    body = await users.data(DELETE, {"input": {}}, token=learner.access_token)
    assert body["deleteUser"]["deletedUserId"] == learner.id
    me = await users.execute("{ me { id } }", token=learner.access_token)
    assert error_codes(me) == ["UNAUTHENTICATED"]
    assert error_codes(await login(users, learner.email)) == ["UNAUTHENTICATED"]
    refresh = await users.execute(
        "mutation($t: String!) { refreshToken(input: {refreshToken: $t}) { accessToken } }",
        {"t": learner.refresh_token},
    )
    assert error_codes(refresh) == ["UNAUTHENTICATED"]


async def test_deleting_someone_else_needs_admin(
    users: GraphQLClient, learner: Account, other_learner: Account, admin: Account
) -> None:
    body = await users.execute(
        DELETE, {"input": {"userId": other_learner.id}}, token=learner.access_token
    )
    assert error_codes(body) == ["FORBIDDEN"]
    assert "errors" not in await login(users, other_learner.email)
    deleted = await users.data(
        DELETE, {"input": {"userId": other_learner.id}}, token=admin.access_token
    )
    assert deleted["deleteUser"]["deletedUserId"] == other_learner.id
    gone = await users.execute(
        DELETE, {"input": {"userId": other_learner.id}}, token=admin.access_token
    )
    assert error_codes(gone) == ["NOT_FOUND"]
