"""The garbage collector in long-running servers (the router and every subgraph).

Start-up objects (modules, schemas, plans) leave the collector's view, so that a full
collection walks only what connections and requests created. The youngest generation is
collected after 50,000 allocations instead of 700: with a thousand subscribers connected, a
burst of events allocates tens of thousands of short-lived containers, and at 700 the
collector ran dozens of times per burst, promoted whatever was queued at that moment and
so triggered full collections (each walking every connection's objects: 100-900 ms pauses
measured by bench/subscriptions.py). At 50,000 most of a burst's objects are freed by
reference counting before any collection sees them; a young collection then takes a few
milliseconds, and cyclic garbage waits a little longer (a few MB at most).
"""

import gc
from typing import Final

YOUNG_THRESHOLD: Final = 50_000


def settle_after_startup() -> None:
    """Freeze what start-up built and space out collections (call once, before serving)."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
