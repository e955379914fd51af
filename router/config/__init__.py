"""`router.yaml`: the router's configuration, in Apollo Router's shape where Apollo Router has
the feature (see `router.config.model`), read by `router.config.loader`."""

from router.config.loader import ConfigError, ConfigSource, load_config, parse_config
from router.config.model import RouterConfig

__all__ = ["ConfigError", "ConfigSource", "RouterConfig", "load_config", "parse_config"]
