"""Caching subgraph answers: their `Cache-Control` policies, the client response's, the entity
and root-field cache (Redis with an in-process layer) and its invalidation."""
