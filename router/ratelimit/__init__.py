"""Rate limits shared by the router's replicas through Redis (GCRA), beneath both the
server (limits per request) and the transport (limits per subgraph)."""

from router.ratelimit.gcra import Decision
from router.ratelimit.identity import connection_identity
from router.ratelimit.limiter import RateLimitUnavailable
from router.ratelimit.policy import Refusal, RouterLimits, SubgraphLimits

__all__ = [
    "Decision",
    "RateLimitUnavailable",
    "Refusal",
    "RouterLimits",
    "SubgraphLimits",
    "connection_identity",
]
