"""@fromContext: the field goes through `_entities`; its context is read from an ancestor."""

from pathlib import Path

import pytest

from router.planning import PlanningError
from router.supergraph import Supergraph, load_supergraph
from tests.unit.router.planning.helpers import plan_text, snapshot
from tests.unit.router.supergraphs import composed

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def courses() -> Supergraph:
    return load_supergraph(composed("context_two_subgraphs"))


@pytest.fixture(scope="module")
def owners() -> Supergraph:
    return load_supergraph(composed("context_type_conditions"))


def test_a_field_one_level_below_reads_the_course_in_the_parent_fetch(courses: Supergraph) -> None:
    assert plan_text(courses, "{ courses { modules { summary } } }") == snapshot(
        """
        QueryPlan {
          Sequence {
            Fetch(service: "courses") {
              {
                courses {
                  modules {
                    __typename
                    id
                  }
                  __typename
                  locale__fed_context: locale
                }
              }
            },
            Flatten(path: "courses.@.modules.@") {
              Fetch(service: "courses") {
                {
                  ... on Module { __typename id }
                } =>
                $contextualArgument_1_0: String <- depth 1 on Course { __typename ... on Course { locale__fed_context: locale } }
                query ($representations: [_Any!]!, $contextualArgument_1_0: String) {
                  _entities(representations: $representations) {
                    ... on Module {
                      summary(locale: $contextualArgument_1_0)
                    }
                  }
                }
              },
            },
          },
        }
        """
    )


def test_a_field_two_levels_below_reads_the_course_two_fields_up(courses: Supergraph) -> None:
    assert plan_text(
        courses, '{ course(id: "c1") { modules { lessons { id heading } } } }'
    ) == snapshot(
        """
        QueryPlan {
          Sequence {
            Fetch(service: "courses") {
              {
                course(id: "c1") {
                  modules {
                    lessons {
                      id
                      __typename
                    }
                  }
                  __typename
                  locale__fed_context: locale
                }
              }
            },
            Flatten(path: "course.modules.@.lessons.@") {
              Fetch(service: "courses") {
                {
                  ... on Lesson { __typename id }
                } =>
                $contextualArgument_1_0: String <- depth 1 on Course { __typename ... on Course { locale__fed_context: locale } }
                query ($representations: [_Any!]!, $contextualArgument_1_0: String) {
                  _entities(representations: $representations) {
                    ... on Lesson {
                      heading(locale: $contextualArgument_1_0)
                    }
                  }
                }
              },
            },
          },
        }
        """
    )


def test_the_context_value_is_fetched_from_the_subgraph_that_has_it(courses: Supergraph) -> None:
    assert plan_text(courses, "{ featured { title modules { name summary } } }") == snapshot(
        """
        QueryPlan {
          Sequence {
            Fetch(service: "catalog") {
              {
                featured {
                  __typename
                  id
                }
              }
            },
            Flatten(path: "featured.@") {
              Fetch(service: "courses") {
                {
                  ... on Course { __typename id }
                } =>
                query ($representations: [_Any!]!) {
                  _entities(representations: $representations) {
                    ... on Course {
                      title
                      modules {
                        name
                        __typename
                        id
                      }
                      __typename
                      locale__fed_context: locale
                    }
                  }
                }
              },
            },
            Flatten(path: "featured.@.modules.@") {
              Fetch(service: "courses") {
                {
                  ... on Module { __typename id }
                } =>
                $contextualArgument_1_0: String <- depth 1 on Course { __typename ... on Course { locale__fed_context: locale } }
                query ($representations: [_Any!]!, $contextualArgument_1_0: String) {
                  _entities(representations: $representations) {
                    ... on Module {
                      summary(locale: $contextualArgument_1_0)
                    }
                  }
                }
              },
            },
          },
        }
        """
    )


def test_type_conditions_of_the_selection_are_kept(owners: Supergraph) -> None:
    assert plan_text(owners, "{ tracks { unit { label } } }") == snapshot(
        """
        QueryPlan {
          Sequence {
            Fetch(service: "units") {
              {
                tracks {
                  unit {
                    __typename
                    id
                  }
                  __typename
                  lang__fed_context: lang
                }
              }
            },
            Flatten(path: "tracks.@.unit") {
              Fetch(service: "units") {
                {
                  ... on Unit { __typename id }
                } =>
                $contextualArgument_1_0: String <- depth 1 on Track { __typename ... on Track { lang__fed_context: lang } ... on Program { language__fed_context: language } }
                query ($representations: [_Any!]!, $contextualArgument_1_0: String) {
                  _entities(representations: $representations) {
                    ... on Unit {
                      label(lang: $contextualArgument_1_0)
                    }
                  }
                }
              },
            },
          },
        }
        """
    )


