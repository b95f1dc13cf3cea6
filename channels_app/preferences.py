"""Every request in the user's language and time zone.

LocaleMiddleware has already picked the browser's language (Accept-Language, else LANGUAGE_CODE); a
signed-in user's own choice replaces it, and their time zone is activated for the request, so templates,
forms (the review's date filters) and `timezone.localtime` all use it. Anything rendered outside a
request (a websocket frame, a worker) wraps its rendering in `user_locale(user)`.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation
from django.utils.translation.trans_real import parse_accept_lang_header

from channels_app.access import AuthUser, User
from channels_app.models import UserPreferences, time_zone_names

# Where `preferences_of` remembers its answer on the user object (a lazy request.user forwards it).
_CACHE = "_hubdash_preferences"
# The user's side of UserPreferences.user: whether a user was read with their preferences joined.
_JOINED = UserPreferences._meta.get_field("user").remote_field


class PreferencesBackend(ModelBackend):
    """Django's model backend, reading the signed-in user with their preferences in one query: its
    `get_user` runs on every request and every websocket handshake, and every request then needs the
    preferences (UserPreferencesMiddleware), which cost a query of their own before."""

    def get_user(self, user_id: int) -> AuthUser | None:
        user = get_user_model()._default_manager.select_related("preferences").filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None


# The notification settings' defaults, for a user without a preferences row (UserPreferences' defaults).
_NOTIFY_DEFAULTS = tuple(
    bool(getattr(UserPreferences._meta.get_field(name), "default", False))
    for name in UserPreferences.NOTIFICATION_FIELDS
)


@dataclass(frozen=True)
class Preferences:
    language: str = ""  # "" = the browser's
    time_zone: str = ""  # "" = not known yet: settings.TIME_ZONE
    # UserPreferences.NOTIFICATION_FIELDS, in that order.
    notifications: tuple[bool, ...] = _NOTIFY_DEFAULTS

    @property
    def notify(self) -> list[str]:
        """The notifications on, as the inbox page tells its script: "desktop:new", "sound:assigned"…"""
        names = (
            "desktop:new",
            "desktop:assigned",
            "desktop:mention",
            "sound:new",
            "sound:assigned",
            "sound:mention",
        )
        return [name for name, on in zip(names, self.notifications, strict=True) if on]

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone or settings.TIME_ZONE)


def preferences_of(user: User) -> Preferences:
    """The user's saved choices (one query, remembered on the user object for the request)."""
    if not user.is_authenticated:
        return Preferences()
    cached = getattr(user, _CACHE, None)
    if cached is None:
        if _JOINED.is_cached(user):  # read with the user (PreferencesBackend): no query
            saved = getattr(user, "preferences", None)  # None: the user never saved any
            names = ("language", "time_zone", *UserPreferences.NOTIFICATION_FIELDS)
            row = tuple(getattr(saved, name) for name in names) if saved else None
        else:
            row = (
                UserPreferences.objects.filter(user_id=user.pk)
                .values_list("language", "time_zone", *UserPreferences.NOTIFICATION_FIELDS)
                .first()
            )
        cached = Preferences(row[0], row[1], tuple(row[2:])) if row else Preferences()
        # A zone this machine no longer knows (tzdata removed it) must not break every page.
        if cached.time_zone and cached.time_zone not in time_zone_names():
            cached = Preferences(cached.language, "", cached.notifications)
        setattr(user, _CACHE, cached)
    return cached


def forget_preferences(user: User) -> None:
    """After a change, so the rest of the request (the redirect's flash message) uses the new ones."""
    if hasattr(user, _CACHE):
        delattr(user, _CACHE)


class UserPreferencesMiddleware:
    """After AuthenticationMiddleware: activate the signed-in user's language and time zone."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        preferences = preferences_of(user) if user is not None else Preferences()
        if preferences.language:
            translation.activate(preferences.language)
            request.LANGUAGE_CODE = translation.get_language()
        # Always set, never inherited: a thread that served another user's request must not keep their zone.
        if preferences.time_zone:
            timezone.activate(preferences.zone)
        else:
            timezone.deactivate()
        return self.get_response(request)


@dataclass(frozen=True)
class Locale:
    """The language and time zone something is drawn in: part of the key of anything drawn once and
    shared (a live frame is drawn once per locale, not once per viewer)."""

    language: str
    time_zone: str


def locale_of(user: User, *, fallback_language: str = "") -> Locale:
    """`user`'s language (else `fallback_language`, e.g. the socket's Accept-Language, else
    LANGUAGE_CODE) and time zone (else TIME_ZONE)."""
    preferences = preferences_of(user)
    language = preferences.language or fallback_language or settings.LANGUAGE_CODE
    return Locale(translation.get_supported_language_variant(language), preferences.zone.key)


def accept_language(headers: Iterable[tuple[bytes, bytes]]) -> str:
    """The first supported language of an Accept-Language header among ASGI `headers` ("" if none): what
    LocaleMiddleware would pick for a websocket, which no middleware sees."""
    for name, value in headers:
        if name.lower() != b"accept-language":
            continue
        for code, _quality in parse_accept_lang_header(value.decode("latin-1")):
            if code == "*":
                break
            try:
                return translation.get_supported_language_variant(code)
            except LookupError:
                continue
    return ""


@contextmanager
def activated(locale: Locale) -> Iterator[Locale]:
    with translation.override(locale.language), timezone.override(zoneinfo.ZoneInfo(locale.time_zone)):
        yield locale


@contextmanager
def user_locale(user: User, *, fallback_language: str = "") -> Iterator[Locale]:
    """Render for `user` outside a request (see `locale_of`)."""
    with activated(locale_of(user, fallback_language=fallback_language)) as locale:
        yield locale
