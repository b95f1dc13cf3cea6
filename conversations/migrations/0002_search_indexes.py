"""Trigram indexes for the inbox search, on PostgreSQL only.

The search (`conversations.selectors.inbox.inbox_conversations`) is a case-insensitive substring match, which
Django writes as `UPPER(col::text) LIKE UPPER('%term%')`; a GIN trigram index on exactly that
expression turns a scan of every message into an index lookup. pg_trgm is a trusted extension (PostgreSQL
13+): the database's owner may create it. SQLite has no such index and keeps scanning (it serves one
small embedded install).

Built CONCURRENTLY (so the migration is not atomic): on a large production table the inbox keeps
working while the indexes are built.
"""

from django.db import migrations

INDEXES = {
    "message_preview_trgm": "conversations_message USING gin (upper(preview::text) gin_trgm_ops)",
    "message_text_trgm": "conversations_message USING gin (upper(content ->> 'text') gin_trgm_ops)",
    "contact_name_trgm": "conversations_contact USING gin (upper(display_name::text) gin_trgm_ops)",
    "contact_external_id_trgm": "conversations_contact USING gin (upper(external_id::text) gin_trgm_ops)",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, definition in INDEXES.items():
        # A concurrent build that failed or was cancelled leaves an INVALID index behind, which
        # IF NOT EXISTS would then take as done: drop it and build again.
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(
                "SELECT 1 FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid "
                "WHERE c.relname = %s AND NOT i.indisvalid",
                [name],
            )
            if cursor.fetchone():
                schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
        schema_editor.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {definition}")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("conversations", "0001_initial")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
