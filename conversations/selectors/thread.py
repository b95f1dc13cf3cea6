"""One conversation's thread: access by id, pages of messages, a reconnect's catch-up, the options a
customer picked, a reply's timeline and who may be assigned.

Access comes first (`conversation_for`: 404 for what the user may not see), then the rows.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Hashable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TypedDict, TypeVar

from django.db.models import Q, QuerySet
from django.http import Http404

from channels_app.access import AuthUser, User, visible_applications
from channels_app.hub.message_content import parse_content
from channels_app.models import Application, Membership, WhatsAppTemplate
from channels_app.roster import roster_of
from conversations.models import Contact, Conversation, Message, MessageStatusChange, SendAttempt
from conversations.selectors.inbox import ROW_DEFERRED

T = TypeVar("T")

THREAD_PAGE_SIZE = 40
# What passes between the customer and the team, as opposed to the team's own notes and activity lines.
CUSTOMER_DIRECTIONS = (Message.Direction.INBOUND, Message.Direction.OUTBOUND)
AUTHOR_DEFERRED = ("author__password", "author__last_login", "author__email", "author__date_joined")


def conversation_for(
    user: User,
    conversation_id: int | str,
    *,
    application_ids: Collection[int] | None = None,
    bare: bool = False,
) -> Conversation:
    """The conversation if the user may see its Application; else 404 (never 403: ids stay secret).

    `application_ids`: the user's visible Applications, when the caller read them in this request;
    otherwise they are a subquery of this one query (one row by primary key: no plan to spoil).
    `bare`: the conversation's own row only, for a page of messages (which shows nothing of the
    contact, channel or assignee): five joins fewer to plan and load."""
    scope = visible_applications(user).values("id") if application_ids is None else list(application_ids)
    qs = Conversation.objects.all()
    if not bare:
        qs = qs.select_related("application", "channel", "contact", "assignee", "status_changed_by").defer(
            *ROW_DEFERRED
        )
    try:
        return qs.filter(application_id__in=scope).get(pk=int(conversation_id))
    except (Conversation.DoesNotExist, ValueError, TypeError):
        raise Http404("No such conversation.") from None


def message_for(user: User, conversation_id: int | str, message_id: int | str) -> Message:
    """A message of a conversation the user may see; else 404."""
    conversation = conversation_for(user, conversation_id)
    try:
        return (
            Message.objects.select_related("author", "channel", "conversation")
            .filter(conversation=conversation)
            .get(pk=int(message_id))
        )
    except (Message.DoesNotExist, ValueError, TypeError):
        raise Http404("No such message.") from None


def message_sort_key(message_id: int) -> str:
    return f"{message_id:012d}"


def _messages() -> QuerySet[Message]:
    return Message.objects.select_related("author", "conversation__contact")


@dataclass
class ThreadPage:
    messages: list[Message]
    has_older: bool
    # More messages after these (a page opened at a search hit, or one page of them catching up).
    has_newer: bool = False

    @property
    def oldest_id(self) -> int | None:
        return self.messages[0].pk if self.messages else None

    @property
    def newest_id(self) -> int | None:
        return self.messages[-1].pk if self.messages else None


def thread_page(
    *,
    conversation: Conversation,
    before_id: int | None = None,
    after_id: int | None = None,
    limit: int = THREAD_PAGE_SIZE,
    team_items: bool = True,
) -> ThreadPage:
    """Messages in id order, keyset on the id both ways: the newest `limit`, those before `before_id`
    (scrolling up) or those after `after_id` (catching up), oldest first. One query.

    `team_items`: with the team's notes and activity lines (the inbox), or the customer's messages and
    the replies only (the API's messages)."""
    # The ids from the `thread_keyset` index alone, as a subquery; then those rows by primary key. Asked
    # for whole rows at once, PostgreSQL walked the primary key backwards instead, filtering on the
    # conversation: at the far end of a long thread, through most of the table (350 ms at 1M messages).
    ids = Message.objects.filter(conversation=conversation).values("id")
    if not team_items:
        ids = ids.filter(direction__in=CUSTOMER_DIRECTIONS)
    if after_id is not None:
        ids = ids.filter(id__gt=after_id).order_by("id")[: limit + 1]  # one more: is there a newer page?
    else:
        if before_id is not None:
            ids = ids.filter(id__lt=before_id)
        ids = ids.order_by("-id")[: limit + 1]  # one more than shown: is there an older page?
    # The author for the bubble's name; not their password hash or last sign-in, which the page never
    # shows (and which would make every cached bubble of theirs stale at each sign-in: fragments.py).
    messages = list(
        Message.objects.select_related("author").defer(*AUTHOR_DEFERRED).filter(pk__in=ids).order_by("id")
    )
    has_older = after_id is not None or len(messages) > limit
    has_newer = after_id is not None and len(messages) > limit
    if has_newer:
        messages = messages[:limit]  # the extra one is the newest
    elif len(messages) > limit:
        messages = messages[len(messages) - limit :]  # the extra one is the oldest
    attach_choices(messages)
    return ThreadPage(messages=messages, has_older=has_older, has_newer=has_newer)


def matching_message_id(*, conversation: Conversation, term: str) -> int | None:
    """The newest message of the thread whose preview or text holds `term` (a search hit), if any."""
    hit = (
        Message.objects.filter(conversation=conversation)
        .filter(Q(preview__icontains=term) | Q(content__text__icontains=term))
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
    )
    return hit


def thread_page_around(
    *, conversation: Conversation, message_id: int, limit: int = THREAD_PAGE_SIZE
) -> ThreadPage:
    """The thread opened at one message (a search hit): it and the messages just before and after it,
    with sentinels that load the rest both ways. Two keyset pages on the id, two queries."""
    half = limit // 2
    before = thread_page(conversation=conversation, before_id=message_id + 1, limit=half)
    after = thread_page(conversation=conversation, after_id=message_id, limit=half)
    messages = [*before.messages, *after.messages]
    attach_choices(messages)  # a prompt and its answer may straddle the two pages
    return ThreadPage(messages=messages, has_older=before.has_older, has_newer=after.has_newer)


def attach_choices(messages: Iterable[Message]) -> None:
    """Mark which option of an agent's buttons/list the customer picked, on both messages.

    Sets `message.chosen_option_id` on the prompt and `message.prompt_id` on the answer; works within
    the given (id-ordered) messages, so it costs no query.
    """
    open_prompts: list[Message] = []
    for message in messages:
        if message.direction == Message.Direction.OUTBOUND and option_ids(message.content):
            open_prompts.append(message)
        answer = answered_option_id(message)
        if answer:
            for prompt in reversed(open_prompts):
                if answer in option_ids(prompt.content):
                    prompt.chosen_option_id = answer
                    message.prompt_id = prompt.pk
                    break


def option_ids(content: object) -> list[str]:
    """The ids of the buttons / list rows an outbound interactive message offers."""
    return list(parse_content(content).option_ids)


def answered_option_id(message: Message) -> str:
    """The option id an inbound button/list reply carries, or ""."""
    if message.direction != Message.Direction.INBOUND:
        return ""
    return parse_content(message.content).answered_option_id


def prompt_answered_by(message: Message) -> Message | None:
    """For a live inbound answer: the agent's prompt it answers (among the recent ones), marked chosen."""
    answer = answered_option_id(message)
    if not answer:
        return None
    recent = list(
        _messages()
        .filter(
            conversation_id=message.conversation_id,
            direction=Message.Direction.OUTBOUND,
            id__lt=message.pk,
            content__has_key="interactive",
        )
        .order_by("-id")[:20]
    )
    for prompt in recent:
        if answer in option_ids(prompt.content):
            prompt.chosen_option_id = answer
            message.prompt_id = prompt.pk
            return prompt
    return None


def message_with_context(*, message_id: int, conversation_id: int) -> list[Message]:
    """A message for a live update, plus the prompt it answers when it is a button/list reply."""
    message = _messages().filter(pk=message_id, conversation_id=conversation_id).first()
    if message is None:
        return []
    prompt = prompt_answered_by(message)
    return [prompt, message] if prompt else [message]


@dataclass
class ThreadCatchUp:
    messages: list[Message]
    complete: bool  # False: too much happened, the browser should take a fresh thread instead


def thread_changes(
    *, conversation: Conversation, after_id: int, since: datetime, limit: int = 200
) -> ThreadCatchUp:
    """Messages a reconnecting browser may have missed: newer than the newest it has, created or
    re-statused since `since` (ids are not committed in order, statuses change old messages)."""
    changed = (
        Q(id__gt=after_id)
        | Q(created_at__gte=since)
        | Q(reacted_at__gte=since)
        | Q(
            pk__in=MessageStatusChange.objects.filter(
                message__conversation=conversation, received_at__gte=since
            ).values("message_id")
        )
        | Q(
            pk__in=SendAttempt.objects.filter(message__conversation=conversation)
            .filter(Q(started_at__gte=since) | Q(finished_at__gte=since))
            .values("message_id")
        )
    )
    messages = list(_messages().filter(conversation=conversation).filter(changed).order_by("id")[: limit + 1])
    if len(messages) > limit:
        return ThreadCatchUp(messages=[], complete=False)
    # Prompts answered by a message in the batch are re-rendered too, so their chosen option shows. Those
    # in the batch pair up without a query; only an answer whose prompt is older costs one.
    attach_choices(messages)
    in_batch = {m.pk for m in messages}
    prompts = [
        p
        for m in messages
        if getattr(m, "prompt_id", None) is None and (p := prompt_answered_by(m)) and p.pk not in in_batch
    ]
    batch = sorted([*messages, *prompts], key=lambda m: m.pk)
    attach_choices(batch)
    return ThreadCatchUp(messages=batch, complete=True)


class MessageTimeline(TypedDict):
    changes: list[MessageStatusChange]
    attempts: list[SendAttempt]


def message_timeline(*, message: Message) -> MessageTimeline:
    """Every status report and send attempt of a reply, oldest first (the bubble's "details")."""
    return {
        "changes": list(message.status_changes.order_by("received_at", "id")),
        "attempts": list(message.attempts.order_by("number")),
    }


def assignable_agents(*, application: Application) -> list[AuthUser]:
    """Active users who may answer this Application (members of it): a thread header's assignee menu,
    as this process keeps them (`page_members`)."""
    return page_members([application]).of(application.pk)


@dataclass
class Members:
    """The active members of some Applications, each list by name (as the database orders names)."""

    # Of any of them, each once (the bulk bar's assignees: each assignment is still checked against the
    # conversation's own Application).
    everyone: list[AuthUser]
    by_application: dict[int, list[AuthUser]]

    def of(self, application_id: int) -> list[AuthUser]:
        return self.by_application.get(application_id, [])


def page_members(applications: list[Application]) -> Members:
    """`members_of` these Applications (`visible_application_list`'s), as this process read them at the
    Applications' roster versions (channels_app/roster.py): no query until one of them changes."""
    return roster_of(
        "members", applications, lambda: members_of(application_ids=[a.pk for a in applications])
    )


def conversation_roster(what: Hashable, conversation: Conversation, read: Callable[[], T]) -> T:
    """`roster_of` the conversation's Application: what this process read for `what` at its roster
    version, when the conversation came with its Application (`conversation_for`); else `read()`."""
    if not Conversation.application.is_cached(conversation):
        return read()
    return roster_of(what, [conversation.application], read)


def channel_templates(conversation: Conversation) -> list[WhatsAppTemplate]:
    """The composer's template library: the conversation's channel's (`conversation_roster`)."""
    return conversation_roster(
        ("templates", conversation.channel_id),
        conversation,
        lambda: list(conversation.channel.templates.all()),
    )


def members_of(*, application_ids: Collection[int]) -> Members:
    """One query for a page that lists both the bulk bar's assignees (any visible Application's members)
    and an open thread's (its own Application's)."""
    everyone: dict[int, AuthUser] = {}
    by_application: dict[int, list[AuthUser]] = {}
    memberships = (
        Membership.objects.filter(application_id__in=list(application_ids), user__is_active=True)
        .select_related("user")
        .defer("user__password")  # kept by each process (`page_members`): no password hash in it
        .order_by("user__first_name", "user__last_name", "user__username", "user_id")
    )
    for membership in memberships:
        user = everyone.setdefault(membership.user_id, membership.user)  # one object per person
        by_application.setdefault(membership.application_id, []).append(user)
    return Members(everyone=list(everyone.values()), by_application=by_application)


# --- The contact panel ----------------------------------------------------------------------------------

CANDIDATES_LIMIT = 8


@dataclass
class ContactPanel:
    contact: Contact
    # This contact and the ones linked to it, each with its channel and conversation, oldest first.
    linked: list[Contact]

    @property
    def first_seen(self) -> datetime:
        return min(c.created_at for c in self.linked)

    @property
    def last_seen(self) -> datetime | None:
        seen = [c.conversation.last_inbound_at for c in self.linked if c.conversation.last_inbound_at]
        return max(seen) if seen else None


def contact_panel(*, conversation: Conversation) -> ContactPanel:
    """The panel beside a thread: its contact, and every contact linked to it with their conversations
    (one query for the linked contacts, joined to their channels and conversations)."""
    contact = conversation.contact
    if contact.person_id is None and _loaded_with_parents(conversation):
        # Linked to no one (most contacts): the panel lists this thread alone, loaded already.
        Contact.channel.field.set_cached_value(contact, conversation.channel)
        Contact.conversation.related.set_cached_value(contact, conversation)
        return ContactPanel(contact=contact, linked=[contact])
    if contact.person_id is None:
        linked = Contact.objects.select_related("channel", "conversation", "conversation__assignee").filter(
            pk=contact.pk
        )
    else:
        linked = (
            Contact.objects.select_related("channel", "conversation", "conversation__assignee")
            .filter(person_id=contact.person_id)
            .order_by("created_at", "id")
        )
    return ContactPanel(contact=contact, linked=list(linked))


def _loaded_with_parents(conversation: Conversation) -> bool:
    """Whether the conversation came with its channel and assignee (`conversation_for`), all that the
    panel shows of a thread besides the conversation's own fields; its contact is on that channel."""
    return (
        Conversation.channel.is_cached(conversation)
        and Conversation.assignee.is_cached(conversation)
        and conversation.contact.channel_id == conversation.channel_id
    )


def live_contact_panel(*, conversation_id: int) -> tuple[Conversation, ContactPanel] | None:
    """A conversation's panel for a live event, read once per server process for every tab that has the
    thread open (fanout.py): not scoped to a user, so each tab checks its own access first. None when
    the conversation is gone."""
    conversation = (
        Conversation.objects.select_related("application", "contact").filter(pk=conversation_id).first()
    )
    if conversation is None:
        return None
    return conversation, contact_panel(conversation=conversation)


def link_candidates(*, conversation: Conversation, term: str) -> list[Contact]:
    """Contacts of the same Application an agent may link this one to: not itself nor already linked,
    whose name or channel id holds `term`."""
    term = term.strip()[:100]
    if len(term) < 2:
        return []
    contact = conversation.contact
    qs = (
        Contact.objects.select_related("channel")
        .filter(channel__application_id=conversation.application_id)
        .filter(Q(display_name__icontains=term) | Q(external_id__icontains=term))
        .exclude(pk=contact.pk)
    )
    if contact.person_id:
        qs = qs.exclude(person_id=contact.person_id)
    return list(qs.order_by("-id")[:CANDIDATES_LIMIT])


def contact_for(user: AuthUser, contact_id: int) -> Contact:
    """A contact of an Application this user may see, or 404 (another tenant's is never hinted at)."""
    contact = (
        Contact.objects.select_related("channel")
        .filter(pk=contact_id, channel__application__in=visible_applications(user))
        .first()
    )
    if contact is None:
        raise Http404("No such contact.")
    return contact
