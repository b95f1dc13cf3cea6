from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from channels_app.models import Application, Channel

AT_RISK_SHARE = 0.25
AT_RISK_MIN = timedelta(minutes=5)


class Person(models.Model):
    """Contacts that agents linked as one person across channels (the same customer on WhatsApp and
    Instagram). Only a grouping: each contact keeps its conversation and messages (actions/contacts.py)."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"person #{self.pk}"


class Contact(models.Model):
    """A customer as one channel knows them: the `from` of inbound and the `to` of outbound messages."""

    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="contacts")
    external_id = models.CharField(max_length=128)
    display_name = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Agents' notes about the customer (the contact panel), and the person it is linked to, if any.
    notes = models.TextField(blank=True)
    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="contacts"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "external_id"], name="one_contact_per_channel_id")
        ]

    def __str__(self) -> str:
        return self.display_name or self.external_id

    @property
    def label(self) -> str:
        return self.display_name or self.external_id


class Label(models.Model):
    """A tag an Application's admins define ("billing", "urgent") and agents put on conversations."""

    # A fixed palette: a colour is one of these, so a stored value can never be anything but a colour.
    COLOURS = (
        ("#e03131", _("Red")),
        ("#f08c00", _("Orange")),
        ("#f5b800", _("Yellow")),
        ("#2f9e44", _("Green")),
        ("#1098ad", _("Teal")),
        ("#1c7ed6", _("Blue")),
        ("#7048e8", _("Violet")),
        ("#d6336c", _("Pink")),
        ("#868e96", _("Grey")),
    )

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="labels")
    name = models.CharField(max_length=40)
    colour = models.CharField(max_length=7, choices=COLOURS, default="#1c7ed6")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(Lower("name"), "application", name="one_label_name_per_application")
        ]

    def __str__(self) -> str:
        return self.name


