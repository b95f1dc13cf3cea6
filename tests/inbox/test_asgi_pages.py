"""A page served through Django's ASGI handler, as daphne serves it: the middleware runs in the view's
thread, without hopping to the event loop and back (hubdash/middleware.py)."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.testing import HttpCommunicator
from django.core.handlers.asgi import ASGIHandler
from django.utils.deprecation import MiddlewareMixin

from tests.inbox.inbox_support import make_conversation, session_headers

pytestmark = pytest.mark.django_db(transaction=True)


def serve(user, path: str) -> tuple[int, list[str]]:
    """GET `path` as `user` through a new ASGI handler (today's MIDDLEWARE); the status, and the
    middleware that ran on the event loop."""
    on_the_loop: list[str] = []
    run_async = MiddlewareMixin.__acall__

    async def watched(self, request):
        on_the_loop.append(type(self).__name__)
        return await run_async(self, request)

    headers = [(name, value) for name, value in session_headers(user) if name in (b"cookie", b"host")]
    communicator = HttpCommunicator(ASGIHandler(), "GET", path, headers=headers)
    MiddlewareMixin.__acall__ = watched
    try:
        response = async_to_sync(communicator.get_response)(timeout=10)
    finally:
        MiddlewareMixin.__acall__ = run_async
    return response["status"], on_the_loop


def test_the_inbox_runs_its_middleware_in_the_views_thread(agent_a, app_a):
    make_conversation(app_a, name="Joana")

    status, on_the_loop = serve(agent_a, "/")

    assert status == 200
    assert on_the_loop == []


def test_without_the_synchronous_tail_middleware_would_run_on_the_loop(agent_a, app_a, settings):
    """The control: the same page with the last entry removed hops for Django's own middleware."""
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != "hubdash.middleware.SynchronousChain"]

    status, on_the_loop = serve(agent_a, "/")

    assert status == 200
    assert "XFrameOptionsMiddleware" in on_the_loop
