"""`headers:`, in Apollo Router's shape: rules applied, in order, to the headers of each
subgraph request (`all`, then `subgraphs.<name>`). Names are matched in any case; a
`matching` pattern is a regular expression searched in the lower-case header name."""

import re
from typing import Annotated

from pydantic import AfterValidator, Field, model_validator

from router.config.base import Section

_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


def _header_name(name: str) -> str:
    if not _TOKEN.match(name):
        raise ValueError(f"{name!r} is not an HTTP header name")
    return name.lower()


def _header_value(value: str) -> str:
    if any(char in value for char in "\r\n\0"):
        raise ValueError("a header value cannot hold a line break or NUL")
    return value


def _pattern(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as error:
        raise ValueError(f"{pattern!r} is not a regular expression: {error}") from None
    return pattern


HeaderName = Annotated[str, AfterValidator(_header_name)]
HeaderValue = Annotated[str, AfterValidator(_header_value)]
Pattern = Annotated[str, AfterValidator(_pattern)]


class Propagate(Section):
    named: HeaderName | None = Field(default=None, description="the client's header of that name")
    matching: Pattern | None = Field(
        default=None, description="the client's headers whose name the expression matches"
    )
    rename: HeaderName | None = Field(default=None, description="sent under this name")
    default: HeaderValue | None = Field(
        default=None, description="sent when the client did not send the header"
    )

    @model_validator(mode="after")
    def _one_selector(self) -> "Propagate":
        if (self.named is None) == (self.matching is None):
            raise ValueError("propagate takes either `named` or `matching`")
        if self.matching is not None and (self.rename or self.default):
            raise ValueError("`rename` and `default` go with `named`, not `matching`")
        return self


class Insert(Section):
    name: HeaderName = Field(description="a header every request to the subgraph carries")
    value: HeaderValue = Field(description="its value")


class Remove(Section):
    named: HeaderName | None = Field(default=None, description="a header not sent")
    matching: Pattern | None = Field(
        default=None, description="headers not sent: those whose name the expression matches"
    )

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
    request: tuple[Rule, ...] = Field(
        default=(), description="`propagate`, `insert` and `remove` rules, applied in order"
    )


class HeadersSection(Section):
    all: HeaderRules = HeaderRules()
    subgraphs: dict[str, HeaderRules] = {}
