"""Who is calling: the API key a request offers, and the tenant it belongs to.

A request offers ``x-portkey-api-key`` (the portkey-ai SDK) and ``Authorization: Bearer`` (the openai SDK;
the portkey-ai SDK sends a placeholder there); they are tried in that order. Only secrets of a key's shape are
looked up, each at most once per ``keys.CACHE_SECONDS`` per container (``key_cache``). The tenant of the key
that authenticated the request is the request's tenant (``current_tenant``) until it is answered.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from aws_lambda_powertools.event_handler.api_gateway import APIGatewayHttpResolver

from threadkit.contract import errors
from threadkit.storage import keys
from threadkit.storage.settings import get_settings

_tenant: ContextVar[str] = ContextVar("tenant")
_key_cache = keys.KeyCache()


@contextmanager
def acting_for(tenant: str) -> Iterator[None]:
    """Within this block, the request is ``tenant``'s (``current_tenant``)."""
    token = _tenant.set(tenant)
    try:
        yield
    finally:
        _tenant.reset(token)


def current_tenant(app: APIGatewayHttpResolver) -> str:
    """The tenant of the API key that authenticated this request (set by ``serve`` before routing)."""
    return _tenant.get()


def key_cache() -> keys.KeyCache:
    """What this container knows of API keys."""
    return _key_cache


def use_key_cache(cache: keys.KeyCache) -> keys.KeyCache:
    """Makes ``cache`` this container's (tests: a cache with another clock, or one that never expires);
    returns the one it replaces."""
    global _key_cache
    previous, _key_cache = _key_cache, cache
    return previous


def _credentials(headers: dict[str, str]) -> list[str]:
    """The secrets a request offers, in the order they are tried: ``x-portkey-api-key`` (the portkey-ai SDK),
    then ``Authorization: Bearer`` (the openai SDK; the portkey-ai SDK sends a placeholder there)."""
    offered = []
    portkey = headers.get("x-portkey-api-key", "").strip()
    if portkey:
        offered.append(portkey)
    scheme, _, token = headers.get("authorization", "").strip().partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        offered.append(token.strip())
    return offered


def authenticate(headers: dict[str, str]) -> str:
    """The tenant of the first active key the request offers; a 401 when there is none. Reads the key table
    only for secrets of a plausible shape, and only once per key per ``keys.CACHE_SECONDS`` per container."""
    lookup = keys.KeyStore(get_settings().table_name).lookup
    for secret in _credentials(headers):
        if not keys.is_plausible(secret):
            continue
        try:
            key = _key_cache.get(secret, lookup)
        except keys.KeyStoreError as exc:
            raise errors.service_unavailable() from exc
        if key is not None and key.active:
            return key.tenant
    raise errors.invalid_api_key()