class Conversation(models.Model):
    """The thread with one contact. Resolved threads reopen when the contact writes again."""

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("conversation status", "Open")
        PENDING = "pending", pgettext_lazy("conversation status", "Pending")
        # Out of the open views until `snoozed_until` (the worker wakes it) or the customer writes.
        SNOOZED = "snoozed", pgettext_lazy("conversation status", "Snoozed")
        RESOLVED = "resolved", pgettext_lazy("conversation status", "Resolved")

    # application and channel are copies of contact.channel's, so the inbox filters without joins. The
    # Application has no index of its own: the inbox's and the tabs' indexes lead with it.
    application = models.ForeignKey(
        Application, on_delete=models.PROTECT, related_name="conversations", db_index=False
    )
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="conversations")
    contact = models.OneToOneField(Contact, on_delete=models.PROTECT, related_name="conversation")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    # Who last changed the status and when (no one: the customer reopened it by writing again).
    status_changed_at = models.DateTimeField(null=True, blank=True)
    status_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # only displayed, never filtered on: no index to build on a big table
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # `inbox_assignee_recent` leads with it
    )
    # Set while snoozed: when the worker reopens it (conversations/actions/snooze.py).
    snoozed_until = models.DateTimeField(null=True, blank=True)
    last_message = models.ForeignKey(
        "Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_activity_at = models.DateTimeField(db_index=False)
    # Last time the customer wrote: WhatsApp/Messenger/Instagram service windows start from it.
    last_inbound_at = models.DateTimeField(null=True, blank=True)
    unread_count = models.PositiveIntegerField(default=0)
    # The current cycle once the customer wrote in it (see ConversationCycle); empty while resolved or
    # reopened by an agent. The webhook's one-statement path takes only conversations that have one, so
    # opening a cycle (rare) stays off the hottest path.
    open_cycle = models.ForeignKey(
        "ConversationCycle", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    labels = models.ManyToManyField(Label, blank=True, related_name="conversations")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            # The inbox: newest activity first, keyset on (last_activity_at, id), per application.
            models.Index(fields=["application", "-last_activity_at", "-id"], name="inbox_recent"),
            models.Index(
                fields=["application", "status", "-last_activity_at", "-id"], name="inbox_status_recent"
            ),
            models.Index(fields=["assignee", "-last_activity_at", "-id"], name="inbox_assignee_recent"),
            # The view tabs' counts and the unread ones among them (selectors.inbox.count_groups): an
            # index-only scan, no join, no sort. `unread_count` is a key column, not an INCLUDE one:
            # PostgreSQL does not deduplicate an index that has INCLUDE columns, which made it eight
            # times larger at 100k conversations (1362 pages against 166), and the planner then chose a
            # sequential scan of the table (27-41 ms against 10 ms for this one).
            models.Index(
                fields=["application", "channel", "status", "assignee", "unread_count"], name="tab_counts"
            ),
            # The worker's wake-up scan reads only the snoozed few, not the whole table.
            models.Index(fields=["snoozed_until"], condition=Q(status="snoozed"), name="snoozed_due"),
        ]

    def __str__(self) -> str:
        return f"conversation #{self.pk} with {self.contact_id}"


class ConversationCycle(models.Model):
    """One stretch of a conversation, from its opening (created, or reopened) to its resolution.

    The reports read these rows, not the messages: the customer's first message of the cycle
    (`customer_at`), the first agent reply after it (set by the reply action), the resolution (set by
    the status action). A customer writing to a resolved conversation, or an agent reopening it, starts
    the next cycle.
    """

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="+")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="cycles")
    opened_at = models.DateTimeField()
    reopened = models.BooleanField(default=False)
    # The first customer message of the cycle: the first-response clock starts here.
    customer_at = models.DateTimeField(null=True, blank=True)
    # The Application's service level, applied when the customer wrote; empty without a target.
    first_response_due_at = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    first_responder = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        indexes = [
            models.Index(fields=["application", "opened_at"], name="cycle_opened"),
            models.Index(fields=["application", "customer_at"], name="cycle_customer"),
            models.Index(fields=["application", "resolved_at"], name="cycle_resolved"),
            # The one unresolved cycle of a conversation (the reply and status actions look it up).
            models.Index(
                fields=["conversation"], condition=Q(resolved_at__isnull=True), name="cycle_unresolved"
            ),
        ]

    def __str__(self) -> str:
        return f"cycle #{self.pk} of conversation #{self.conversation_id}"

    def at_risk_from(self) -> datetime | None:
        """From when a still unanswered question is "about to breach": the last quarter of its target
        (at least the last 5 minutes). The inbox and the reports flag it alike."""
        due, asked = self.first_response_due_at, self.customer_at
        if due is None or asked is None:
            return None
        return due - max((due - asked) * AT_RISK_SHARE, AT_RISK_MIN)


