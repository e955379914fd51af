from router.supergraph.errors import SupergraphError
from router.supergraph.loader import load_supergraph
from router.supergraph.model import FieldJoin, Subgraph, Supergraph, TypeInfo, TypeJoin

__all__ = [
    "FieldJoin",
    "Subgraph",
    "Supergraph",
    "SupergraphError",
    "TypeInfo",
    "TypeJoin",
    "load_supergraph",
]
