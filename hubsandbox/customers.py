"""The customer simulator: who writes to a channel, and what they write (inbound `Message`, §4.2)."""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

_FIRST_NAMES: Final = (
    "Joana",
    "Rafael",
    "Beatriz",
    "Lucas",
    "Mariana",
    "Pedro",
    "Camila",
    "Thiago",
    "Emily",
    "James",
    "Olivia",
    "Noah",
)
_LAST_NAMES: Final = ("Silva", "Souza", "Oliveira", "Costa", "Pereira", "Almeida", "Smith", "Brown", "Lee")

_PHRASES: Final = (
    "Olá! Quero saber o prazo de entrega",
    "Meu pedido ainda não chegou, podem verificar?",
    "Vocês aceitam PIX?",
    "Qual o horário de atendimento?",
    "Obrigada pela ajuda!",
    "Preciso trocar o tamanho da camiseta",
    "O boleto venceu, podem gerar outro?",
    "Bom dia, tudo bem?",
    "Hi, I'd like to know the delivery time",
    "My order hasn't arrived yet, can you check?",
    "Do you ship internationally?",
    "Thanks a lot!",
    "Can I change my delivery address?",
    "Is this item back in stock?",
)
_EMOJIS: Final = ("👍", "❤️", "😂", "😮", "🙏", "🎉")
_PLACES: Final = (
    (-22.9068, -43.1729, "Centro", "Rio de Janeiro, RJ"),
    (-23.5505, -46.6333, "Sé", "São Paulo, SP"),
    (37.7749, -122.4194, "Market St", "San Francisco, CA"),
)
_BUTTON_REPLIES: Final = (("BILLING", "Financeiro"), ("TECH", "Suporte técnico"), ("SALES", "Vendas"))
_LIST_REPLIES: Final = (("PIZZA", "Pizzas", "Tradicionais e especiais"), ("DRINKS", "Bebidas", "Sucos"))

# Inbound content per channel. Inbound capabilities are undocumented (§4.2 GAP); the outbound table of §3.3
# is the best proxy for what a customer can send through each provider.
INBOUND_TYPES_BY_KIND: Final[dict[str, tuple[str, ...]]] = {
    "whatsapp": (
        "text",
        "image",
        "video",
        "audio",
        "document",
        "sticker",
        "location",
        "contacts",
        "button_reply",
        "list_reply",
        "reaction",
    ),
    "instagram": ("text", "image", "video", "audio", "sticker", "button_reply", "list_reply", "reaction"),
    "messenger": ("text", "image", "video", "audio", "button_reply", "list_reply", "reaction"),
    "telegram": (
        "text",
        "image",
        "video",
        "audio",
        "document",
        "sticker",
        "location",
        "contacts",
        "reaction",
    ),
    "sms": ("text", "image"),
    "webchatt": (
        "text",
        "image",
        "video",
        "audio",
        "document",
        "location",
        "contacts",
        "button_reply",
        "list_reply",
        "reaction",
    ),
}

MEDIA: Final[dict[str, tuple[str, str]]] = {
    # type -> (file in hubsandbox/media/, served by /_sandbox/media/, MIME type): small real files that
    # play or open (origins in hubsandbox/media/README.md).
    "image": ("photo.png", "image/png"),
    "video": ("clip.webm", "video/webm"),
    "audio": ("voice.mp3", "audio/mpeg"),
    "document": ("invoice.pdf", "application/pdf"),
    "sticker": ("sticker.webp", "image/webp"),
}
MEDIA_DIR: Final = Path(__file__).resolve().parent / "media"


@dataclass(frozen=True)
class Customer:
    name: str
    sender: str  # the `from` of their Message events

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "from": self.sender}


def customer_pool(kind: str, channel_id: str, size: int = 5) -> list[Customer]:
    """A small pool that is stable for a channel (seeded by its id) so conversations accumulate."""
    rng = random.Random(f"{kind}:{channel_id}")
    customers: list[Customer] = []
    for _ in range(size):
        name = f"{rng.choice(_FIRST_NAMES)} {rng.choice(_LAST_NAMES)}"
        customers.append(Customer(name, sender_id(kind, rng)))
    return customers