class Message(models.Model):
    """One item of a thread: a customer's message, an agent's reply, a team note or an activity line.

    Notes and activity lines are thread items like the others (same ids, order, pages, catch-up and
    live path) but go to nobody: every query of what is sent, received, reviewed or counted filters on
    `direction` in/out, so by having a direction of their own they are never sent to the Hub, never a
    reply, never in the delivery review and never unread.
    """

    class Direction(models.TextChoices):
        INBOUND = "in", _("Inbound")
        OUTBOUND = "out", _("Outbound")
        NOTE = "note", _("Team note")  # written by an agent for the team only
        ACTIVITY = "activity", _("Activity")  # "Dana assigned this to Alice": content {"activity": {...}}

    class Status(models.TextChoices):
        # Ordered: a status only moves forward (see STATUS_RANK); failed is terminal on its own track.
        PENDING = "pending", _("Pending")
        ENQUEUED = "enqueued", _("Enqueued")
        SENT = "sent", _("Sent")
        DELIVERED = "delivered", _("Delivered")
        READ = "read", _("Read")
        FAILED = "failed", _("Failed")
        RECEIVED = "received", _("Received")  # inbound messages

    # No index of their own: `thread_keyset` and `report_volume` lead with them and serve their lookups
    # (and the deletes that cascade), and each index is one more write per message stored.
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages", db_index=False
    )
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="messages", db_index=False)
    direction = models.CharField(max_length=8, choices=Direction.choices)
    content = models.JSONField(help_text="The content object as the Hub sends or receives it.")
    preview = models.CharField(max_length=300, blank=True)
    hub_message_id = models.CharField(max_length=255, null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices)
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)
    # A failed reply the Hub or the channel refused as such (400/401/404/422, `status: "error"`): sending
    # the same content again cannot succeed, so the bubble offers "Edit and resend" instead of Retry.
    permanent_failure = models.BooleanField(default=False)
    # Indexed only where set (`message_author`): a customer's message, most of them, has no author.
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    # Reactions attached to this message, by who reacted: {"customer"|"agent": {"emoji", "at" (ISO time)}}.
    # Kept on the row (not as bubbles of their own) so a bubble is drawn from its own loaded values.
    reactions = models.JSONField(default=dict, blank=True)
    reacted_at = models.DateTimeField(null=True, blank=True)  # the last change of `reactions` (catch-up)
    # The message a reply quotes ("reply to"), as the bubble shows it: {"id", "direction", "preview"}.
    # Copied when the reply is stored, so a bubble needs no second row (and the Hub gets only `replyTo`).
    quote = models.JSONField(default=dict, blank=True)
    # A template reply as the agent sent it, for its bubble: {"name", "language", "text" (rendered)}.
    # The Hub gets only the template's id and variables, so the text is kept here.
    template = models.JSONField(default=dict, blank=True)
    # The composer's key: a resubmitted or double-clicked form finds its message instead of a new one.
    # Unique (`one_message_per_idempotency_key`) as a constraint, not `unique=True`: on PostgreSQL that
    # would also build a second, pattern-matching index that nothing uses.
    idempotency_key = models.CharField(max_length=64, null=True, blank=True)
    # For inbound, when the customer sent it (Hub timestamp); for outbound, when the Hub accepted it.
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    # Outbound sending bookkeeping: the attempts made, and when the next is due (conversations/actions/replies.py).
    attempt_count = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # A worker's lease while it calls the Hub: nobody else sends this reply before it expires, and an
    # expired lease on a pending reply means that worker died (conversations/actions/replies.py).
    locked_until = models.DateTimeField(null=True, blank=True)
    # Not columns: `attach_choices` (conversations/selectors/thread.py) sets them on the prompts and
    # answers it pairs, for the bubbles; other messages lack them.
    chosen_option_id: str
    prompt_id: int

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "hub_message_id"],
                condition=Q(hub_message_id__isnull=False),
                name="one_message_per_hub_id",
            ),
            models.UniqueConstraint(fields=["idempotency_key"], name="one_message_per_idempotency_key"),
        ]
        indexes = [
            models.Index(fields=["conversation", "id"], name="thread_keyset"),
            models.Index(fields=["status", "next_attempt_at"], name="outbox_due"),
            # A status report finds its reply by the Hub's id (conversations/actions/statuses.py): replies
            # only, so storing a customer's message writes no entry here.
            models.Index(fields=["hub_message_id"], condition=Q(direction="out"), name="reply_hub_id"),
            models.Index(fields=["author"], condition=Q(author__isnull=False), name="message_author"),
            models.Index(fields=["direction", "created_at"], name="delivery_review"),
            # The reports: the last stretch not rolled up yet (MessageVolume) and one agent's customer
            # messages, by channel and time; the delivery outcome of replies, from the index alone on
            # PostgreSQL (the included columns are ignored where covering indexes do not exist).
            models.Index(
                fields=["channel", "created_at"], include=["direction", "author"], name="report_volume"
            ),
            models.Index(
                fields=["channel", "created_at"],
                include=["status"],
                condition=Q(direction="out"),
                name="report_delivery",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} message #{self.pk}"


class Activity(models.TextChoices):
    """What an activity line says happened (`Message.content["activity"]["verb"]`)."""

    ASSIGNED = "assigned", "Assigned"
    UNASSIGNED = "unassigned", "Unassigned"
    AUTO_ASSIGNED = "auto_assigned", "Assigned on first reply"
    RESOLVED = "resolved", "Resolved"
    REOPENED = "reopened", "Reopened"
    PENDING = "pending", "Set pending"
    LABEL_ADDED = "label_added", "Label added"
    LABEL_REMOVED = "label_removed", "Label removed"
    SNOOZED = "snoozed", "Snoozed"
    WOKE = "woke", "Woke up"
    CUSTOMER_WOKE = "customer_woke", "Woke up: the customer wrote"


STATUS_RANK: dict[str, int] = {
    Message.Status.PENDING: 0,
    Message.Status.ENQUEUED: 1,
    Message.Status.SENT: 2,
    Message.Status.DELIVERED: 3,
    Message.Status.READ: 4,
}


class MessageStatusChange(models.Model):
    """Every status a reply went through, including events that did not move it (late or repeated).

    A status may arrive before we know its message (the Hub can post it before our send call returns):
    then `message` is empty and it is applied when a message with this hub id is stored.
    """

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="+")
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.CASCADE, related_name="status_changes"
    )
    hub_message_id = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=10, choices=Message.Status.choices)
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True)
    # Whether this change moved the message's status (False for late/duplicate/out-of-order events).
    applied = models.BooleanField(default=False)
    source = models.CharField(max_length=16, default="webhook")  # webhook | send | retry
    raw = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["occurred_at", "id"]
        indexes = [
            models.Index(
                fields=["application", "hub_message_id"],
                condition=Q(message__isnull=True),
                name="orphan_status_by_hub_id",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.status} for {self.hub_message_id or self.message_id}"


class SendAttempt(models.Model):
    """One call to the Hub's send API for a reply: kept for every attempt, successful or not."""

    class Outcome(models.TextChoices):
        IN_FLIGHT = "in_flight", _("In flight")
        ACCEPTED = "accepted", _("Accepted")
        REJECTED = "rejected", _("Rejected by the channel")  # HTTP 200 with status "error"
        PERMANENT_ERROR = "permanent", _("Permanent error")
        TRANSIENT_ERROR = "transient", _("Transient error")

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=12, choices=Outcome.choices, default=Outcome.IN_FLIGHT)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)
    hub_request_id = models.CharField(max_length=128, blank=True)
    manual = models.BooleanField(default=False, help_text="Started by an agent's retry.")

    class Meta:
        ordering = ["message_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["message", "number"], name="one_attempt_number_per_message")
        ]

    def __str__(self) -> str:
        return f"attempt {self.number} of message #{self.message_id}: {self.outcome}"


