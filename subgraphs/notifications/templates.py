"""Rendering notification templates: Jinja2 in its immutable sandbox, strict about variables.

Templates are written by administrators and stored, so they are treated as untrusted code:

- the sandbox refuses attribute tricks such as ``''.__class__.__mro__`` and caps ``range``;
  ``check_template`` already refuses what can be seen without running the template
  (``_private`` attributes, ``include``/``extends``/``import``, recursive loops);
- a variable the notification does not provide is an error, never a blank;
- values are inserted as data and never compiled, so ``{{ 7*7 }}`` inside a value stays
  literal; HTML templates escape every value;
- work is bounded, not only output: ``*``, ``**``, ``+`` and ``%`` are intercepted, every
  call and filter has its arguments and result measured, ``~`` concatenation is measured,
  all loops of one rendering share a budget of MAX_ITERATIONS items, and recursion ends in
  an error. A value is never allowed to grow past MAX_OUTPUT characters (or items).

What remains is ordinary CPU time within those budgets (a rendering is milliseconds to, at
worst, about a second); isolating rendering in a process with resource limits would be the
next step if templates ever came from people less trusted than administrators.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextvars import ContextVar
from functools import lru_cache, wraps
from typing import Any, Final

from jinja2 import StrictUndefined, TemplateSyntaxError, UndefinedError, meta, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.environment import Template
from jinja2.exceptions import SecurityError, TemplateError
from jinja2.nodes import EvalContext
from jinja2.runtime import Context, markup_join, str_join
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import Namespace
from jinja2.visitor import NodeVisitor

from common.errors import BadUserInput

MAX_TEMPLATE: Final = 20_000
MAX_OUTPUT: Final = 100_000
MAX_ITERATIONS: Final = 100_000  # loop items per rendering, all loops together
MAX_INT_BITS: Final = 4_096
TEMPLATE_CACHE_SIZE: Final = 512

_UNDEFINED_NAME: Final = re.compile(r"^'([^']+)' is undefined$")
_MISSING_ATTRIBUTE: Final = re.compile(r"has no attribute '([^']+)'$")
_PERCENT_SPEC: Final = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?[a-zA-Z%]")
_NUMBER: Final = re.compile(r"\d+")


class TemplateProblem(BadUserInput):
    """A template that cannot be used: the message says why and where."""


class _TooMuch(Exception):
    """A template tried to build a value, or run a loop, past the limits."""


# Items the loops of the rendering in progress have gone through (one list per rendering).
_iterations: ContextVar[list[int]] = ContextVar("template_iterations")


def _size(value: Any, limit: int = MAX_OUTPUT) -> int:
    """Characters plus items in `value`, counted until past `limit` (shared references are
    counted each time they occur, as printing would)."""
    total = 0
    stack = [value]
    while stack and total <= limit:
        item = stack.pop()
        if isinstance(item, str | bytes | range):
            total += len(item) + 1
        elif isinstance(item, Mapping):
            total += len(item) + 1
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            total += len(item) + 1
            stack.extend(item)
        elif isinstance(item, Namespace):
            total += 1
            stack.append(item._Namespace__attrs)
        elif isinstance(item, int) and not isinstance(item, bool):
            if item.bit_length() > MAX_INT_BITS:
                raise _TooMuch
            total += 1
        else:
            total += 1
    return total


def _check(*values: Any) -> None:
    if sum(_size(value) for value in values) > MAX_OUTPUT:
        raise _TooMuch


def _check_widths(args: Iterable[Any]) -> None:
    """Numbers that say how much to make (``center(n)``, ``batch(n, fill)``) stay in bounds."""
    for value in args:
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_OUTPUT:
            raise _TooMuch


def _largest(values: Iterable[Any]) -> int:
    return max((_size(value) for value in values), default=0)


def _check_percent(template: str, arguments: Any) -> None:
    """``template % arguments`` (and the ``format`` filter) would stay within the limit."""
    specs = _PERCENT_SPEC.findall(template)
    widths = 0
    for width, precision in specs:
        if "*" in (width, precision):
            raise _TooMuch
        widths += int(width or 0) + int(precision or 0)
    if isinstance(arguments, Mapping):
        largest = _largest(arguments.values())
    elif isinstance(arguments, tuple | list):
        largest = _largest(arguments)
    else:
        largest = _size(arguments)
    if len(template) + len(specs) * largest + widths > MAX_OUTPUT:
        raise _TooMuch


def _check_str_format(template: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
    """``template.format(...)`` would stay within the limit (widths and repeated fields)."""
    fields = 0
    widths = 0
    for _, name, spec, _ in string.Formatter().parse(template):
        if name is None:
            continue
        fields += 1
        if spec and "{" in spec:
            raise _TooMuch
        widths += sum(int(number) for number in _NUMBER.findall(spec or ""))
    largest = _largest([*args, *kwargs.values()])
    if len(template) + fields * largest + widths > MAX_OUTPUT:
        raise _TooMuch


def _check_replace(text: Any, old: Any, new: Any) -> None:
    if isinstance(text, str) and isinstance(old, str) and isinstance(new, str):
        count = len(text) + 1 if old == "" else text.count(old)
        if len(text) + count * len(new) > MAX_OUTPUT:
            raise _TooMuch


def _check_join(separator: Any, items: Any) -> None:
    if not (isinstance(separator, str) and isinstance(items, list | tuple)):
        return
    if len(separator) * len(items) + _size(items) > MAX_OUTPUT:
        raise _TooMuch


def _check_indent(text: Any, width: Any) -> None:
    if isinstance(text, str):
        per_line = len(width) if isinstance(width, str) else width if isinstance(width, int) else 0
        if len(text) + (text.count("\n") + 1) * per_line > MAX_OUTPUT:
            raise _TooMuch


def _check_method(owner: str, name: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
    if name in ("format", "format_map"):
        mapping = args[0] if name == "format_map" and args else kwargs
        _check_str_format(owner, args if name == "format" else (), mapping)
    elif name == "replace" and len(args) >= 2:
        _check_replace(owner, args[0], args[1])
    elif name == "join" and args:
        _check_join(owner, list(args[0]) if isinstance(args[0], list | tuple) else args[0])
    elif name == "expandtabs":
        width = args[0] if args else kwargs.get("tabsize", 8)
        if isinstance(width, int) and len(owner) + owner.count("\t") * width > MAX_OUTPUT:
            raise _TooMuch


def _guard_filter(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """A built-in filter whose arguments and result are measured."""

    @wraps(function)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        values = [
            arg
            for arg in args
            if not isinstance(arg, Context | EvalContext | ImmutableSandboxedEnvironment)
        ]
        _check(*values, *kwargs.values())
        _check_widths([*values[1:], *kwargs.values()])
        if name == "replace" and len(values) >= 3:
            _check_replace(values[0], values[1], values[2])
        elif name == "join" and values:
            separator = values[1] if len(values) > 1 else kwargs.get("d", "")
            _check_join(separator, list(values[0]) if isinstance(values[0], tuple) else values[0])
        elif name == "indent" and values:
            _check_indent(values[0], values[1] if len(values) > 1 else kwargs.get("width", 4))
        elif name == "format" and values and isinstance(values[0], str):
            _check_percent(values[0], kwargs or tuple(values[1:]))
        result = function(*args, **kwargs)
        _check(result)
        return result

    return guarded


class _Bounding(NodeVisitor):
    """What check_template refuses without running anything."""

    def visit_Getattr(self, node: nodes.Getattr) -> None:  # noqa: N802 - Jinja's visitor names
        if node.attr.startswith("_"):
            raise SecurityError(node.attr)
        self.generic_visit(node)

    def visit_Getitem(self, node: nodes.Getitem) -> None:  # noqa: N802
        if isinstance(node.arg, nodes.Const) and str(node.arg.value).startswith("_"):
            raise SecurityError(str(node.arg.value))
        self.generic_visit(node)

    def visit_For(self, node: nodes.For) -> None:  # noqa: N802
        if node.recursive:
            raise _Unsupported("recursive loops")
        self.generic_visit(node)

    def visit_Extends(self, node: nodes.Extends) -> None:  # noqa: N802
        raise _Unsupported("extends")

    def visit_Include(self, node: nodes.Include) -> None:  # noqa: N802
        raise _Unsupported("include")

    def visit_Import(self, node: nodes.Import) -> None:  # noqa: N802
        raise _Unsupported("import")

    def visit_FromImport(self, node: nodes.FromImport) -> None:  # noqa: N802
        raise _Unsupported("import")


class _Unsupported(Exception):
    pass


class _BoundedCodeGenerator(CodeGenerator):
    """Jinja's code generator, with every loop counted and every ``~`` measured."""

    def visit_For(self, node: nodes.For, frame: Frame) -> None:  # noqa: N802
        if node.recursive:  # check_template refuses these; never compile one
            raise _Unsupported("recursive loops")
        node.iter = nodes.Call(
            nodes.EnvironmentAttribute("bounded_iteration"),
            [node.iter],
            [],
            None,
            None,
            lineno=node.lineno,
        )
        super().visit_For(node, frame)

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:  # noqa: N802
        if frame.eval_ctx.volatile:
            markup = "context.eval_ctx.volatile"
        else:
            markup = "True" if frame.eval_ctx.autoescape else "False"
        self.write("environment.bounded_concat((")
        for part in node.nodes:
            self.visit(part, frame)
            self.write(", ")
        self.write(f"), {markup})")


