"""Every write that matters, one function each (Zulip's `do_*` style): typed, keyword-only arguments,
its own transaction, invariants kept, realtime events published after commit.

- `statuses`: a reply's delivery status (moves forward only; early statuses parked until the message is known).
- `inbound`: a webhook event from the Hub, applied once.
- `replies`: an agent's reply, stored first and sent by the worker.
- `threads`: assignment, resolve/reopen, read/unread.
"""