def sender_id(kind: str, rng: random.Random) -> str:
    """Realistic sender ids per channel (§2 `to` column: they are reused as `to` in replies)."""
    digits = "".join(rng.choice("0123456789") for _ in range(8))
    match kind:
        case "whatsapp":
            return f"55219{digits}"
        case "sms":
            return f"+1415{digits[:7]}"
        case "instagram" | "messenger":
            return "2" + "".join(rng.choice("0123456789") for _ in range(16))
        case "telegram":
            return str(rng.randint(10_000_000, 7_999_999_999))
        case _:  # Web Chatt: format undocumented (§6 GAP); a prefixed hex id is easy to spot
            return "v_" + "".join(rng.choice("0123456789abcdef") for _ in range(16))


def generate_content(
    kind: str,
    rng: random.Random,
    media_base_url: str,
    *,
    reply_targets: list[str] | None = None,
    buttons: list[tuple[str, str]] | None = None,
) -> dict[str, Any]:
    """Random inbound content in the normalized §4.2 shape (media shapes per the §4.2 GAP assumption).

    `reply_targets` are ids of messages sent to this customer (reactions point at them) and `buttons`
    the reply buttons last offered to them, so a simulated click answers a real prompt.
    """
    types = list(INBOUND_TYPES_BY_KIND[kind])
    if not reply_targets and "reaction" in types:
        types.remove("reaction")  # nothing of ours to react to yet
    # Mostly text, like a real inbox.
    weights = [8 if t == "text" else 1 for t in types]
    ctype = rng.choices(types, weights)[0]
    return content_of_type(ctype, rng, media_base_url, reply_targets=reply_targets, buttons=buttons)


def content_of_type(
    ctype: str,
    rng: random.Random,
    media_base_url: str,
    *,
    reply_targets: list[str] | None = None,
    buttons: list[tuple[str, str]] | None = None,
) -> dict[str, Any]:
    if ctype == "text":
        return {"type": "text", "text": rng.choice(_PHRASES)}
    if ctype in MEDIA:
        filename, mime = MEDIA[ctype]
        media: dict[str, Any] = {"url": f"{media_base_url}/_sandbox/media/{filename}", "mimeType": mime}
        if ctype in ("image", "video"):
            media["caption"] = rng.choice(("Veja a foto", "Look at this", ""))
        if ctype == "document":
            media["filename"] = filename
        if ctype == "audio":
            media["voice"] = rng.random() < 0.7
        return {"type": ctype, ctype: media}
    if ctype == "location":
        lat, lng, name, address = rng.choice(_PLACES)
        return {
            "type": "location",
            "location": {"latitude": lat, "longitude": lng, "name": name, "address": address},
        }
    if ctype == "contacts":
        first = rng.choice(_FIRST_NAMES)
        last = rng.choice(_LAST_NAMES)
        phone = "+55 21 9" + "".join(rng.choice("0123456789") for _ in range(8))
        return {
            "type": "contacts",
            "contacts": [
                {
                    "name": {"formatted_name": f"{first} {last}", "first_name": first, "last_name": last},
                    "phones": [{"phone": phone, "type": "CELL"}],
                }
            ],
        }
    if ctype == "button_reply":
        button_id, title = rng.choice(buttons or list(_BUTTON_REPLIES))
        return {
            "type": "interactive",
            "interactive": {"type": "button_reply", "button_reply": {"id": button_id, "title": title}},
        }
    if ctype == "list_reply":
        row_id, title, description = rng.choice(_LIST_REPLIES)
        return {
            "type": "interactive",
            "interactive": {
                "type": "list_reply",
                "list_reply": {"id": row_id, "title": title, "description": description},
            },
        }
    if ctype == "reaction":
        target = rng.choice(reply_targets) if reply_targets else "unknown"
        return {"type": "reaction", "reaction": {"messageId": target, "emoji": rng.choice(_EMOJIS)}}
    raise ValueError(f"unknown inbound content type {ctype!r}")


def media_file(filename: str) -> tuple[bytes, str] | None:
    """Bytes served at /_sandbox/media/<file>, so inbound media URLs resolve with a correct Content-Type."""
    for name, mime in MEDIA.values():
        if name == filename:
            return _media_bytes(name), mime
    return None


@functools.cache
def _media_bytes(name: str) -> bytes:
    return (MEDIA_DIR / name).read_bytes()
