"""How the server listens: its address, TLS, whose forwarded headers count, connection limits — the one uvicorn
configuration `contactgroup serve` runs (and the tests run as it does).

Forwarded headers (`X-Forwarded-For`, `X-Forwarded-Proto`) are trusted from no one unless addresses are named.
Why not uvicorn's default (the loopback): the server binds the loopback itself, so every local process could then
claim any client address and defeat a limit kept per address; only the operator knows where the proxy is.
"""

from __future__ import annotations

import ipaddress
import ssl
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from contactgroup.domain.errors import ValidationFailed

LOOPBACK = "127.0.0.1"


@dataclass(frozen=True, slots=True)
class Listening:
    """Where and how the server takes connections."""

    host: str = LOOPBACK
    port: int = 8000
    tls_cert: Path | None = None  # PEM certificate chain; with tls_key the server speaks HTTPS only
    tls_key: Path | None = None
    forwarded_allow_ips: tuple[str, ...] = ()  # proxies whose X-Forwarded-For/-Proto count (addresses, networks)
    max_connections: int = 100
    keep_alive: int = 5


def trusted_proxies(text: str) -> tuple[str, ...]:
    """A comma-separated list of proxy addresses or networks (`127.0.0.1`, `10.0.0.0/24`, `::1`); refused
    (ValidationFailed) if one is neither — a typo must not silently trust no one, or everyone."""
    proxies = tuple(item.strip() for item in text.split(",") if item.strip())
    for item in proxies:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise ValidationFailed(f"{item!r} is not an IP address or network (e.g. 127.0.0.1, 10.0.0.0/24)",
                                   where="forwarded-allow-ips") from None
    return proxies


def check_tls(cert: Path | None, key: Path | None) -> None:
    """Refuse (ValidationFailed) half a TLS configuration, or a certificate and key that do not load together, before
    the server starts rather than at its first connection."""
    if (cert is None) != (key is None):
        raise ValidationFailed("TLS needs both a certificate and its private key", where="tls")
    if cert is None or key is None:
        return
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        raise ValidationFailed(f"cannot use the certificate {cert} with the key {key}: {exc}", where="tls") from None


def uvicorn_config(app: FastAPI, listening: Listening, log_level: str = "info") -> uvicorn.Config:
    """The server's configuration (its TLS files checked by `check_tls` beforehand, when the operator can still be
    told which file is wrong). The app learns how many requests it may serve at once (`max_requests`)."""
    app.state.max_requests = listening.max_connections
    trusted = ",".join(listening.forwarded_allow_ips)
    return uvicorn.Config(
        app, host=listening.host, port=listening.port, log_level=log_level,
        proxy_headers=bool(trusted), forwarded_allow_ips=trusted or LOOPBACK,  # never read FORWARDED_ALLOW_IPS
        ssl_certfile=listening.tls_cert, ssl_keyfile=listening.tls_key,
        limit_concurrency=listening.max_connections, timeout_keep_alive=listening.keep_alive,
    )