def _finalize(value: Any) -> Any:
    if not isinstance(value, str | int | float | type(None)):
        _check(value)  # printing it builds its text: measure it first
    return value


class _Environment(ImmutableSandboxedEnvironment):
    code_generator_class = _BoundedCodeGenerator
    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, *, html: bool) -> None:
        super().__init__(
            undefined=StrictUndefined,
            autoescape=html,
            auto_reload=False,
            cache_size=0,
            finalize=_finalize,
        )
        self.filters = {name: _guard_filter(name, f) for name, f in self.filters.items()}
        del self.globals["lipsum"]  # placeholder text is no notification's business

    def bounded_iteration(self, iterable: Iterable[Any]) -> Iterator[Any]:
        counter = _iterations.get(None)
        for item in iterable:
            if counter is not None:
                counter[0] += 1
                if counter[0] > MAX_ITERATIONS:
                    raise _TooMuch
            yield item

    def bounded_concat(self, parts: tuple[Any, ...], markup: bool) -> str:
        _check(*parts)
        return markup_join(parts) if markup else str_join(parts)

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(left, int) and isinstance(right, int):
            if right > 0 and max(1, abs(left).bit_length()) * right > MAX_INT_BITS:
                raise _TooMuch
        elif operator == "*":
            for one, other in ((left, right), (right, left)):
                if isinstance(other, int) and isinstance(one, str | list | tuple):
                    unit = len(one) if isinstance(one, str) else _size(one)
                    if unit * max(0, other) > MAX_OUTPUT:
                        raise _TooMuch
            both_int = isinstance(left, int) and isinstance(right, int)
            if both_int and left.bit_length() + right.bit_length() > MAX_INT_BITS:
                raise _TooMuch
        elif operator == "+":
            if isinstance(left, str | list | tuple) and isinstance(right, str | list | tuple):
                _check(left, right)
        elif operator == "%" and isinstance(left, str):
            _check_percent(left, right)
        return super().call_binop(context, operator, left, right)

    def call(
        self, context: Context, obj: Any, /, *args: Any, **kwargs: Any
    ) -> Any:  # every call a template makes: globals, macros, methods
        if getattr(obj, "__func__", None) is _Environment.bounded_iteration:
            return obj(*args, **kwargs)
        given = [value for key, value in kwargs.items() if not key.startswith("_")]
        _check(*args, *given)  # (_loop_vars and _block_vars are Jinja's, not arguments)
        target = getattr(obj, "__wrapped__", obj)  # str.format comes wrapped by the sandbox
        owner = getattr(target, "__self__", None)
        if isinstance(owner, str):
            _check_widths([*args, *given])
            _check_method(owner, getattr(target, "__name__", ""), args, kwargs)
        result = super().call(context, obj, *args, **kwargs)
        _check(result)
        return result


