"""Hubdash's settings plus one URL: the bare Django view the page benchmark uses as its anchor."""

from hubdash.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
