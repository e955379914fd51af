"""Rendering notification templates: Jinja2 in its immutable sandbox, strict about variables.

Templates are written by administrators and stored, so they are treated as untrusted code:
the sandbox refuses attribute tricks such as ``''.__class__.__mro__`` and caps ``range``,
and output stops at MAX_OUTPUT characters (a loop that prints nothing is not bounded: the
residual risk of an administrator's template);
a variable the notification does not provide is an error, never a blank; values are
inserted as data and never compiled, so ``{{ 7*7 }}`` inside a value stays literal. HTML
templates escape every value.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any, Final

from jinja2 import StrictUndefined, TemplateSyntaxError, UndefinedError, meta, nodes
from jinja2.exceptions import SecurityError, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from common.errors import BadUserInput

MAX_TEMPLATE: Final = 20_000
MAX_OUTPUT: Final = 100_000


class TemplateProblem(BadUserInput):
    """A template that cannot be used: the message says why and where."""


def _environment(html: bool) -> ImmutableSandboxedEnvironment:
    return ImmutableSandboxedEnvironment(
        undefined=StrictUndefined, autoescape=html, auto_reload=False, cache_size=0
    )


_TEXT: Final = _environment(html=False)
_HTML: Final = _environment(html=True)


def _parse(source: str) -> nodes.Template:
    if len(source) > MAX_TEMPLATE:
        raise TemplateProblem(f"A template is at most {MAX_TEMPLATE} characters.", field="body")
    try:
        return _TEXT.parse(source)
    except TemplateSyntaxError as error:
        raise TemplateProblem(
            f"Template syntax error on line {error.lineno}: {error.message}", field="body"
        ) from None


def check_template(source: str) -> frozenset[str]:
    """The variables a template uses; TemplateProblem when it does not parse."""
    return frozenset(meta.find_undeclared_variables(_parse(source)))


@lru_cache(maxsize=512)
def _compiled(source: str, html: bool) -> Any:
    _parse(source)
    return (_HTML if html else _TEXT).from_string(source)


def render(source: str, variables: Mapping[str, Any], *, html: bool = False) -> str:
    template = _compiled(source, html)
    chunks: list[str] = []
    size = 0
    try:
        for chunk in template.generate(**variables):  # stops as soon as the output is too big
            size += len(chunk)
            if size > MAX_OUTPUT:
                raise TemplateProblem(
                    f"The rendered text is longer than {MAX_OUTPUT} characters.", field="body"
                )
            chunks.append(chunk)
    except UndefinedError as error:
        missing = str(error.message or "").split("'")
        name = missing[1] if len(missing) > 2 else "a variable"
        raise TemplateProblem(
            f"The template uses {{{{ {name} }}}}, which this notification does not provide.",
            field="data",
        ) from None
    except SecurityError:
        raise TemplateProblem("The template tried an unsafe operation.", field="body") from None
    except (TemplateError, ArithmeticError, TypeError, ValueError, OverflowError) as error:
        raise TemplateProblem(f"The template failed: {error}.", field="body") from None
    return "".join(chunks)
