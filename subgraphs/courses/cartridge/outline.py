"""What a cartridge carries, as plain data between the database and the package: the same
shapes are written by an export and read back by an import."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from subgraphs.courses.content import TextFormat


@dataclass(frozen=True, slots=True)
class FileOut:
    filename: str
    data: bytes


@dataclass(frozen=True, slots=True)
class LessonOut:
    title: str
    body: str
    body_format: TextFormat
    body_html: str
    required: bool = True
    duration_minutes: int | None = None
    files: tuple[FileOut, ...] = ()


@dataclass(frozen=True, slots=True)
class LtiLinkOut:
    """A tool placed in a module (an LTI resource link), after the module's lessons. On
    export `client_id`, `tool_url` and `login_url` are the tool's registration here; on
    import, what the cartridge says (a foreign one says only the launch URL), and once
    matched, the tool here and the URL it launches."""

    title: str
    launch_url: str
    tool_name: str = ""
    client_id: str | None = None
    tool_url: str | None = None
    login_url: str | None = None
    tool_id: uuid.UUID | None = None  # once matched to a tool registered here
    deployment_id: str | None = None


@dataclass(frozen=True, slots=True)
class ModuleOut:
    title: str
    lessons: tuple[LessonOut, ...] = ()
    links: tuple[LtiLinkOut, ...] = ()


@dataclass(frozen=True, slots=True)
class CourseOut:
    title: str
    description: str = ""
    description_format: TextFormat = TextFormat.MARKDOWN
    language: str = "en"
    level: str = "BEGINNER"
    tags: tuple[str, ...] = ()
    modules: tuple[ModuleOut, ...] = ()


@dataclass(slots=True)
class ItemReport:
    """What became of one item of an import (a lesson, a link, a resource left out)."""

    identifier: str
    title: str
    kind: str
    imported: bool = False
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
