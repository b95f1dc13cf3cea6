"""The team: users, their memberships and roles, and (de)activation, audited."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext

from channels_app import audit
from channels_app.access import AuthUser
from channels_app.actions.common import SettingsError
from channels_app.models import (
    Application,
    Membership,
)

# --- Team ------------------------------------------------------------------------------------------------


def _admins_left(application: Application, *, without_user_id: int) -> bool:
    return (
        Membership.objects.filter(application=application, role=Membership.Role.ADMIN, user__is_active=True)
        .exclude(user_id=without_user_id)
        .exists()
    )


def _has_other_membership(user: AuthUser, *, application: Application) -> bool:
    return Membership.objects.filter(user=user).exclude(application=application).exists()


def _must_keep_an_admin(application: Application) -> str:
    return gettext("%(application)s must keep at least one active admin.") % {"application": application.name}


def do_create_agent(
    *,
    actor: AuthUser,
    username: str,
    first_name: str,
    last_name: str,
    email: str,
    password: str,
    access: dict[Application, str],
) -> AuthUser:
    """A new user with access to the given Applications (role per Application: admin or agent).

    At least one Application is required: a user nobody administers could not be managed again.
    """
    if not access:
        raise SettingsError(gettext("Give the new user access to at least one Application."))
    User = get_user_model()
    with transaction.atomic():
        user = User.objects.create_user(
            username=username, email=email, password=password, first_name=first_name, last_name=last_name
        )
        profile = {"username": username, "name": user.get_full_name(), "email": email}
        for application, role in access.items():
            Membership.objects.create(user=user, application=application, role=role)
            # Recorded once per Application, so each Application's admins see who joined their team.
            audit.record(
                actor=actor,
                action="user.created",
                application=application,
                target=user,
                target_type="user",
                target_repr=username,
                changes=audit.diff({}, {**profile, "role": role}),
            )
    return user


def do_set_membership(
    *,
    actor: AuthUser,
    user: AuthUser,
    application: Application,
    role: str | None,
) -> Membership | None:
    """Give `user` `role` on `application`, or revoke their access (role None).

    Only a superuser may revoke a user's last membership: without one the user (still able to sign in)
    is in no admin's team list, so no admin could see, reactivate or deactivate them again.
    Open tabs of the user hear of it at commit, once per transaction (channels_app/signals.py).
    """
    with transaction.atomic():
        # Lock the user first: two admins revoking the user's last two memberships at once would each
        # see the other's row and both succeed. do_set_user_active locks the same row.
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()
        membership = Membership.objects.select_for_update().filter(user=user, application=application).first()
        old_role = membership.role if membership else None
        if old_role == role:
            return membership
        if old_role == Membership.Role.ADMIN and not _admins_left(application, without_user_id=user.pk):
            raise SettingsError(_must_keep_an_admin(application))
        if role is None:
            assert membership is not None  # old_role differs from role (None), so there was one
            if not actor.is_superuser and not _has_other_membership(user, application=application):
                raise SettingsError(
                    gettext(
                        "%(user)s has no other Application: deactivate them instead (they can no longer "
                        "sign in, and stay in your team list as deactivated), or give them another "
                        "Application first."
                    )
                    % {"user": user.get_username()}
                )
            membership.delete()
            action, membership = "membership.revoked", None
        elif membership is None:
            membership = Membership.objects.create(user=user, application=application, role=role)
            action = "membership.granted"
        else:
            membership.role = role
            membership.save(update_fields=["role"])
            action = "membership.changed"
        audit.record(
            actor=actor,
            action=action,
            application=application,
            target=user,
            target_type="user",
            target_repr=user.get_username(),
            changes={"role": {"from": old_role, "to": role}},
        )
    return membership


def do_set_user_active(*, actor: AuthUser, user: AuthUser, active: bool) -> AuthUser:
    """Deactivate (cannot sign in; their messages and audit entries stay) or reactivate a user."""
    if user.pk == actor.pk:
        raise SettingsError(gettext("You cannot deactivate yourself."))
    if user.is_superuser and not actor.is_superuser:
        raise SettingsError(gettext("Only a superuser can change a superuser."))
    User = get_user_model()
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        memberships = list(Membership.objects.filter(user=locked).select_related("application"))
        if not actor.is_superuser:
            administered = set(
                Membership.objects.filter(user=actor, role=Membership.Role.ADMIN).values_list(
                    "application_id", flat=True
                )
            )
            if any(m.application_id not in administered for m in memberships):
                # Deactivating would lock them out of other teams' Applications too.
                raise SettingsError(
                    gettext(
                        "%(user)s also works on Applications you do not administer: "
                        "revoke their access instead, or ask a superuser."
                    )
                    % {"user": locked.get_username()}
                )
        if locked.is_active == active:
            return locked
        if not active:
            for m in memberships:
                if m.role == Membership.Role.ADMIN and not _admins_left(
                    m.application, without_user_id=locked.pk
                ):
                    raise SettingsError(_must_keep_an_admin(m.application))
        locked.is_active = active
        locked.save(update_fields=["is_active"])
        for m in memberships:
            audit.record(
                actor=actor,
                action="user.reactivated" if active else "user.deactivated",
                application=m.application,
                target=locked,
                target_type="user",
                target_repr=locked.get_username(),
                changes={"active": {"from": not active, "to": active}},
            )
    return locked


def do_set_access(*, actor: AuthUser, user: AuthUser, access: dict[Application, str | None]) -> None:
    """Apply a whole access form at once: all of it, or (e.g. the last admin) none of it.

    Grants and changes go first, revocations last, so "the user's last membership" is judged on what
    the whole form leaves (swapping one Application for another is allowed; revoking all of them is not).
    """
    ordered = sorted(access.items(), key=lambda item: item[1] is None)  # stable: form order otherwise
    with transaction.atomic():
        for application, role in ordered:
            # The user's open tabs hear of the whole form once, at commit (channels_app/signals.py).
            do_set_membership(actor=actor, user=user, application=application, role=role)
