"""At-risk prediction: the probability that an active enrollment ends without completing or
passing, from engagement features, with the reasons in words.

inputs (what is known of an enrollment) → features → model (stored as JSON, scored with
numpy) → explanations; training (scikit-learn) and evaluation fit and measure it;
simulation makes up an institution to measure it on. Imports nothing of the analytics
subgraph, which feeds it from its daily aggregates.
"""
