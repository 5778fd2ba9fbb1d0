"""The HTTP API: FastAPI, one router per domain, documented at ``/docs``."""

from suanli.api.app import create_app

__all__ = ["create_app"]
