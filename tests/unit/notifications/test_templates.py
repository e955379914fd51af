"""Templates render in Jinja's immutable sandbox: strict, escaped when HTML, and bounded."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from common.errors import BadUserInput, ErrorCode
from subgraphs.notifications import templates
from subgraphs.notifications.templates import TemplateProblem, check_template, render


def problem(
    source: str, variables: Mapping[str, object] | None = None, *, html: bool = False
) -> str:
    with pytest.raises(TemplateProblem) as raised:
        render(source, variables or {}, html=html)
    return raised.value.message


def test_renders_variables_loops_and_filters() -> None:
    source = "Hi {{ name|title }}: {% for item in items %}[{{ item.title }}]{% endfor %}"
    assert render(source, {"name": "ada", "items": [{"title": "a"}, {"title": "b"}]}) == (
        "Hi Ada: [a][b]"
    )


def test_a_problem_is_bad_user_input() -> None:
    assert issubclass(TemplateProblem, BadUserInput)
    assert TemplateProblem.code is ErrorCode.BAD_USER_INPUT


def test_check_template_lists_the_variables_it_needs() -> None:
    source = (
        "{{ course_title }} {% for x in items %}{{ x.title }}{% endfor %}{% set y = 1 %}{{ y }}"
    )
    assert check_template(source) == {"course_title", "items"}


def test_syntax_errors_name_the_line() -> None:
    with pytest.raises(TemplateProblem, match="line 3"):
        check_template("one\ntwo\n{% if %}")
    with pytest.raises(TemplateProblem, match="syntax error"):
        render("{{ unclosed", {})


def test_a_missing_variable_is_an_error_never_a_blank() -> None:
    message = problem("You are enrolled in {{ course_title }}.")
    assert message == (
        "The template uses {{ course_title }}, which this notification does not provide."
    )
    assert "nick" in problem("{{ user.nick }}", {"user": {}})
    assert "missing" in problem("{{ missing|upper }}")


def test_values_are_data_never_compiled() -> None:
    assert render("{{ v }}", {"v": "{{ 7*7 }}"}) == "{{ 7*7 }}"
    assert render("{{ v }}", {"v": "{% for i in range(3) %}x{% endfor %}"}).startswith("{%")


def test_html_escapes_values_and_text_does_not() -> None:
    value = {"v": "<script>alert(1)</script>"}
    assert render("<p>{{ v }}</p>", value, html=True) == (
        "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"
    )
    assert render("{{ v }}", value) == "<script>alert(1)</script>"
    # The compiled-template cache is keyed by html too: same source, both ways.
    assert render("{{ v }}", value, html=True) == "&lt;script&gt;alert(1)&lt;/script&gt;"


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ x['__class__'] }}",
    ],
)
def test_private_attributes_are_refused_before_running(source: str) -> None:
    with pytest.raises(TemplateProblem, match="off limits"):
        check_template(source)
    with pytest.raises(TemplateProblem):
        render(source, {"x": {}})


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''|attr('__class__') }}",  # only visible at run time
        "{{ cycler|attr('__init__')|attr('__globals__') }}",
        "{% set l = [1] %}{{ l.append(2) }}",  # the immutable sandbox
        "{{ {}.update(a=1) }}",
    ],
)
def test_unsafe_operations_at_run_time_are_refused(source: str) -> None:
    check_template(source)  # nothing to see statically
    assert problem(source) == "The template tried an unsafe operation."


@pytest.mark.parametrize(
    "source",
    ["{% include 'other' %}", "{% extends 'base' %}", "{% import 'm' as m %}"],
)
def test_templates_cannot_load_other_templates(source: str) -> None:
    with pytest.raises(TemplateProblem, match="cannot use"):
        check_template(source)


# Templates that would run or grow without end; bench/hostile_inputs.py times their refusal.
RUNAWAY_TEMPLATES = [
    "{% for i in range(10**9) %}x{% endfor %}",
    "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}",
    "{% for x in [1] recursive %}{{ loop([x]) }}{% endfor %}",
    "{{ 9 ** (9 ** 9) }}",
    "{{ 'a' * 10**10 }}",
    "{{ 'a'|center(1000000000) }}",
    "{{ 'a'.ljust(1000000000) }}",
    "{{ '{:>999999999}'.format(1) }}",
    "{{ '%0999999999d'|format(1) }}",
    "{{ '%0999999999d' % 1 }}",
    "{{ [1]|batch(1000000000, 'x')|list }}",
    "{% set s = 'a' * 90000 %}{{ s|replace('a', s)|length }}",
    "{% set s = 'a' * 90000 %}{{ s.replace('a', s)|length }}",
    "{% set ns = namespace(s='abcdefgh') %}"
    "{% for i in range(60) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s|length }}",
    "{% set ns = namespace(l=[1]) %}"
    "{% for i in range(60) %}{% set ns.l = [ns.l, ns.l] %}{% endfor %}{{ ns.l }}",
    "{% for i in range(100000) %}{{ 'x' }}{% endfor %}{{ 'y' }}",
]


@pytest.mark.parametrize("source", RUNAWAY_TEMPLATES)
def test_runaway_templates_are_refused(source: str) -> None:
    try:
        check_template(source)  # some are refused before running, the others while running
    except TemplateProblem:
        pass
    else:
        with pytest.raises(TemplateProblem):
            render(source, {})


def test_output_size_is_bounded() -> None:
    value = {"v": "x" * 60_000}
    assert len(render("{{ v }}", value)) == 60_000
    assert "longer than" in problem("{{ v }}{{ v }}", value)


def test_template_size_is_bounded() -> None:
    with pytest.raises(TemplateProblem, match="at most"):
        check_template("x" * (templates.MAX_TEMPLATE + 1))
    assert render("x" * templates.MAX_TEMPLATE, {}) == "x" * templates.MAX_TEMPLATE


def test_loop_budget_is_per_rendering() -> None:
    source = "{% for i in range(60000) %}{% endfor %}ok"
    assert render(source, {}) == "ok"
    assert render(source, {}) == "ok"  # the second rendering starts from zero


def test_ordinary_templates_still_work_within_the_limits() -> None:
    source = (
        "{{ '%05d' % n }} {{ '{:>4}'.format('x') }} {{ 'a' ~ n }} {{ big|round|int }} "
        "{{ items|map(attribute='t')|join(', ') }} {{ 'ab' * 3 }} {{ 2 ** 10 }} "
        "{% for i in items %}{{ loop.index }}/{{ loop.length }} {% endfor %}"
        "{{ 'x'|center(5) }}|{{ 'a\nb'|indent(2) }}"
    )
    variables = {"n": 42, "big": 10**12, "items": [{"t": "a"}, {"t": "b"}]}
    assert render(source, variables) == (
        "00042    x a42 1000000000000 a, b ababab 1024 1/2 2/2   x  |a\n  b"
    )


def test_compiled_templates_are_cached() -> None:
    templates._compiled.cache_clear()
    render("{{ a }} cached", {"a": 1})
    render("{{ a }} cached", {"a": 2})
    render("{{ a }} cached", {"a": 3}, html=True)
    info = templates._compiled.cache_info()
    assert (info.hits, info.misses) == (1, 2)
    assert info.maxsize == templates.TEMPLATE_CACHE_SIZE
