"""The peer-bench subgraphs (Federation 1 SDL) compose to exactly Apollo's supergraph."""

from .support import assert_same_supergraph, compose_ok, expected_supergraph, load_subgraphs


def test_peer_bench_supergraph_is_apollos() -> None:
    subgraphs = load_subgraphs("peer_bench", url="http://127.0.0.1:4200/{name}")
    assert_same_supergraph(compose_ok(subgraphs), expected_supergraph("peer_bench"))
