"""LTI 1.3 names in one place: claim URIs, message types, role IRIs (1EdTech LTI Core 1.3)."""

from __future__ import annotations

from typing import Final

from common.auth import Role

VERSION: Final = "1.3.0"
CLAIM: Final = "https://purl.imsglobal.org/spec/lti/claim/"
MESSAGE_TYPE: Final = CLAIM + "message_type"
CLAIM_VERSION: Final = CLAIM + "version"
DEPLOYMENT_ID: Final = CLAIM + "deployment_id"
TARGET_LINK_URI: Final = CLAIM + "target_link_uri"
RESOURCE_LINK: Final = CLAIM + "resource_link"
ROLES: Final = CLAIM + "roles"
CONTEXT: Final = CLAIM + "context"
LAUNCH_PRESENTATION: Final = CLAIM + "launch_presentation"
TOOL_PLATFORM: Final = CLAIM + "tool_platform"
AGS_ENDPOINT: Final = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS_CLAIM: Final = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"

RESOURCE_LINK_REQUEST: Final = "LtiResourceLinkRequest"
DEEP_LINKING_REQUEST: Final = "LtiDeepLinkingRequest"
DEEP_LINKING_RESPONSE: Final = "LtiDeepLinkingResponse"
DEEP_LINKING: Final = "https://purl.imsglobal.org/spec/lti-dl/claim/"
DEEP_LINKING_SETTINGS: Final = DEEP_LINKING + "deep_linking_settings"
CONTENT_ITEMS: Final = DEEP_LINKING + "content_items"
DEEP_LINKING_DATA: Final = DEEP_LINKING + "data"
COURSE_OFFERING: Final = "http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"

MEMBERSHIP: Final = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
LEARNER: Final = MEMBERSHIP + "Learner"
INSTRUCTOR: Final = MEMBERSHIP + "Instructor"
INSTITUTION: Final = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#"
SYSTEM_ADMINISTRATOR: Final = "http://purl.imsglobal.org/vocab/lis/v2/system/person#Administrator"

# Our roles as institution roles (who the person is at the institution)
INSTITUTION_ROLES: Final = {
    Role.STUDENT: INSTITUTION + "Student",
    Role.INSTRUCTOR: INSTITUTION + "Instructor",
    Role.ADMIN: INSTITUTION + "Administrator",
}


def launch_roles(roles: frozenset[Role], *, teaches: bool) -> list[str]:
    """The roles claim: the membership in this course (Instructor for its instructors and
    administrators, Learner for an enrolled learner), then the institution roles, and the
    system Administrator for ours."""
    found = [INSTRUCTOR if teaches else LEARNER]
    found += [INSTITUTION_ROLES[role] for role in Role if role in roles]
    if Role.ADMIN in roles:
        found.append(SYSTEM_ADMINISTRATOR)
    return found
