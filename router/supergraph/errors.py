class SupergraphError(ValueError):
    """The supergraph SDL cannot be served; the message says why and what to do."""