_TEXT: Final = _Environment(html=False)
_HTML: Final = _Environment(html=True)


def _parse(source: str) -> nodes.Template:
    if len(source) > MAX_TEMPLATE:
        raise TemplateProblem(f"A template is at most {MAX_TEMPLATE} characters.", field="body")
    try:
        tree = _TEXT.parse(source)
    except TemplateSyntaxError as error:
        raise TemplateProblem(
            f"Template syntax error on line {error.lineno}: {error.message}", field="body"
        ) from None
    try:
        _Bounding().visit(tree)
    except SecurityError as error:
        raise TemplateProblem(
            f"The template uses .{error}, and names starting with _ are off limits.",
            field="body",
        ) from None
    except _Unsupported as error:
        raise TemplateProblem(f"Notification templates cannot use {error}.", field="body") from None
    return tree


def check_template(source: str) -> frozenset[str]:
    """The variables a template uses; TemplateProblem when it cannot be used."""
    return frozenset(meta.find_undeclared_variables(_parse(source)))


@lru_cache(maxsize=TEMPLATE_CACHE_SIZE)
def _compiled(source: str, html: bool) -> Template:
    _parse(source)
    environment = _HTML if html else _TEXT
    try:
        return environment.from_string(source)
    except _TooMuch:  # constant folding at compile time hit a limit
        raise TemplateProblem(_TOO_MUCH, field="body") from None


