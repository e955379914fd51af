"""A believable demo catalogue for the dev run (idempotent): categories, courses, lessons."""

from __future__ import annotations

from sqlalchemy import select

from common.db import create_engine, service_dsn, session_factory
from common.demo import DEMO_LESSON_COUNTS, demo_id, demo_user_id
from common.settings import Settings
from subgraphs.courses.access import CourseStatus
from subgraphs.courses.content import TextFormat, render
from subgraphs.courses.lessons import version_of
from subgraphs.courses.models import CategoryRow, CourseRow, LessonRow, ModuleRow
from subgraphs.courses.search import refresh_search

CATEGORIES = (
    ("programming", "Programming", None),
    ("python", "Python", "programming"),
    ("web", "Web Development", "programming"),
    ("data", "Data Science", None),
    ("design", "Design", None),
)
# slug, title, category, tags, level, status, modules (title, lessons)
COURSES = (
    ("python-foundations", "Python Foundations", "python", ["python", "beginners"], "BEGINNER",
     CourseStatus.PUBLISHED, (("Getting started", ("Installing Python", "Your first program",
     "Variables and types")), ("Control flow", ("Conditions", "Loops", "Functions")))),
    ("async-python", "Asynchronous Python", "python", ["python", "asyncio"], "ADVANCED",
     CourseStatus.PUBLISHED, (("Event loops", ("Coroutines", "Tasks and cancellation")),
     ("In practice", ("HTTP clients", "Databases")))),
    ("graphql-federation", "GraphQL Federation in Practice", "web", ["graphql", "apis"],
     "INTERMEDIATE", CourseStatus.PUBLISHED, (("Schemas", ("Types and fields", "Entities")),
     ("Routers", ("Query plans", "Authorization")))),
    ("data-analysis-pandas", "Data Analysis with pandas", "data", ["python", "data"],
     "INTERMEDIATE", CourseStatus.PUBLISHED, (("Frames", ("Loading data", "Cleaning data")),
     ("Insight", ("Grouping", "Plotting")))),
    ("ux-research-basics", "UX Research Basics", "design", ["ux", "research"], "BEGINNER",
     CourseStatus.PUBLISHED, (("Listening", ("Interviews", "Surveys")),)),
    ("machine-learning-draft", "Machine Learning (draft)", "data", ["ml"], "ADVANCED",
     CourseStatus.DRAFT, (("Models", ("Linear models",)),)),
    ("course-template", "Course Template: Skills Workshop", None, ["template"], "BEGINNER",
     CourseStatus.PUBLISHED, (("Welcome", ("Introductions", "Goals")),)),
)  # fmt: skip
INSTRUCTOR = "instructor@lms.local"


def _check_demo_lesson_counts() -> None:
    """The other subgraphs' seeds count on `DEMO_LESSON_COUNTS` (common/demo.py)."""
    counts = {course[0]: sum(len(lessons) for _, lessons in course[6]) for course in COURSES}
    if counts != DEMO_LESSON_COUNTS:
        raise RuntimeError(f"common/demo.py DEMO_LESSON_COUNTS should be {counts}")


async def seed(settings: Settings) -> list[str]:
    _check_demo_lesson_counts()
    engine = create_engine(service_dsn(settings, "courses"), pool_size=1)
    owner = demo_user_id(INSTRUCTOR)
    try:
        async with session_factory(engine).begin() as session:
            if await session.scalar(select(CourseRow.id).limit(1)) is not None:
                return ["courses: demo catalogue already present"]
            for slug, name, parent in CATEGORIES:
                session.add(
                    CategoryRow(
                        id=demo_id("category", slug),
                        slug=slug,
                        name=name,
                        parent_id=None if parent is None else demo_id("category", parent),
                    )
                )
                await session.flush()
            for slug, title, category, tags, level, status, modules in COURSES:
                description = f"**{title}**: a hands-on course with short lessons and exercises."
                course = CourseRow(
                    id=demo_id("course", slug),
                    slug=slug,
                    title=title,
                    description_source=description,
                    description_format=TextFormat.MARKDOWN.value,
                    description_html=render(description, TextFormat.MARKDOWN, field="description"),
                    status=status.value,
                    category_id=None if category is None else demo_id("category", category),
                    tags=tags,
                    instructor_id=owner,
                    co_instructor_ids=[],
                    language="en",
                    level=level,
                    is_template=slug == "course-template",
                    version=1,
                )
                session.add(course)
                await session.flush()
                number = 0
                for position, (module_title, lessons) in enumerate(modules):
                    module = ModuleRow(
                        id=demo_id("module", slug, str(position)),
                        course_id=course.id,
                        title=module_title,
                        position=position,
                    )
                    session.add(module)
                    await session.flush()
                    for index, lesson_title in enumerate(lessons):
                        body = f"## {lesson_title}\n\nRead, try the example, then the exercise."
                        lesson = LessonRow(
                            id=demo_id("lesson", slug, str(number)),
                            module_id=module.id,
                            course_id=course.id,
                            title=lesson_title,
                            position=index,
                            required=True,
                            duration_minutes=10 + 5 * index,
                            version=1,
                            body_source=body,
                            body_format=TextFormat.MARKDOWN.value,
                            body_html=render(body, TextFormat.MARKDOWN, field="body"),
                        )
                        session.add(lesson)
                        await session.flush()
                        session.add(version_of(lesson, owner))
                        number += 1
                await refresh_search(session, course.id)
    finally:
        await engine.dispose()
    return [f"courses: {len(COURSES)} demo courses in {len(CATEGORIES)} categories"]
