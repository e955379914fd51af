"""Response cache policies from `@cacheControl` hints, with Apollo Server's semantics."""
