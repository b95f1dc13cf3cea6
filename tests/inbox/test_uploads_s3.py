"""Uploads in an S3-compatible bucket (django-storages), against moto's S3 server started here."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from django.core.files.storage import default_storage
from django.test import Client
from moto.server import ThreadedMotoServer

from conversations.models import Message, Upload
from tests.inbox.inbox_support import ago, make_conversation
from tests.inbox.test_uploads import PDF, post_file

pytestmark = pytest.mark.django_db

BUCKET = "hubdash-uploads"


@pytest.fixture(scope="module")
def s3_server() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_storage(settings, s3_server, monkeypatch) -> str:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    client = boto3.client(
        "s3", endpoint_url=s3_server, region_name="us-east-1", aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )  # fmt: skip
    client.create_bucket(Bucket=BUCKET)
    # What settings.py sets up when AWS_STORAGE_BUCKET_NAME and AWS_S3_ENDPOINT_URL are in the environment.
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "endpoint_url": s3_server,
                "region_name": "us-east-1",
                "access_key": "testing",
                "secret_key": "testing",
                "default_acl": None,
            },
        },
    }
    settings.PUBLIC_BASE_URL = "https://desk.example.com"
    return BUCKET


def test_an_upload_goes_to_the_bucket_and_the_signed_link_serves_it(agent_a_client, app_a, s3_storage):
    conversation = make_conversation(app_a, at=ago(minutes=5))

    response = post_file(agent_a_client, conversation, "contrato.pdf", PDF)

    assert response.status_code == 200, response.content
    upload = Upload.objects.get()
    assert type(default_storage._wrapped).__name__ == "S3Storage"
    listed = boto3.client(
        "s3", endpoint_url=default_storage.endpoint_url, region_name="us-east-1", aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ).list_objects_v2(Bucket=BUCKET)  # fmt: skip
    assert [o["Key"] for o in listed["Contents"]] == [upload.storage_name]
    url = Message.objects.get(direction="out").content["documentUrl"]
    link = Client().get(url.removeprefix("https://desk.example.com"))
    assert link.status_code == 200
    assert b"".join(link.streaming_content) == PDF
    assert link["Content-Type"] == "application/pdf"
