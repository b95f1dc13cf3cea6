"""How Django runs our middleware under daphne: in one thread, with the view.

Django's ASGI handler runs each middleware in the mode the ones below it allow. Most of Django's own
(sessions, CSRF, messages…) can run async, so they ran on the event loop, and each of their
`process_request`/`process_response` was a hop to the request's thread and back: ten or so per page,
each a handful of futures, a context copy and two thread switches. A sync-only middleware at the bottom
of the list makes Django run the whole chain synchronously, in the thread the view runs in. Measured on
the page benchmark (docs/benchmarks.md): 1 to 3 ms less server CPU per request, on every page.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest
from django.http.response import HttpResponseBase


class SynchronousChain:
    """Last in MIDDLEWARE; passes every request on. Being sync-only is its whole job (see above)."""

    sync_capable = True
    async_capable = False

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return self.get_response(request)
