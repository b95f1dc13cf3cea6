"""Everything Hubdash knows about the Hub Chatt2.me API, in one adapter.

- `client`: the only module that talks HTTP to the Hub (requests lives here and nowhere else).
- `capabilities`: channel kinds, recipient formats and content types per channel.
- `message_content`: the typed content model: any content object, inbound or outbound, read once into
  one value that previews, draws, checks and sends itself.
- `content`: outbound content per channel (the shapes the send API takes) and the checks before storing.
- `events`: parsing of the Hub's webhook bodies (normalized and legacy shapes) into typed events.
- `payloads`: one-line previews of any content object, inbound or outbound.
- `signatures`: X-hub-Signature verification.

Assumptions where the Hub's reference leaves a gap are marked "[GAP]" in these modules and listed in
docs/hub.md, where "§" numbers (as in these modules) are the sections of the Hub's own reference.
"""

from channels_app.hub.client import (
    HubClient,
    HubError,
    Page,
    RetryResult,
    SendResult,
    WebhookInfo,
    WebhookLog,
)

__all__ = ["HubClient", "HubError", "Page", "RetryResult", "SendResult", "WebhookInfo", "WebhookLog"]
