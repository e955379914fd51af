"""Operation names as metric labels stay bounded whatever clients send."""

from router.metrics import ANONYMOUS, MAX_NAME_LENGTH, OTHER, OperationNames


def test_the_first_names_keep_their_label_the_rest_share_one() -> None:
    names = OperationNames(cap=2)
    assert [names.label(n) for n in ("A", "B", "C", "A", None, "")] == [
        "A",
        "B",
        OTHER,
        "A",
        ANONYMOUS,
        ANONYMOUS,
    ]


def test_a_long_name_is_not_a_label() -> None:
    names = OperationNames(cap=10)
    assert names.label("N" * (MAX_NAME_LENGTH + 1)) == OTHER
    assert names.label("N" * MAX_NAME_LENGTH) == "N" * MAX_NAME_LENGTH
