"""ASGI entry point: HTTP through Django, websockets through Channels (session-authenticated).

One exception: the Hub's webhook (`POST /hub/webhook/<public_id>/`) goes to a lean ASGI callable that skips
Django's middleware stack; it runs the same ingest function as the Django view (conversations/webhook.py).
"""

import asyncio
import functools
import os
import threading
from typing import Any

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hubdash.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402  (needs the app registry loaded above)
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402

from channels_app.realtime import publisher  # noqa: E402
from conversations.routing import websocket_urlpatterns  # noqa: E402
from conversations.webhook import hub_webhook_asgi, match_webhook  # noqa: E402
from conversations.worker import start_in_process  # noqa: E402
from hubdash.origin import SameOriginValidator  # noqa: E402
from hubdash.startup import bound_exit, check_static_files, settle_garbage_collector  # noqa: E402

check_static_files()  # DEBUG=false without `collectstatic`: stop here, with what to run, not 500 per page
bound_exit()  # a SIGTERM ends a server process within seconds, even with a request thread stuck


def _skip_twisted_form_parsing() -> None:
    """daphne hands the application each request's raw body, but Twisted first parses the Content-Type of
    every POST through the `email` package (to fill `request.args` from form bodies, which daphne never
    reads): 10 % of the CPU a webhook costs daphne. Twisted has a switch for it; daphne does not pass it."""
    try:
        from daphne.http_protocol import WebRequest  # type: ignore[import-untyped]
    except ImportError:  # another server (uvicorn)
        return
    if getattr(WebRequest.__init__, "hubdash_no_form_parsing", False):
        return
    original = WebRequest.__init__

    @functools.wraps(original)
    def __init__(self: WebRequest, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("parsePOSTFormSubmission", False)
        original(self, *args, **kwargs)

    __init__.hubdash_no_form_parsing = True  # type: ignore[attr-defined]
    WebRequest.__init__ = __init__


_skip_twisted_form_parsing()


async def http_application(scope, receive, send):
    loop = asyncio.get_running_loop()
    if threading.current_thread() is threading.main_thread():
        # The server's own, long-lived loop (daphne runs it in the main thread; a test's short-lived loop
        # runs elsewhere): realtime events from request threads are queued onto it rather than waited
        # for, so the webhook answers without a round trip through the channel layer (events.py).
        publisher.bind(loop)
    if settings.RUN_WORKER_IN_PROCESS:
        start_in_process(loop)
    # The webhook is the hottest path: sessions, CSRF, auth and messages middleware do nothing for it
    # (measured: +60 % events/s without them). Everything else, including GET on that URL, is Django's.
    public_id = match_webhook(scope)
    if public_id is not None:
        await hub_webhook_asgi(scope, receive, send, public_id=public_id)
    else:
        await django_asgi_app(scope, receive, send)


application = ProtocolTypeRouter(
    {
        "http": http_application,
        # Only a page of this very origin (scheme, host and port) may open a socket: hubdash/origin.py.
        # (Django's URLPattern is what channels' URLRouter takes; its stubs name a private subtype.)
        "websocket": SameOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))  # type: ignore[arg-type]
        ),
    }
)
settle_garbage_collector()  # last: everything above is loaded for good
