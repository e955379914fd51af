"""What the image installs (the runtime dependencies, no extras) is all the services import:
the dev-only packages and common/infra stay out of every service's import path."""

from __future__ import annotations

from tests.cli.lms_process import run_python

DEV_ONLY = ("aiosmtpd", "jsonschema", "common.infra")
ENTRY_POINTS = """
import importlib, sys
for blocked in {blocked!r}:
    sys.modules[blocked] = None  # importing it now raises ModuleNotFoundError
import lms.cli, router.cli, router.server, common.events.worker
from lms import services
for name in services.available_services():
    importlib.import_module(f"subgraphs.{{name}}.app")
print("imported")
"""


def test_services_import_nothing_from_the_dev_extras() -> None:
    done = run_python(ENTRY_POINTS.format(blocked=DEV_ONLY))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "imported"
