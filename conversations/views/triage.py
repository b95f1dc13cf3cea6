"""Working a busy queue from the inbox: snoozing a conversation and acting on many selected rows.

Thin like the thread's own actions (views/inbox.py): parse with a form, authorize with the one
fetch-and-check helper, call one action, answer with the live frame of what changed.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from channels_app.access import AuthenticatedRequest, AuthUser
from conversations.actions.bulk import BULK_ACTIONS, BULK_LIMIT, do_bulk_action
from conversations.actions.snooze import do_snooze
from conversations.actions.threads import NOT_ASSIGNABLE, ThreadActionError
from conversations.forms import SnoozeForm
from conversations.live import base_context, frame, row_html
from conversations.selectors.teamwork import label_for
from conversations.selectors.thread import conversation_for
from conversations.views.inbox import _filters_of_page, _refused, _thread_action


@login_required
@require_POST
def snooze(request: AuthenticatedRequest, conversation_id: int) -> HttpResponse:
    """Snooze until a preset (`preset`) or a custom time (`until`, in the agent's time zone)."""
    conversation = conversation_for(request.user, conversation_id)
    form = SnoozeForm(request.POST)
    if not form.is_valid():
        return _refused(request, conversation, form.first_error(), title=_("Not snoozed"))
    until = form.cleaned_data["until"]
    return _thread_action(
        request,
        conversation,
        lambda: do_snooze(conversation=conversation, until=until, actor=request.user),
        refused_title=_("Not snoozed"),
    )


def _toast(text: str) -> str:
    return format_html('<div id="inbox-toast" class="toast" data-live="replace" role="alert">{}</div>', text)


@login_required
@require_POST
def bulk(request: AuthenticatedRequest) -> HttpResponse:
    """One action over the selected rows (`ids`): each is done as from its thread; the answer redraws
    their rows in this tab and says how many were done, refused or not found."""
    data = request.POST
    action = data.get("action", "")
    ids = [int(v) for v in data.getlist("ids") if v.isdigit()]
    if action not in BULK_ACTIONS or not ids or len(ids) > BULK_LIMIT:
        return HttpResponse(frame(_toast(_("Select conversations and an action."))), status=422)
    assignee: AuthUser | None = None
    until = None
    label = None
    if action == "assign":
        value = data.get("assignee", "")
        if value == "me":
            assignee = request.user
        elif value.isdigit():
            assignee = get_user_model().objects.filter(pk=int(value), is_active=True).first()
            if assignee is None:
                return HttpResponse(frame(_toast(str(NOT_ASSIGNABLE))), status=422)
    elif action == "snooze":
        form = SnoozeForm(data)
        if not form.is_valid():
            return HttpResponse(frame(_toast(form.first_error())), status=422)
        until = form.cleaned_data["until"]
    elif action in ("label_add", "label_remove"):
        try:  # a label of an Application the agent sees; another tenant's is as unknown ("Choose a label.")
            label = label_for(request.user, data.get("label", ""))
        except Http404:
            label = None
    try:
        result = do_bulk_action(
            conversation_ids=ids,
            action=action,
            actor=request.user,
            assignee=assignee,
            until=until,
            label=label,
        )
    except ThreadActionError as error:
        return HttpResponse(frame(_toast(str(error))), status=422)
    filters = _filters_of_page(request)
    base = base_context(user=request.user, filters=filters, request=request)
    rows = [
        row_html(conversation_id=pk, user=request.user, filters=filters, active_id=None, base=base)
        for pk in result.done
    ]
    report = [ngettext("Done for %(n)d conversation.", "Done for %(n)d conversations.", len(result.done))]
    if result.refused:
        n = len(result.refused)
        reason = next(iter(result.refused.values()))
        report.append(
            ngettext("%(n)d refused: %(reason)s", "%(n)d refused: %(reason)s", n) % {"n": n, "reason": reason}
        )
    if result.not_found:
        n = len(result.not_found)
        report.append(ngettext("%(n)d not found.", "%(n)d not found.", n) % {"n": n})
    report[0] = report[0] % {"n": len(result.done)}
    return HttpResponse(frame(*rows, _toast(" ".join(report))))
