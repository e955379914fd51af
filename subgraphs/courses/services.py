"""The courses subgraph's service layer, built once at startup from the runtime."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

from common.ai import embeddings
from common.auth.keys import lti_signing_keys
from common.auth.service_identity import ServiceIdentity
from common.graphql.app import ServiceRuntime
from common.graphql.peers import PeerClient
from subgraphs.courses.cartridge.jobs import CourseImports
from subgraphs.courses.embedding import CourseEmbedder
from subgraphs.courses.lessons import LessonsService
from subgraphs.courses.lti.deep_linking import DeepLinkReturns
from subgraphs.courses.lti.grades import GradeServices
from subgraphs.courses.lti.launch import Launches
from subgraphs.courses.lti.memberships import Memberships
from subgraphs.courses.lti.service_tokens import ServiceTokens
from subgraphs.courses.lti.tools import LtiTools
from subgraphs.courses.service import CoursesService
from subgraphs.courses.storage import LocalDiskStorage

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CoursesServices:
    courses: CoursesService
    lessons: LessonsService
    embedder: CourseEmbedder
    imports: CourseImports
    lti_tools: LtiTools
    lti_launches: Launches
    lti_service_tokens: ServiceTokens
    lti_grades: GradeServices
    lti_memberships: Memberships
    lti_deep_links: DeepLinkReturns


def build_services(runtime: ServiceRuntime) -> CoursesServices:
    settings = runtime.settings
    settings.secret("download_secret")  # signs attachment links: missing, refused at startup
    storage = LocalDiskStorage(settings.upload_dir)
    lti_tools = LtiTools(runtime.sessions)
    lti_base = settings.public_service_url("courses")
    lti_tokens = ServiceTokens(lti_tools, runtime.redis, runtime.http, f"{lti_base}/lti/token")
    return CoursesServices(
        courses=CoursesService(runtime.sessions),
        lessons=LessonsService(
            runtime.sessions, storage, max_attachment_bytes=settings.max_attachment_bytes
        ),
        embedder=CourseEmbedder(runtime.sessions, settings.course_embedding_interval_seconds),
        imports=CourseImports(
            runtime.sessions,
            storage,
            max_file_bytes=settings.max_attachment_bytes,
            http=runtime.http,
            settings=settings,
        ),
        lti_tools=lti_tools,
        lti_launches=Launches(
            runtime.sessions,
            runtime.redis,
            issuer=lti_base,
            keys=lambda: lti_signing_keys(settings),
        ),
        lti_service_tokens=lti_tokens,
        lti_grades=GradeServices(runtime.sessions),
        lti_memberships=Memberships(
            runtime.sessions,
            PeerClient(runtime.http, "enrollments", settings.service_url("enrollments")),
            PeerClient(runtime.http, "users", settings.service_url("users")),
            ServiceIdentity(settings, "courses", runtime.http),
        ),
        lti_deep_links=DeepLinkReturns(lti_tools, lti_tokens, runtime.redis, issuer=lti_base),
    )


def scheduled_jobs(
    services: CoursesServices,
) -> Sequence[Callable[[], Coroutine[Any, Any, None]]]:
    """The worker's embedding of changed courses, every LMS_COURSE_EMBEDDING_INTERVAL_SECONDS
    (0: none), when the `ai` extra is installed."""
    if not embeddings.available():
        log.warning(
            "courses: sentence-transformers or the all-MiniLM-L6-v2 package is not installed "
            "(the `ai` extra): courses are not embedded, and search ranks by full text only"
        )
        return []
    return [services.embedder.run_schedule] if services.embedder.interval_seconds else []
