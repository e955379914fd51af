"""Every command, subcommand and option of `lms` and `lms router` says what it does."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

import pytest

from lms.cli import parser as lms_parser
from router.cli import _parser as router_parser
from tests.cli.lms_process import run_lms

COMMANDS = [
    ("dev",),
    ("migrate",),
    ("seed",),
    ("serve",),
    ("export-schema",),
    ("compose",),
    ("settings",),
    ("worker",),
    ("events",),
    ("events", "catalog"),
    ("events", "dlq"),
    ("rotate-mfa-key",),
    ("embed-courses",),
    ("router",),
    ("router", "serve"),
    ("router", "plan"),
]


def _parsers(
    parser: argparse.ArgumentParser,
) -> Iterator[tuple[argparse.ArgumentParser, argparse.Action]]:
    for action in parser._actions:
        yield parser, action
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _parsers(sub)


@pytest.mark.parametrize("make", [lms_parser, router_parser], ids=["lms", "router"])
def test_every_option_and_command_has_a_description(
    make: type[argparse.ArgumentParser],
) -> None:
    undescribed = []
    for parser, action in _parsers(make()):
        if isinstance(action, argparse._SubParsersAction):
            undescribed += [
                f"{parser.prog} {choice.dest}"
                for choice in action._choices_actions
                if not choice.help
            ]
        elif not action.help:
            undescribed.append(f"{parser.prog} {'/'.join(action.option_strings) or action.dest}")
    assert undescribed == []


@pytest.mark.parametrize("words", COMMANDS, ids=" ".join)
def test_help_describes_the_command(words: tuple[str, ...]) -> None:
    done = run_lms(*words, "--help")
    assert done.returncode == 0, done.stderr
    usage, _, rest = done.stdout.partition("\n\n")
    assert usage.startswith("usage: ")
    description = rest.split("\n\n")[0].strip()
    assert description, done.stdout  # a sentence under the usage line
    assert not description.startswith(("positional arguments", "options:"))
