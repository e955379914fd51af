"""The courses subgraph's service layer, built once at startup from the runtime."""

from __future__ import annotations

from dataclasses import dataclass

from common.graphql.app import ServiceRuntime
from subgraphs.courses.lessons import LessonsService
from subgraphs.courses.service import CoursesService
from subgraphs.courses.storage import LocalDiskStorage


@dataclass(frozen=True, slots=True)
class CoursesServices:
    courses: CoursesService
    lessons: LessonsService


def build_services(runtime: ServiceRuntime) -> CoursesServices:
    settings = runtime.settings
    settings.secret("download_secret")  # signs attachment links: missing, refused at startup
    return CoursesServices(
        courses=CoursesService(runtime.sessions),
        lessons=LessonsService(
            runtime.sessions,
            LocalDiskStorage(settings.upload_dir),
            max_attachment_bytes=settings.max_attachment_bytes,
        ),
    )
