"""The README's "Integrate" section works as written: its curl examples run against a live server (a
token, the list of conversations, a reply with an Idempotency-Key, a webhook subscription), and its
`verify` function accepts a real delivery's signature."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

from conversations.models import Message
from integrations.models import WebhookSubscription
from integrations.signing import sign
from tests.api.api_support import token_for
from tests.api.live import live_server
from tests.inbox.inbox_support import make_conversation

pytestmark = pytest.mark.django_db(transaction=True)


def integrate_section() -> str:
    readme = (Path(settings.BASE_DIR) / "README.md").read_text()
    return readme.split("\n## Integrate\n", 1)[1].split("\n## ", 1)[0]


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", integrate_section(), flags=re.S)


def test_the_section_has_the_four_curl_examples():
    examples = blocks("sh")

    assert len(examples) == 4
    assert ["/api/v1/me/" in examples[0], "/conversations/?" in examples[1]] == [True, True]
    assert "Idempotency-Key" in examples[2] and "/webhooks/" in examples[3]


def test_the_curl_examples_run_against_a_live_server(app_a, admin, tmp_path):
    conversation = make_conversation(app_a, name="Carla")
    env = {
        "PATH": "/usr/bin:/bin",
        "TOKEN": token_for(admin),
        "CONVERSATION": str(conversation.pk),
        "APPLICATION": str(app_a.pk),
    }
    outputs = []
    with live_server(tmp_path) as base_url:
        for example in blocks("sh"):
            run = subprocess.run(
                ["bash", "-euo", "pipefail", "-c", example],
                env={**env, "HUBDASH": base_url},
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert run.returncode == 0, f"{example}\n{run.stdout}\n{run.stderr}"
            outputs.append(json.loads(run.stdout))
        again = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", blocks("sh")[2]],
            env={**env, "HUBDASH": base_url},
            capture_output=True,
            text=True,
            timeout=60,
        )

    me, conversations, reply, subscription = outputs
    assert me["username"] == admin.username
    assert [c["id"] for c in conversations["results"]] == [conversation.pk]
    assert reply["status"] == "pending" and reply["content"] == {"text": "Your order ships today."}
    assert json.loads(again.stdout)["id"] == reply["id"]  # the same key and body: the same reply
    assert Message.objects.filter(direction="out").count() == 1
    assert subscription["secret"].startswith("whsec_")
    assert WebhookSubscription.objects.get().events == ["conversation.resolved", "message.created"]


def test_the_verify_function_accepts_a_real_signature_and_refuses_others():
    namespace: dict = {}
    exec(blocks("python")[0], namespace)
    verify = namespace["verify"]
    body = b'{"id":"1f0c3a56","type":"message.created"}'

    header = sign("whsec_example", body)

    assert verify("whsec_example", body, header)
    assert not verify("whsec_other", body, header)
    assert not verify("whsec_example", body + b" ", header)
    assert not verify("whsec_example", body, sign("whsec_example", body, now=0))  # too old
