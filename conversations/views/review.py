"""The delivery review for leads (being written)."""