class WebhookEvent(models.Model):
    """Every delivery the Hub made to us, verbatim, with what we did with it."""

    class Outcome(models.TextChoices):
        PROCESSED = "processed", _("Processed")
        DUPLICATE = "duplicate", _("Duplicate (already stored)")
        IGNORED = "ignored", _("Ignored (unknown event type)")
        INVALID = "invalid", _("Invalid payload")
        REJECTED = "rejected", _("Rejected (signature)")
        FAILED = "failed", _("Failed while applying")

    application = models.ForeignKey(
        Application, null=True, blank=True, on_delete=models.CASCADE, related_name="webhook_events"
    )
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    event_type = models.CharField(max_length=40, blank=True)
    # Deduplicates deliveries of one event (unique when set: the row that applied the event holds it):
    # "msg:<app>:<hub channel id>:<messageId>" or "status:<app>:<messageId>:<status>:<unix time or ->",
    # a longer key cut and suffixed with its SHA-256 (conversations/actions/inbound.py).
    # Unique as a constraint (`one_event_per_dedup_key`), which builds no unused pattern-matching index.
    dedup_key = models.CharField(max_length=300, null=True, blank=True)
    headers = models.JSONField(default=dict)
    # The delivery's bytes exactly as received (bytea, a BLOB on SQLite), never a text or JSON column:
    # those refuse a NUL (PostgreSQL) and would re-encode the JSON, and the signature, a reprocessing and
    # a diagnosis all need the original. What we store from it elsewhere is cleaned (events.clean_text).
    body = models.BinaryField()
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    error = models.TextField(blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    reprocessed_count = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["outcome", "-received_at"], name="webhook_event_outcome")]
        constraints = [models.UniqueConstraint(fields=["dedup_key"], name="one_event_per_dedup_key")]

    def __str__(self) -> str:
        return f"{self.event_type or 'event'} #{self.pk} ({self.outcome})"


