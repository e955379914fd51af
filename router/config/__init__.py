"""`router.yaml`: the router's configuration, in Apollo Router's shape where Apollo Router has
the feature (see `router.config.model`)."""

from router.config.model import RouterConfig

__all__ = ["RouterConfig"]
