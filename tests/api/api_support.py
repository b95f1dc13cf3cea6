"""Helpers for the API tests: a client that sends a token, conversations to read, a token for a persona."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from integrations.actions.tokens import do_create_token


def token_for(user: Any, *, name: str = "test", expires_at: Any = None) -> str:
    return do_create_token(user=user, name=name, expires_at=expires_at).secret


class Api:
    """The API as an integration calls it: JSON in and out, a bearer token (or none, or a session)."""

    def __init__(self, token: str | None = None, client: Client | None = None) -> None:
        self.client = client or Client()
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def get(self, path: str, params: dict[str, Any] | None = None, **headers: str):
        return self.client.get(path, params or {}, headers={**self.headers, **headers})

    def _send(self, method: str, path: str, body: Any, headers: dict[str, str]):
        send = getattr(self.client, method)
        data = body if isinstance(body, str | bytes) else json.dumps(body)
        return send(path, data, content_type="application/json", headers={**self.headers, **headers})

    def post(self, path: str, body: Any = None, **headers: str):
        return self._send("post", path, {} if body is None else body, headers)

    def patch(self, path: str, body: Any = None, **headers: str):
        return self._send("patch", path, {} if body is None else body, headers)

    def put(self, path: str, body: Any = None, **headers: str):
        return self._send("put", path, {} if body is None else body, headers)

    def delete(self, path: str, **headers: str):
        return self.client.delete(path, headers={**self.headers, **headers})


def error_of(response: Any) -> dict[str, Any]:
    """The error object of an answer, after checking it has the one error shape."""
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "fields"}, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]


def database_url() -> str:
    """The URL of this process's test database, for a server or worker process to open the same one."""
    from django.db import connection

    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
