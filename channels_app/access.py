"""Who may see what. Every view, API endpoint and websocket asks here, in one step with the fetch."""

from datetime import datetime

from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.models import User as AuthUser
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django_htmx.middleware import HtmxDetails

from channels_app.models import Application, Membership

# Hubdash keeps Django's default user model (AUTH_USER_MODEL is not set), so annotations name it as
# `AuthUser`; code still reaches the class through get_user_model(). `User` is whoever makes a request.
User = AuthUser | AnonymousUser

__all__ = ["AuthUser", "AuthenticatedRequest", "User"]


class AuthenticatedRequest(HttpRequest):
    """The request a view behind `login_required` receives (a type only: Django builds the object).

    Its user is signed in, and django-htmx's middleware has added `htmx`."""

    user: AuthUser
    htmx: HtmxDetails


def visible_applications(user: User, *, role: str | None = None) -> QuerySet[Application]:
    """Applications the user is a member of (with `role`, only those). Superusers see all."""
    if not user.is_authenticated or not user.is_active:
        return Application.objects.none()
    if user.is_superuser:
        return Application.objects.all()
    memberships = Membership.objects.filter(user=user)
    if role:
        memberships = memberships.filter(role=role)
    return Application.objects.filter(id__in=memberships.values("application_id"))


def visible_application_ids(user: User, *, role: str | None = None) -> list[int]:
    return list(visible_applications(user, role=role).values_list("id", flat=True))


def access_widened_since(user: User, at: datetime) -> bool:
    """Whether the user may now see an Application they could not see at `at`: a list rendered then
    lacks its conversations (a tab that missed the live access change while reconnecting)."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return Application.objects.filter(created_at__gt=at).exists()
    return Membership.objects.filter(user=user, created_at__gt=at).exists()


def application_for(user: User, application_id: int, *, admin: bool = False) -> Application:
    """The Application if the user may see it (administer it, with admin=True); else 404.

    404 rather than 403 so that one tenant cannot learn which ids exist for another.
    """
    role = Membership.Role.ADMIN if admin else None
    try:
        return visible_applications(user, role=role).get(pk=application_id)
    except (Application.DoesNotExist, ValueError, TypeError):
        raise Http404("No such application.") from None


def is_admin_of_any(user: User) -> bool:
    return visible_applications(user, role=Membership.Role.ADMIN).exists()


def person_name(user: AuthUser | None) -> str:
    """How a person is named to their team: full name, else username ("" for nobody)."""
    if user is None:
        return ""
    return str(user.get_full_name() or user.get_username())
