"""`router.yaml`'s defaults are the runtime's own (the configuration is beneath the runtime,
so it writes them out rather than importing them)."""

from router.config import RouterConfig
from router.gateway.limits import Limits
from router.server.http_protocol import ConnectionLimits
from router.server.uploads import UploadLimits
from router.subscriptions.limits import SubscriptionLimits
from router.transport.base import DEFAULT_MAX_RESPONSE_BYTES


def test_the_defaults_of_router_yaml_are_the_runtime_defaults() -> None:
    config = RouterConfig()
    limits = config.limits
    assert (
        limits.max_depth,
        limits.max_aliases,
        limits.max_root_fields,
        limits.max_selections,
        limits.max_validation_work,
    ) == (
        Limits.max_depth,
        Limits.max_aliases,
        Limits.max_root_fields,
        Limits.max_selections,
        Limits.max_validation_work,
    )
    assert (limits.http_max_request_bytes, limits.max_upload_files) == (
        UploadLimits.max_bytes,
        UploadLimits.max_files,
    )
    assert (
        limits.http1_max_request_headers_bytes,
        limits.request_head_timeout,
        limits.request_body_timeout,
    ) == (
        ConnectionLimits.max_head_bytes,
        ConnectionLimits.head_timeout,
        ConnectionLimits.body_timeout,
    )
    assert limits.subgraph_response_max_bytes == DEFAULT_MAX_RESPONSE_BYTES
    subscription = config.subscription
    assert (
        subscription.init_timeout,
        subscription.keepalive,
        subscription.queue_capacity,
        subscription.max_opened_subscriptions_per_connection,
    ) == (
        SubscriptionLimits.init_timeout,
        SubscriptionLimits.keepalive,
        SubscriptionLimits.queue_size,
        SubscriptionLimits.max_operations,
    )
