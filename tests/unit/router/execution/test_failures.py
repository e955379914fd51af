"""A failed fetch's errors settled against the completed response."""

from typing import Any

from router.execution.failures import FetchFailure, settle


def _failure(fetch: object, *path: str | int) -> dict[str, Any]:
    error = {"message": "down", "path": list(path), "extensions": {"code": "SUBREQUEST_HTTP_ERROR"}}
    return FetchFailure(error, fetch)


def test_an_error_on_a_field_the_response_lacks_moves_up_to_the_nearest_it_holds() -> None:
    # `indoor` was fetched only as the input of another fetch's field: the client never
    # asked for it, its error sits on the object it would have extended
    fetch = object()
    errors = [_failure(fetch, "keepers", 0, "favourite", "indoor")]
    settle({"keepers": [{"favourite": {"careScore": None}}]}, errors)
    assert [e["path"] for e in errors] == [["keepers", 0, "favourite"]]


def test_a_moved_error_goes_when_one_of_its_fetch_is_there_already() -> None:
    fetch, other = object(), object()
    skipped = _failure(fetch, "accounts", 0, "plan")
    kept = _failure(fetch, "accounts", 0, "balance")
    elsewhere = _failure(other, "orders")  # another fetch's: never a reason to go
    lone = _failure(other, "searchItems")
    errors = [skipped, kept, elsewhere, lone]
    settle({"accounts": [{"balance": None}], "orders": None}, errors)
    assert errors == [kept, elsewhere]
    assert kept["path"] == ["accounts", 0, "balance"]


def test_an_error_below_a_null_stays_and_one_with_nowhere_to_go_loses_its_path() -> None:
    errors = [_failure(object(), "product", "reviews"), _failure(object(), "skipped")]
    settle({"product": None}, errors)
    assert errors[0]["path"] == ["product", "reviews"]
    assert "path" not in errors[1]
