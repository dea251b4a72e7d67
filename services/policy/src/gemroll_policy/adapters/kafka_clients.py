"""Plain aiokafka clients configured like the rest of gemroll (TLS, SASL/SCRAM as set)."""

from __future__ import annotations

from typing import Any

from aiokafka.helpers import create_ssl_context
from gemroll_common.settings import KafkaSettings


def client_kwargs(settings: KafkaSettings, client_id: str) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "bootstrap_servers": settings.bootstrap_servers,
        "security_protocol": settings.security_protocol,
        "client_id": client_id,
    }
    if settings.security_protocol in ("SSL", "SASL_SSL"):
        kwargs["ssl_context"] = create_ssl_context(
            cafile=settings.ssl_cafile, certfile=settings.ssl_certfile,
            keyfile=settings.ssl_keyfile)
    if settings.security_protocol.startswith("SASL"):
        kwargs["sasl_mechanism"] = settings.sasl_mechanism
        kwargs["sasl_plain_username"] = settings.sasl_username
        kwargs["sasl_plain_password"] = (settings.sasl_password.get_secret_value()
                                         if settings.sasl_password else None)
    return kwargs
