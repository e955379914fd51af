"""Machine-learning helpers shared by the subgraphs (the optional `ai` extra)."""
