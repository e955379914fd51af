"""The garbage collector in long-running servers."""

import gc


def freeze_startup_objects() -> None:
    """Move what start-up built (modules, schemas, plans) out of the collector's view, so
    that full collections walk only what requests and subscriptions create: shorter pauses
    with a thousand subscribers connected."""
    gc.collect()
    gc.freeze()