def test_an_interface_context_is_read_from_each_runtime_type_that_leads_there() -> None:
    nodes = load_supergraph(composed("context_interface"))
    query = "{ t { id ... on A { u { f } } ... on B { u { id f } } } }"
    assert plan_text(nodes, query) == snapshot(
        """
        QueryPlan {
          Sequence {
            Fetch(service: "a") {
              {
                t {
                  __typename
                  id
                  ... on A {
                    u {
                      __typename
                      id
                    }
                    __typename
                    label__fed_context: label
                  }
                  ... on B {
                    u {
                      id
                      __typename
                    }
                    __typename
                    label__fed_context: label
                  }
                }
              }
            },
            Flatten(path: "t.@.u") {
              Fetch(service: "a") {
                {
                  ... on U { __typename id }
                } =>
                $contextualArgument_1_0: String <- depth 1 on A { __typename ... on Node { label__fed_context: label } }
                $contextualArgument_1_0: String <- depth 1 on B { __typename ... on Node { label__fed_context: label } }
                query ($representations: [_Any!]!, $contextualArgument_1_0: String) {
                  _entities(representations: $representations) {
                    ... on U {
                      f(a: $contextualArgument_1_0)
                    }
                  }
                }
              },
            },
          },
        }
        """
    )


def test_a_contextual_field_without_an_ancestor_setting_its_context_is_refused() -> None:
    sdl = composed("context_two_subgraphs")
    sdl = sdl.replace(
        "  courses: [Course!]! @join__field(graph: COURSES)\n",
        "  courses: [Course!]! @join__field(graph: COURSES)\n"
        "  module: Module @join__field(graph: COURSES)\n",
    )
    orphan = load_supergraph(sdl)
    with pytest.raises(PlanningError, match="no enclosing field of the operation sets its context"):
        plan_text(orphan, "{ module { summary } }")
    assert "summary" not in plan_text(orphan, "{ module { name } }")


def test_one_variable_per_use_and_argument(courses: Supergraph) -> None:
    text = plan_text(courses, "{ courses { modules { summary lessons { heading } } } }")
    assert "summary(locale: $contextualArgument_1_0)" in text
    assert "heading(locale: $contextualArgument_2_0)" in text
    assert "$contextualArgument_2_0: String <- depth 1" in text


def test_generated_variables_differ_from_the_clients(courses: Supergraph) -> None:
    query = "query($contextualArgument_1_0: ID!) { course(id: $contextualArgument_1_0) { modules { summary } } }"
    text = plan_text(courses, query)
    assert "summary(locale: $contextualArgument_2_0)" in text
    assert "query ($representations: [_Any!]!, $contextualArgument_2_0: String)" in text


def test_a_composite_contextual_field_keeps_the_selections_of_every_position() -> None:
    nodes = load_supergraph(composed("context_interface"))
    text = plan_text(nodes, "{ t { ... on A { u { g { x } } } ... on B { u { g { y } } } } }")
    assert text.count("$contextualArgument_1_0: String <- depth 1 on") == 2
    assert "g(a: $contextualArgument_1_0) {\n                x\n                y\n" in text


def test_an_external_context_field_is_fetched_from_its_subgraph_first() -> None:
    external = load_supergraph(composed("context_external"))
    assert plan_text(external, "{ courses { modules { summary } } }") == snapshot(
        """
        QueryPlan {
          Sequence {
            Fetch(service: "courses") {
              {
                courses {
                  modules {
                    __typename
                    id
                  }
                  __typename
                  id
                }
              }
            },
            Flatten(path: "courses.@") {
              Fetch(service: "catalog") {
                {
                  ... on Course { __typename id }
                } =>
                query ($representations: [_Any!]!) {
                  _entities(representations: $representations) {
                    ... on Course {
                      locale__fed_context: locale
                    }
                  }
                }
              },
            },
            Flatten(path: "courses.@.modules.@") {
              Fetch(service: "courses") {
                {
                  ... on Module { __typename id }
                } =>
                $contextualArgument_1_0: String <- depth 1 on Course { __typename ... on Course { locale__fed_context: locale } }
                query ($representations: [_Any!]!, $contextualArgument_1_0: String) {
                  _entities(representations: $representations) {
                    ... on Module {
                      summary(locale: $contextualArgument_1_0)
                    }
                  }
                }
              },
            },
          },
        }
        """
    )


def test_a_contextual_field_with_requires_gets_both_in_one_entity_fetch() -> None:
    requires = load_supergraph((FIXTURES / "context_requires.graphql").read_text())
    assert plan_text(requires, "{ t { u { field } } }") == snapshot(
        """
        QueryPlan {
          Sequence {
            Fetch(service: "a") {
              {
                t {
                  u {
                    __typename
                    id
                  }
                  __typename
                  prop__fed_context: prop
                }
              }
            },
            Flatten(path: "t.u") {
              Fetch(service: "b") {
                {
                  ... on U { __typename id }
                } =>
                query ($representations: [_Any!]!) {
                  _entities(representations: $representations) {
                    ... on U {
                      x
                    }
                  }
                }
              },
            },
            Flatten(path: "t.u") {
              Fetch(service: "a") {
                {
                  ... on U { __typename id x }
                } =>
                $contextualArgument_1_0: String <- depth 1 on T { __typename ... on T { prop__fed_context: prop } }
                query ($representations: [_Any!]!, $contextualArgument_1_0: String) {
                  _entities(representations: $representations) {
                    ... on U {
                      field(a: $contextualArgument_1_0)
                    }
                  }
                }
              },
            },
          },
        }
        """
    )
