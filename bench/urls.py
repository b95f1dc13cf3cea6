"""Hubdash's URLs and two bare views, through the same middleware (sessions, authentication, CSRF,
WhiteNoise): `/bench/bare/`, a signed-in view that returns a word (what a page costs before any query or
template), and `/bench/bare-post/`, a POST that is read and answered (what a webhook would cost)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from hubdash.urls import urlpatterns as hubdash_urlpatterns


@login_required
def bare(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


@csrf_exempt
def bare_post(request: HttpRequest) -> HttpResponse:
    """The ingest benchmark's anchor: a POST read through Django and answered, with no work at all."""
    return JsonResponse({"ok": True, "length": len(request.body)})


urlpatterns = [path("bench/bare/", bare), path("bench/bare-post/", bare_post), *hubdash_urlpatterns]
