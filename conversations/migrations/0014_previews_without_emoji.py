"""Previews stored before the icons became an SVG sprite began with an emoji (📷 Photo, ☑ Yes, …),
which renders as an empty box without an emoji font and which the rows now draw from the sprite: strip
it from the stored previews (and from quotes' copies of them), so old rows read like new ones."""

from django.db import migrations

# The prefixes the previews had until then, each followed by a space.
GLYPHS = ("📷", "🎬", "🎤", "📄", "📍", "👤", "📝", "💳", "📎", "☑")
BATCH = 1000


def strip(text: str) -> str:
    for glyph in GLYPHS:
        if text.startswith(glyph + " "):
            return text[len(glyph) + 1 :]
    return text


def _rewrite(queryset, field, change):
    """Apply `change` to each object of `queryset` and save `field`, a batch at a time."""
    batch = []
    for obj in queryset.iterator(chunk_size=BATCH):
        change(obj)
        batch.append(obj)
        if len(batch) == BATCH:
            queryset.model.objects.bulk_update(batch, [field])
            batch = []
    queryset.model.objects.bulk_update(batch, [field])


def _strip_preview(message):
    message.preview = strip(message.preview)


def _strip_quote(message):
    message.quote = {**message.quote, "preview": strip(message.quote["preview"])}


def forwards(apps, schema_editor):
    Message = apps.get_model("conversations", "Message")
    for glyph in GLYPHS:
        stale = Message.objects.filter(preview__startswith=glyph + " ").only("id", "preview")
        _rewrite(stale, "preview", _strip_preview)
        quoting = Message.objects.filter(quote__preview__startswith=glyph + " ").only("id", "quote")
        _rewrite(quoting, "quote", _strip_quote)


class Migration(migrations.Migration):
    dependencies = [("conversations", "0013_tab_counts_index")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
