"""The review page: a user sees their suggestions and saves, shares, edits or dismisses them,
and watches their training report. Static files plus `create_app`, a small dev server that
forwards `/api/<service>/` to the services (what the ingress does in production)."""

from .app import create_app

__all__ = ["create_app"]
