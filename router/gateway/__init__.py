"""Operations run against the live supergraph: shared by the HTTP server and subscriptions."""
