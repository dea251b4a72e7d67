"""The minio client as the kit configures it (a larger pool, verified TLS) and its failures as
the kit's typed errors (`store_error`, `typed_errors`): what `ObjectStore` stands on."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from urllib.parse import urlparse

import certifi
import urllib3
from minio import Minio
from minio.error import S3Error

from .errors import (
    STORE_FULL_CODES,
    ObjectMissing,
    StoreFull,
    StoreRefused,
    StoreUnavailable,
    is_transient,
)
from .settings import S3Settings

MISSING_CODES = frozenset({"NoSuchKey", "NoSuchObject", "ResourceNotFound", "NoSuchBucket"})


def http_client(settings: S3Settings) -> urllib3.PoolManager:
    """minio's own defaults (timeouts, retries on 5xx) with a larger pool; over https the
    server is verified against S3_CA_FILE, else the certifi bundle."""
    options: dict[str, object] = {
        "maxsize": 32,
        "timeout": urllib3.Timeout(connect=10, read=300),
        "retries": urllib3.Retry(total=5, backoff_factor=0.2,
                                 status_forcelist=[500, 502, 503, 504]),
    }
    if urlparse(settings.endpoint).scheme == "https":
        options.update(cert_reqs="CERT_REQUIRED", ca_certs=settings.ca_file or certifi.where())
    return urllib3.PoolManager(**options)  # type: ignore[arg-type]


def make_minio(settings: S3Settings) -> Minio:
    url = urlparse(settings.endpoint)
    if url.scheme not in ("http", "https") or not url.netloc:
        raise ValueError(f"S3_ENDPOINT must be http(s)://host[:port], got {settings.endpoint!r}")
    return Minio(
        url.netloc,
        access_key=settings.access_key.get_secret_value(),
        secret_key=settings.secret_key.get_secret_value(),
        secure=url.scheme == "https",
        region=settings.region,
        http_client=http_client(settings),
    )


def store_error(exc: BaseException, action: str) -> BaseException:
    """The typed error for a failure of the store while doing `action`."""
    if isinstance(exc, ObjectMissing | StoreUnavailable | StoreRefused):
        return exc
    if isinstance(exc, S3Error) and exc.code in MISSING_CODES:
        return ObjectMissing(f"{action}: {exc.code}")
    if isinstance(exc, S3Error) and (exc.code in STORE_FULL_CODES
                                     or getattr(exc.response, "status", None) == 507):
        return StoreFull(f"object store is full, failed to {action}: {exc.code}")
    if is_transient(exc):
        return StoreUnavailable(f"object store failed to {action}: {type(exc).__name__}: {exc}")
    if isinstance(exc, S3Error):
        return StoreRefused(f"object store refused to {action}: {exc.code}")
    return exc


@contextlib.contextmanager
def typed_errors(action: str) -> Iterator[None]:
    try:
        yield
    except (ObjectMissing, StoreUnavailable, StoreRefused):
        raise
    except Exception as exc:
        typed = store_error(exc, action)
        if typed is exc:
            raise
        raise typed from exc
