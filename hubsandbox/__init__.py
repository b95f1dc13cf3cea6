"""A local emulator of the Hub Chatt2.me messaging API, built from hub-api.md alone.

It imports nothing from the product (conventions.md): it is an independent reading of the reference that
can catch the product's mistakes. The package is also a Django app only so that
`manage.py hub_sandbox` exists; the server itself is plain stdlib Python.
"""

from .server import HubError, HubSandbox
from .webhooks import encode_event, signature_header

__all__ = ["HubError", "HubSandbox", "encode_event", "signature_header"]
