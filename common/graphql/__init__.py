"""The Strawberry side every subgraph shares: app factory, context, errors, Relay types."""
