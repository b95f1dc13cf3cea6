"""Hubdash's URLs and `/bench/bare/`: a signed-in view that returns a word, through the same middleware
(sessions, authentication, CSRF, WhiteNoise): what a page costs before any query or template."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.urls import path

from hubdash.urls import urlpatterns as hubdash_urlpatterns


@login_required
def bare(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


urlpatterns = [path("bench/bare/", bare), *hubdash_urlpatterns]