_TOO_MUCH: Final = (
    f"The template builds more than {MAX_OUTPUT} characters or items, "
    f"or loops more than {MAX_ITERATIONS} times."
)


_UNSAFE: Final = "The template tried an unsafe operation."


def _missing(error: UndefinedError) -> str:
    message = str(error.message or "")
    if match := _UNDEFINED_NAME.match(message):
        return f"The template uses {{{{ {match[1]} }}}}, which this notification does not provide."
    if match := _MISSING_ATTRIBUTE.search(message):
        if match[1].startswith("_"):  # what is left of an unsafe attribute, looked into
            return _UNSAFE
        return f"The template uses .{match[1]}, which this notification does not provide."
    return "The template uses a value this notification does not provide."


def render(source: str, variables: Mapping[str, Any], *, html: bool = False) -> str:
    """The template's text for these values; TemplateProblem when it cannot be made."""
    template = _compiled(source, html)
    chunks: list[str] = []
    size = 0
    token = _iterations.set([0])
    try:
        for chunk in template.generate(**variables):  # stops as soon as the output is too big
            size += len(chunk)
            if size > MAX_OUTPUT:
                raise TemplateProblem(
                    f"The rendered text is longer than {MAX_OUTPUT} characters.", field="body"
                )
            chunks.append(chunk)
    except UndefinedError as error:
        raise TemplateProblem(_missing(error), field="data") from None
    except SecurityError:
        raise TemplateProblem(_UNSAFE, field="body") from None
    except _TooMuch:
        raise TemplateProblem(_TOO_MUCH, field="body") from None
    except (RecursionError, MemoryError):
        raise TemplateProblem("The template recurses or grows too far.", field="body") from None
    except (TemplateError, ArithmeticError, TypeError, ValueError, LookupError) as error:
        problem = str(error).rstrip(".")
        raise TemplateProblem(f"The template failed: {problem}.", field="body") from None
    finally:
        _iterations.reset(token)
    return "".join(chunks)
