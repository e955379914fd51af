"""The README's reference of `router.yaml`, written from the model: every key with its type,
default and description, section by section, then Apollo Router's keys this router does not
support. `python -m router.config.docs [README.md]` rewrites it between its markers;
`--check` only says whether it is current."""

import ipaddress
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import AnyHttpUrl, BaseModel
from pydantic.fields import FieldInfo

from router.config.apollo import UNSUPPORTED
from router.config.base import parse_duration
from router.config.fields import members, sections
from router.config.model import RouterConfig

START = "<!-- router.yaml reference: written by `python -m router.config.docs` -->"
END = "<!-- end of the router.yaml reference -->"
COMMAND = "python -m router.config.docs"
_SCALARS = {
    bool: "boolean",
    int: "integer",
    float: "number",
    str: "string",
    Path: "path",
    ipaddress.IPv4Network: "IP address or network",
    ipaddress.IPv6Network: "IP address or network",
}


def _is_duration(annotation: Any) -> bool:
    if get_origin(annotation) is not Annotated:
        return False
    return any(getattr(m, "func", None) is parse_duration for m in get_args(annotation)[1:])


def _type(annotation: Any, metadata: list[Any] | None = None) -> str:
    if _is_duration(annotation) or any(
        getattr(m, "func", None) is parse_duration for m in metadata or ()
    ):
        return "duration"
    origin = get_origin(annotation)
    if origin is Annotated:
        return _type(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        names = dict.fromkeys(_type(t) for t in get_args(annotation) if t is not type(None))
        return " or ".join(names)
    if origin is Literal:
        values = (str(v).lower() if isinstance(v, bool) else v for v in get_args(annotation))
        return "one of " + ", ".join(f"`{v}`" for v in values)
    if origin is tuple:
        args = get_args(annotation)
        return (
            f"list of {_type(args[0])}" if args[-1] is Ellipsis else f"list of one {_type(args[0])}"
        )
    if origin is dict:
        return f"map of name to {_type(get_args(annotation)[1])}"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "mapping"
    if annotation is AnyHttpUrl:
        return "URL"
    return _SCALARS.get(annotation, getattr(annotation, "__name__", str(annotation)))


def _default(field: FieldInfo) -> str:
    value = field.get_default(call_default_factory=True)
    if field.is_required():
        return "required"
    if value is None:
        return "none"
    if isinstance(value, BaseModel):
        return ""
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if _is_duration(field.annotation) or any(
        getattr(m, "func", None) is parse_duration for m in field.metadata
    ):
        return f"`{value:g}s`"
    if isinstance(value, tuple | list):
        if value and isinstance(value[0], BaseModel):
            return f"{len(value)} entries" if len(value) > 1 else "1 entry"
        return "`[" + ", ".join(str(v) for v in value) + "]`" if value else "`[]`"
    if isinstance(value, dict):
        return "`{}`" if not value else f"`{value}`"
    return f"`{value:_}`".replace("_", ",") if isinstance(value, int) else f"`{value}`"


Row = tuple[str, str, str, str]


def _rows(model: type[BaseModel], prefix: str, seen: dict[type, str]) -> Iterator[Row]:
    """A row per key under ``model``; a section met again is referred to, not repeated."""
    seen[model] = prefix.removesuffix(".")
    for name, field in model.model_fields.items():
        key = f"{prefix}{name}"
        annotation = field.annotation
        nested = sections(annotation)
        plain_section = nested and all(
            isinstance(t, type) and issubclass(t, BaseModel) for t in members(annotation)
        )
        meaning = field.description or ""
        if not plain_section:
            yield key, _type(annotation, field.metadata), _default(field), meaning
        elif meaning:
            yield key, "mapping", "", meaning
        origin = get_origin(annotation)
        below = (
            f"{key}[]." if origin is tuple else f"{key}.<name>." if origin is dict else f"{key}."
        )
        for section in nested:
            if section in seen:
                yield below.removesuffix("."), "mapping", "", f"the keys of `{seen[section]}`"
            else:
                yield from _rows(section, below, seen)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def reference() -> str:
    """The markdown between the README's markers."""
    lines = [START]
    for name, field in RouterConfig.model_fields.items():
        lines += ["", f"#### `{name}`", ""]
        if field.description:
            lines += [field.description[:1].upper() + field.description[1:] + ".", ""]
        lines += ["| key | type | default | meaning |", "| --- | --- | --- | --- |"]
        models = sections(field.annotation)
        if models and get_origin(field.annotation) is None:
            rows = list(_rows(models[0], f"{name}.", {}))
        else:
            rows = [(name, _type(field.annotation), _default(field), "")]
        lines += [f"| `{k}` | {_cell(t)} | {_cell(d)} | {_cell(m)} |" for k, t, d, m in rows]
    top = sorted(k for k in UNSUPPORTED if "." not in k)
    nested = sorted(k for k in UNSUPPORTED if "." in k)
    lines += [
        "",
        "#### Apollo Router keys this router does not support",
        "",
        "They are refused by name, with what to use instead where there is something: every "
        "top-level `experimental_…` and `preview_…` key, "
        + ", ".join(f"`{k}`" for k in top)
        + "; and, inside sections this router has, "
        + ", ".join(f"`{k}`" for k in nested)
        + ".",
        "",
        END,
    ]
    return "\n".join(lines)


def rewrite(readme: str) -> str:
    """``readme`` with its reference replaced by the current one."""
    before, start, rest = readme.partition(START)
    _, end, after = rest.partition(END)
    if not start or not end:
        raise ValueError(f"the README has no `{START}` … `{END}` markers")
    return before + reference() + after


def main(argv: list[str]) -> int:
    check = "--check" in argv
    paths = [a for a in argv if a != "--check"]
    path = Path(paths[0] if paths else "README.md")
    current = path.read_text()
    wanted = rewrite(current)
    if check:
        if wanted != current:
            print(f"{path}: the router.yaml reference is out of date; run `{COMMAND}`")
            return 1
        return 0
    if wanted != current:
        path.write_text(wanted)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
