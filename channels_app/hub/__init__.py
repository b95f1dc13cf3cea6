"""Everything Hubdash knows about the Hub Chatt2.me API, in one adapter.

- `client`: the only module that talks HTTP to the Hub (requests lives here and nowhere else).
- `capabilities`: channel kinds, recipient formats and content types per channel.
- `signatures`: X-hub-Signature verification.
- `payloads`: parsing of the Hub's webhook bodies (normalized and legacy shapes) and outbound content.

Assumptions where hub-api.md says [GAP] are marked "[GAP]" in these modules.
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