class Upload(models.Model):
    """A file an agent attached to a reply, kept in STORAGES["default"] (conversations/actions/uploads.py).

    Stored before its reply: `message` is set in the reply's own transaction. An upload left without a
    message (the reply was never stored: a crash, a closed tab, a refused reply) is deleted by
    housekeeping after UPLOAD_ORPHAN_HOURS.
    """

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="uploads")
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="uploads"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    storage_name = models.CharField(max_length=255, unique=True)  # random: the name never reveals it
    filename = models.CharField(max_length=200)  # as the agent named it (shown, sent as the document name)
    content_type = models.CharField(max_length=100)  # read from the bytes, not from the name
    media_kind = models.CharField(max_length=16)  # image | video | audio | document | sticker
    size = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["message", "created_at"], name="upload_orphans")]

    def __str__(self) -> str:
        return f"upload #{self.pk} ({self.filename})"


class MessageVolume(models.Model):
    """How many messages each channel received or sent in each quarter hour (UTC), per author.

    The reports' message counts, kept by the worker (conversations/actions/rollup.py) from facts that
    never change (channel, direction, author, creation time): any time zone's hours and days are whole
    quarter hours, so one rollup answers every viewer. `author_id` 0: no author (customer messages,
    replies sent by no agent).
    """

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    bucket = models.DateTimeField()  # the quarter hour's start
    direction = models.CharField(max_length=3)  # "in" or "out": notes and activity lines are not counted
    author_id = models.IntegerField(default=0)
    count = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "bucket", "direction", "author_id"], name="one_volume_per_quarter"
            )
        ]

    def __str__(self) -> str:
        return f"{self.count} {self.direction} on channel {self.channel_id} at {self.bucket:%Y-%m-%d %H:%M}"


class RollupMark(models.Model):
    """Up to when MessageVolume holds every message (one row): the reports count what follows it from
    the messages themselves."""

    name = models.CharField(max_length=40, unique=True)
    rolled_until = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} rolled up until {self.rolled_until:%Y-%m-%d %H:%M}"


class Mention(models.Model):
    """An agent named with `@username` in a team note: unread until they open the conversation.

    Only members of the note's Application are ever mentioned (others stay plain text), and a member
    who loses the Application has theirs marked read (conversations/receivers.py), so the nav's count
    never says anything about an Application they cannot see.
    """

    note = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="mentions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # Copies of the note's, so the count and the list need no join.
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["note", "user"], name="one_mention_per_note_and_user")]
        indexes = [models.Index(fields=["user", "read_at"], name="mention_unread")]

    def __str__(self) -> str:
        return f"mention of user #{self.user_id} in message #{self.note_id}"


class CannedReply(models.Model):
    """A saved answer an agent inserts with `/code` in the composer, its variables filled for the thread.

    Shared with the whole Application (no owner: made by its admins) or personal (its owner's only).
    """

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="canned_replies")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    code = models.CharField(max_length=32)
    title = models.CharField(max_length=100)
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["application", "code"], condition=Q(owner__isnull=True), name="one_shared_canned_code"
            ),
            models.UniqueConstraint(fields=["application", "owner", "code"], name="one_personal_canned_code"),
        ]

    def __str__(self) -> str:
        return f"/{self.code}"
