"""Background work (django-tasks; run by `manage.py run_worker`): load by id, call the action.

A task carries ids only, never model state: by the time it runs the row may have changed, and the action
re-reads it under lock. Running a task twice is harmless (the action checks the reply's state).
"""

from __future__ import annotations

from django_tasks import task

from conversations.actions.replies import do_attempt_send


@task()
def send_reply(message_id: int) -> str:
    """One attempt to send a pending reply; schedules the next attempt itself after a transient error."""
    return do_attempt_send(message_id=message_id)
