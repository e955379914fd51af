"""`@cost` weights of the fields dearer than reading a few rows, for the router's demand
control (an object costs 1, a scalar 0; these stand for the work they do instead)."""

from strawberry.federation.schema_directives import Cost

SEARCH = Cost(weight=10)  # a full-text query ranking every visible course
ANALYTICS = Cost(weight=25)  # aggregates over every enrollment or attempt of a course
