"""A typed Python client for the suanli API, for the CLI and for third parties.

>>> from suanli.sdk import Client
>>> with Client("http://127.0.0.1:8000", api_key="sk_...") as client:
...     client.offers(model="H800")
"""

from suanli.sdk.client import ApiError, Client

__all__ = ["ApiError", "Client"]
