"""What notifications are about, how often each channel carries them by default, and the
built-in templates used where an administrator has not written one.

Template variables every notification has: `recipient_name`, `platform_name`, `title`,
`body` (the in-app text) and whatever the sender's `data` gives (for example
`course_title`, `message`). A template that uses anything else fails with a clear error.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final


class Category(StrEnum):
    ACCOUNT = "ACCOUNT"  # welcome, security notices
    ANNOUNCEMENT = "ANNOUNCEMENT"  # an instructor or admin writing to learners
    ENROLLMENT = "ENROLLMENT"
    COURSE_UPDATE = "COURSE_UPDATE"
    ASSESSMENT = "ASSESSMENT"
    GRADE = "GRADE"
    CERTIFICATE = "CERTIFICATE"
    REMINDER = "REMINDER"
    AT_RISK = "AT_RISK"  # to instructors: their learners newly at risk (analytics' digest)


class Frequency(StrEnum):
    IMMEDIATE = "IMMEDIATE"
    DAILY_DIGEST = "DAILY_DIGEST"
    WEEKLY_DIGEST = "WEEKLY_DIGEST"
    OFF = "OFF"


class DeliveryStatus(StrEnum):
    PENDING = "PENDING"
    SENT = "SENT"
    FAILED = "FAILED"
    SKIPPED = "SKIPPED"


DIGESTS: Final = frozenset({Frequency.DAILY_DIGEST, Frequency.WEEKLY_DIGEST})
DIGEST_PERIOD_HOURS: Final = {Frequency.DAILY_DIGEST: 24, Frequency.WEEKLY_DIGEST: 24 * 7}

# Email by default for what a learner must not miss; a digest for the rest; SMS and push
# only when the user turns them on.
_EMAIL_DEFAULTS: Final = {
    Category.ACCOUNT: Frequency.IMMEDIATE,
    Category.ANNOUNCEMENT: Frequency.IMMEDIATE,
    Category.ENROLLMENT: Frequency.IMMEDIATE,
    Category.GRADE: Frequency.IMMEDIATE,
    Category.CERTIFICATE: Frequency.IMMEDIATE,
    Category.COURSE_UPDATE: Frequency.DAILY_DIGEST,
    Category.ASSESSMENT: Frequency.DAILY_DIGEST,
    Category.REMINDER: Frequency.IMMEDIATE,
    Category.AT_RISK: Frequency.IMMEDIATE,  # itself a weekly digest
}
# Categories whose in-app notifications a user may turn off (OFF): nothing a learner must
# not miss, only what an instructor may prefer to look up in the course's analytics.
IN_APP_OPTIONAL: Final = frozenset({Category.AT_RISK})


def default_frequency(category: Category, channel: str) -> Frequency:
    if channel == "IN_APP":
        return Frequency.IMMEDIATE
    if channel == "EMAIL":
        return _EMAIL_DEFAULTS[category]
    return Frequency.OFF


@dataclass(frozen=True, slots=True)
class Template:
    subject: str
    body: str
    html: bool = False


DEFAULT_IN_APP: Final = Template("{{ title }}", "{{ message }}")
DEFAULT_TEMPLATES: Final[dict[tuple[Category, str], Template]] = {
    # the welcome, or a notice about the account that says what it is (`title`, `message`)
    (Category.ACCOUNT, "IN_APP"): Template(
        "{% if message is defined %}{{ title }}{% else %}Welcome to {{ platform_name }}{% endif %}",
        "{% if message is defined %}{{ message }}"
        "{% else %}Hello {{ recipient_name }}, your account is ready.{% endif %}",
    ),
    (Category.ENROLLMENT, "IN_APP"): Template(
        "You are enrolled in {{ course_title }}", "Welcome to {{ course_title }}. Happy learning!"
    ),
    (Category.CERTIFICATE, "IN_APP"): Template(
        "Certificate for {{ course_title }}",
        "Congratulations {{ recipient_name }}! Your certificate code is {{ code }}.",
    ),
    (Category.GRADE, "IN_APP"): Template(
        "{{ assessment_title }} has been graded", "Your score: {{ score }}."
    ),
    (Category.AT_RISK, "IN_APP"): Template(
        "{{ count }} new at-risk learner{{ 's' if count != 1 else '' }} in {{ course_title }}",
        "{{ learners }}",
    ),
}
DEFAULT_CHANNEL: Final = {
    "EMAIL": Template(
        "{{ title }}",
        "Hello {{ recipient_name }},\n\n{{ body }}\n\n-- {{ platform_name }}",
    ),
    "SMS": Template("{{ title }}", "{{ title }}: {{ body }}"),
    "PUSH": Template("{{ title }}", "{{ body }}"),
}
DIGEST_TEMPLATE: Final = Template(
    "Your {{ period }} digest from {{ platform_name }}",
    "Hello {{ recipient_name }},\n\n"
    "{% for item in items %}- {{ item.title }}: {{ item.body }}\n{% endfor %}\n"
    "-- {{ platform_name }}",
)


def builtin_template(category: Category, channel: str) -> Template:
    if channel == "IN_APP":
        return DEFAULT_TEMPLATES.get((category, channel), DEFAULT_IN_APP)
    return DEFAULT_CHANNEL[channel]
