"""The soak's people: agents who sign in and reply through the composer's endpoint, and inbox tabs that
hold the live websocket the way static/js/inbox.js does.

Nothing here imports the product: the clients see Hubdash only over HTTP and the websocket, as a
browser would. `InboxTab` keeps the part of the page the socket updates (the list's rows, the open
thread's messages) as a small model, applies each frame with the rules of inbox.js (`transformFrame`,
`planUpsert`, `applyMeta`), and reconnects and resyncs from its cursor after a drop.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import requests

LIVE_MARK = "<!--live-->"
# inbox.js: a ping every 25 s; a socket silent for 35 s is taken for dead and replaced.
HEARTBEAT_SECONDS = 25.0
HEARTBEAT_TIMEOUT_SECONDS = 10.0
UNAUTHENTICATED = 4401
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
)
_MESSAGE_ID = re.compile(r'id="msg-(\d+)"')
_CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
_CSRF_HEADER = re.compile(r'"X-CSRFToken": "([^"]+)"')


def reconnect_delay(retry: int) -> float:
    """inbox.js `wsReconnectDelay`: 250 ms doubling to 4 s, with jitter (in seconds)."""
    return min(0.25 * 2**retry, 4.0) * (0.5 + random.random() / 2)


# --- Frames ------------------------------------------------------------------------------------------


@dataclass
class Element:
    """A top-level element of a frame, with the elements nested in it that carry an id."""

    tag: str
    attrs: dict[str, str]
    children: list[dict[str, str]] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.attrs.get("id", "")


class _FrameParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self._depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if self._depth == 0:
            self.elements.append(Element(tag, values))
        elif "id" in values:
            self.elements[-1].children.append(values)
        if tag not in _VOID:
            self._depth += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if self._depth == 0:
            self.elements.append(Element(tag, values))
        elif "id" in values:
            self.elements[-1].children.append(values)

    def handle_endtag(self, tag: str) -> None:
        if tag not in _VOID:
            self._depth = max(0, self._depth - 1)


def parse_frame(text: str) -> list[Element] | None:
    """The top-level elements of a live frame, or None when `text` is not one."""
    if not text.startswith(LIVE_MARK):
        return None
    parser = _FrameParser()
    parser.feed(text[len(LIVE_MARK) :])
    parser.close()
    return parser.elements


@dataclass
class Container:
    """A region whose children the socket places by sort key: the list, or the open thread."""

    id: str
    descending: bool
    items: dict[str, tuple[str, dict[str, str]]] = field(default_factory=dict)  # id -> (sort key, attrs)
    more_before: bool = False  # a sentinel: older messages not loaded
    more_after: bool = False  # a sentinel: the next page of rows not loaded

    def load(self, children: list[dict[str, str]]) -> None:
        self.items = {
            c["id"]: (c.get("data-sort", ""), c)
            for c in children
            if "data-message-id" in c or "data-conversation-id" in c
        }
        self.more_before = any(c.get("data-sentinel") == "before" for c in children)
        self.more_after = any(c.get("data-sentinel") == "after" for c in children)

    def upsert(self, element_id: str, key: str, attrs: dict[str, str]) -> bool:
        """inbox.js `planUpsert`: True when the element is shown afterwards."""
        existing = self.items.get(element_id)
        if existing is not None and existing[0] == key:
            self.items[element_id] = (key, attrs)  # same place: redrawn in place
            return True
        self.items.pop(element_id, None)
        keys = [k for k, _ in self.items.values()]
        if self.descending:
            index = sum(1 for k in keys if _compare(k, key) >= 0)
        else:
            index = sum(1 for k in keys if _compare(k, key) <= 0)
        # Past an unloaded part (older messages, the next page of rows): the page drops it.
        if (index == 0 and keys and self.more_before) or (index == len(keys) and self.more_after):
            return False
        self.items[element_id] = (key, attrs)
        return True


def _compare(a: str, b: str) -> int:
    """inbox.js `compareKeys`: fixed-width digit strings, a longer one is larger."""
    if len(a) != len(b):
        return len(a) - len(b)
    return (a > b) - (a < b)


# --- A tab of the inbox ------------------------------------------------------------------------------


@dataclass
class TabStats:
    connects: int = 0
    closes: list[int] = field(default_factory=list)
    frames: int = 0
    gaps: int = 0
    resyncs: int = 0
    stale_sockets: int = 0  # replaced after the heartbeat went unanswered
    # Bubbles of the open thread, by how they first appeared: an event frame, or a resync's answer.
    live_messages: set[int] = field(default_factory=set)
    synced_messages: set[int] = field(default_factory=set)
    last_event_at: float = 0.0  # monotonic time of the last event frame (or of the connect)
    event_frames: int = 0
    # The longest time an open socket heard no event while the load ran: a socket that stays open but
    # hears nothing (left without its groups) shows here, and nowhere else until it reconnects.
    longest_silence: float = 0.0

    def end_of_load(self, connected: bool) -> None:
        if connected:
            self.longest_silence = max(self.longest_silence, time.monotonic() - self.last_event_at)

    first_sync_newest: int | None = None  # the newest bubble the first sync showed

    @property
    def missed_live(self) -> set[int]:
        """Bubbles newer than the first sync that no event frame brought: a resync caught them up."""
        return {m for m in self.synced_messages if m > (self.first_sync_newest or 0)}

    def saw(self, message_id: int, *, live: bool) -> None:
        if message_id not in self.live_messages and message_id not in self.synced_messages:
            (self.live_messages if live else self.synced_messages).add(message_id)


class InboxTab:
    """One agent's inbox tab with one conversation open, on one daphne process."""

    def __init__(
        self, *, name: str, port: int, cookie: str, conversation_id: int, journal: Path | None = None
    ) -> None:
        self.name = name
        # One line per frame and per sync sent, to follow a mismatch back to the frames that caused it.
        self.journal = journal.open("a") if journal is not None else None
        self.port = port
        self.cookie = cookie
        self.conversation_id = conversation_id
        self.rows = Container("inbox-list", descending=True)
        self.thread = Container(f"thread-messages-{conversation_id}", descending=False)
        self.cursor: str | None = None
        self.gen = 0
        self.synced_gen = 0
        self.stats = TabStats()
        self.signed_out = False
        self._ws: Any = None
        self._lock = threading.Lock()

    @property
    def connected(self) -> bool:
        return self._ws is not None

    # The model, as the final comparison reads it.
    def thread_messages(self) -> dict[int, str]:
        with self._lock:
            return {
                int(a["data-message-id"]): a.get("data-status", "") for _, a in self.thread.items.values()
            }

    def row_states(self) -> dict[int, tuple[str, str]]:
        with self._lock:
            return {
                int(a["data-conversation-id"]): (key, a.get("data-unread", ""))
                for key, a in self.rows.items.values()
            }

    def sync_message(self) -> dict[str, Any]:
        """inbox.js `sync()`: a new generation, the cursor, the open thread and the rows shown."""
        self.gen += 1
        with self._lock:
            newest = max((int(a["data-message-id"]) for _, a in self.thread.items.values()), default=0)
            rows = [int(a["data-conversation-id"]) for _, a in self.rows.items.values()][:500]
        return {
            "type": "sync",
            "gen": self.gen,
            "scope": "all",
            "since": self.cursor,
            "conversation": self.conversation_id,
            "after": newest,
            "rows": rows,
            "filters": "",
        }

    def apply(self, text: str) -> list[dict[str, str]]:
        """Apply one frame (inbox.js `transformFrame`, then `applyMeta`); returns its meta elements."""
        elements = parse_frame(text)
        if elements is None:
            return []
        if self.journal is not None:
            meta = next((e.attrs for e in elements if e.attrs.get("data-live") == "meta"), {})
            self._note(
                kind=meta.get("data-kind"),
                gen=meta.get("data-gen"),
                seq=meta.get("data-seq"),
                gap=bool(meta.get("data-gap")),
                cursor=meta.get("data-cursor"),
                ops=[
                    f"{e.attrs.get('data-live')}:{e.id}"
                    for e in elements
                    if e.attrs.get("data-live") != "meta"
                ],
            )
        metas: list[dict[str, str]] = []
        live = any(
            e.attrs.get("data-live") == "meta" and e.attrs.get("data-kind") == "event" for e in elements
        )
        with self._lock:
            self.stats.frames += 1
            if live:
                now = time.monotonic()
                self.stats.event_frames += 1
                self.stats.longest_silence = max(self.stats.longest_silence, now - self.stats.last_event_at)
                self.stats.last_event_at = now
            for el in elements:
                op = el.attrs.get("data-live")
                if op == "meta":
                    metas.append(el.attrs)
                elif op == "upsert":
                    into = el.attrs.get("data-live-into")
                    container = {self.rows.id: self.rows, self.thread.id: self.thread}.get(into or "")
                    if container is not None:
                        shown = container.upsert(el.id, el.attrs.get("data-sort", ""), el.attrs)
                        if shown and container is self.thread:
                            self.stats.saw(int(el.attrs["data-message-id"]), live=live)
                elif op == "replace":
                    if el.id == self.rows.id:
                        self.rows.load(el.children)
                    elif el.id == self.thread.id:
                        self.thread.load(el.children)
                        for _, attrs in self.thread.items.values():
                            self.stats.saw(int(attrs["data-message-id"]), live=live)
                    else:
                        for container in (self.rows, self.thread):
                            if el.id in container.items:
                                container.items[el.id] = (container.items[el.id][0], el.attrs)
                elif op == "remove":
                    self.rows.items.pop(el.id, None)
                    self.thread.items.pop(el.id, None)
        return metas

    def _note(self, **fields: Any) -> None:
        if self.journal is not None:
            self.journal.write(json.dumps({"t": round(time.time(), 3), **fields}) + "\n")

    async def _send_sync(self, ws: Any) -> dict[str, Any]:
        message = self.sync_message()
        self._note(sent="sync", gen=message["gen"], since=message["since"], after=message["after"])
        await ws.send(json.dumps(message))
        return message

    async def run(self, stop: asyncio.Event) -> None:
        """Keep a socket open until `stop`: reconnect after any drop, resync on every connect."""
        import websockets

        retry = 0
        while not stop.is_set() and not self.signed_out:
            try:
                async with websockets.connect(
                    f"ws://127.0.0.1:{self.port}/ws/inbox/",
                    additional_headers={"Cookie": self.cookie},
                    origin=f"http://127.0.0.1:{self.port}",  # type: ignore[arg-type]
                    max_size=None,
                    ping_interval=None,  # the page's own heartbeat, below
                    open_timeout=10,
                ) as ws:
                    self._ws = ws
                    self.stats.connects += 1
                    self.stats.last_event_at = time.monotonic()
                    self._note(connected=self.stats.connects)
                    retry = 0
                    await self._session(ws, stop)
                    if not stop.is_set() and ws.close_code is not None:
                        self.stats.closes.append(ws.close_code)
            except (OSError, TimeoutError) as exc:
                self.stats.closes.append(getattr(exc, "code", 1006))
            except Exception as exc:  # websockets' ConnectionClosed and handshake refusals
                code = getattr(getattr(exc, "rcvd", None), "code", None) or 1006
                self.stats.closes.append(code)
                if code == UNAUTHENTICATED:
                    self.signed_out = True
            finally:
                self._ws = None
                self._note(closed=self.stats.closes[-1:])
            if stop.is_set() or self.signed_out:
                return
            retry += 1
            await asyncio.sleep(reconnect_delay(retry))

    async def _session(self, ws: Any, stop: asyncio.Event) -> None:
        await self._send_sync(ws)
        last_heard = time.monotonic()
        next_ping = last_heard + HEARTBEAT_SECONDS
        while not stop.is_set():
            try:
                text = await asyncio.wait_for(ws.recv(), 0.5)
            except TimeoutError:
                now = time.monotonic()
                if now >= next_ping:
                    next_ping = now + HEARTBEAT_SECONDS
                    if now - last_heard > HEARTBEAT_SECONDS + HEARTBEAT_TIMEOUT_SECONDS:
                        self.stats.stale_sockets += 1
                        await ws.close()
                        return
                    await ws.send(json.dumps({"type": "ping"}))
                continue
            last_heard = time.monotonic()
            for meta in self.apply(text if isinstance(text, str) else text.decode()):
                if meta.get("data-kind") == "pong":
                    continue
                if meta.get("data-gap"):
                    # A missed event: catch up from our own cursor, which this frame must not move.
                    self.stats.gaps += 1
                    await self._send_sync(ws)
                    continue
                if meta.get("data-gen") != str(self.gen):
                    continue  # rendered for what the tab showed before
                if meta.get("data-cursor"):
                    self.cursor = meta["data-cursor"]
                if meta.get("data-kind") == "sync":
                    self.synced_gen = self.gen
                    self.stats.resyncs += 1
                    if self.stats.first_sync_newest is None:
                        self.stats.first_sync_newest = max(self.thread_messages(), default=0)

    async def final_sync(self, timeout: float) -> bool:
        """Ask for everything since the cursor once more and wait for the answer (True when it came)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ws = self._ws
            if ws is not None:
                try:
                    message = await self._send_sync(ws)
                except Exception:
                    await asyncio.sleep(0.2)
                    continue
                while time.monotonic() < deadline:
                    if self.synced_gen >= message["gen"]:
                        return True
                    if self._ws is not ws:
                        break  # reconnected meanwhile: ask again on the new socket
                    await asyncio.sleep(0.05)
            else:
                await asyncio.sleep(0.1)
        return False


# --- Agents ------------------------------------------------------------------------------------------


def _cookie(response: requests.Response, name: str) -> str | None:
    # The production cookies are Secure: requests would not send them back over plain http, so they are
    # read here and sent by hand (a browser behind the TLS proxy would send them).
    return response.cookies.get(name)


@dataclass
class SignedIn:
    session: str
    csrf: str
    cookie: str  # the Cookie header: session and CSRF cookies


def sign_in(base_url: str, username: str, password: str) -> SignedIn:
    """The sign-in form, as a browser fills it: GET it for the CSRF cookie, POST the credentials."""
    http = requests.Session()
    page = http.get(f"{base_url}/accounts/login/", timeout=30)
    page.raise_for_status()
    csrf_cookie = _cookie(page, "csrftoken")
    token = _CSRF_INPUT.search(page.text)
    if csrf_cookie is None or token is None:
        raise RuntimeError("the sign-in page set no CSRF cookie or token")
    answer = http.post(
        f"{base_url}/accounts/login/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": token.group(1)},
        headers={"Cookie": f"csrftoken={csrf_cookie}", "Origin": base_url},
        allow_redirects=False,
        timeout=30,
    )
    session = _cookie(answer, "sessionid")
    if answer.status_code != 302 or session is None:
        raise RuntimeError(f"signing in {username} failed: HTTP {answer.status_code}")
    cookie = f"sessionid={session}; csrftoken={csrf_cookie}"
    inbox = http.get(f"{base_url}/", headers={"Cookie": cookie}, timeout=30)
    header_token = _CSRF_HEADER.search(inbox.text)
    if inbox.status_code != 200 or header_token is None:
        raise RuntimeError(f"the inbox did not open for {username}: HTTP {inbox.status_code}")
    return SignedIn(session=session, csrf=header_token.group(1), cookie=cookie)


@dataclass
class Reply:
    """One reply an agent sent: its composer key, the token in its text, and what the server said."""

    number: int
    conversation_id: int
    key: str
    text: str
    posts: int = 0  # HTTP attempts: a failed one is sent again with the same key, like the form
    status: int | None = None
    message_id: int | None = None
    error: str = ""


class Agent:
    """An agent replying through the composer's endpoint (`POST /conversations/<id>/reply/`, as htmx does)."""

    def __init__(self, *, name: str, base_url: str, signed_in: SignedIn, retry_for: float = 90.0) -> None:
        self.name = name
        self.base_url = base_url
        self.signed_in = signed_in
        self.retry_for = retry_for
        self.http = requests.Session()

    def reply(self, reply: Reply) -> Reply:
        deadline = time.monotonic() + self.retry_for
        while True:
            reply.posts += 1
            try:
                answer = self.http.post(
                    f"{self.base_url}/conversations/{reply.conversation_id}/reply/",
                    data={"text": reply.text, "idempotency_key": reply.key},
                    headers={
                        "Cookie": self.signed_in.cookie,
                        "X-CSRFToken": self.signed_in.csrf,
                        "HX-Request": "true",
                        "Origin": self.base_url,
                    },
                    allow_redirects=False,
                    timeout=30,
                )
                reply.status = answer.status_code
                if answer.status_code == 200:
                    found = _MESSAGE_ID.search(answer.text)
                    reply.message_id = int(found.group(1)) if found else None
                    return reply
                reply.error = f"HTTP {answer.status_code}"
                if answer.status_code < 500:
                    return reply  # refused (422) or signed out: sending it again would not help
            except requests.RequestException as exc:
                reply.status = None
                reply.error = type(exc).__name__
            if time.monotonic() > deadline:
                return reply
            time.sleep(0.5)  # the server is down or failing: the agent presses Send again


def new_reply(number: int, conversation_id: int, run: str) -> Reply:
    return Reply(
        number=number,
        conversation_id=conversation_id,
        key=uuid.uuid4().hex,
        text=f"soak-{run}-r{number} Obrigado pelo contato, já verificamos.",
    )
