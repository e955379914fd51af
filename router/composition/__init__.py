"""Apollo Federation v2 composition: subgraph SDLs in, a supergraph SDL out."""

from .api import CompositionResult, compose
from .errors import CompositionError
from .subgraph import SubgraphInput

__all__ = ["CompositionError", "CompositionResult", "SubgraphInput", "compose"]
