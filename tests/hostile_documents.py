"""GraphQL documents built to cost a server far more than their size: fragment bombs and
documents that make validation compare many fields pairwise. Shared by the tests and bench/."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Bomb:
    """Fragments F0..F{depth-1} on `type_name`, each spreading the next `fan` times, the last
    selecting `leaf`; spread at the root, or under `field` when given."""

    depth: int
    fan: int
    type_name: str = "Query"
    leaf: str = "__typename"
    field: str | None = None

    @property
    def query(self) -> str:
        fragments = []
        for level in range(self.depth):
            last = level == self.depth - 1
            body = self.leaf if last else " ".join([f"...F{level + 1}"] * self.fan)
            fragments.append(f"fragment F{level} on {self.type_name} {{ {body} }}")
        spread = "{ ...F0 }"
        operation = spread if self.field is None else f"{{ {self.field} {spread} }}"
        return " ".join([operation, *fragments])

    @property
    def expanded_leaves(self) -> int:
        return int(self.fan ** (self.depth - 1))

    @property
    def expanded_selections(self) -> int:
        """Fields, spreads and leaves met walking it with every spread expanded."""
        spreads = sum(int(self.fan**level) for level in range(self.depth))
        return spreads + self.expanded_leaves + (self.field is not None)


def bomb_family(
    type_name: str = "Query", leaf: str = "__typename", field: str | None = None
) -> list[Bomb]:
    """Depth 5 to 12 and fan-out 2 to 10, as attackers vary them."""
    return [Bomb(depth, fan, type_name, leaf, field) for depth in (5, 8, 12) for fan in (2, 5, 10)]


def repeated_fields(field: str, copies: int) -> str:
    """One selection repeated: graphql-core's overlapping-fields rule compares every pair."""
    return "{ " + " ".join([field] * copies) + " }"


def sibling_fragments(type_name: str, leaf: str, count: int) -> str:
    """Many fragments spread side by side: compared pairwise by the same rule."""
    spreads = " ".join(f"...A{index}" for index in range(count))
    fragments = " ".join(f"fragment A{index} on {type_name} {{ {leaf} }}" for index in range(count))
    return f"{{ {spreads} }} {fragments}"
