"""`headers:`, in Apollo Router's shape: rules applied, in order, to the headers of each
subgraph request (`all`, then `subgraphs.<name>`)."""

from pydantic import model_validator

from router.config.base import Section


class Propagate(Section):
    named: str | None = None
    matching: str | None = None
    rename: str | None = None
    default: str | None = None

    @model_validator(mode="after")
    def _one_selector(self) -> "Propagate":
        if (self.named is None) == (self.matching is None):
            raise ValueError("propagate takes either `named` or `matching`")
        if self.matching is not None and (self.rename or self.default):
            raise ValueError("`rename` and `default` go with `named`, not `matching`")
        return self


class Insert(Section):
    name: str
    value: str


class Remove(Section):
    named: str | None = None
    matching: str | None = None

    @model_validator(mode="after")
    def _one_selector(self) -> "Remove":
        if (self.named is None) == (self.matching is None):
            raise ValueError("remove takes either `named` or `matching`")
        return self


class PropagateRule(Section):
    propagate: Propagate


class InsertRule(Section):
    insert: Insert


class RemoveRule(Section):
    remove: Remove


Rule = PropagateRule | InsertRule | RemoveRule


class HeaderRules(Section):
    request: tuple[Rule, ...] = ()


class HeadersSection(Section):
    all: HeaderRules = HeaderRules()
    subgraphs: dict[str, HeaderRules] = {}
