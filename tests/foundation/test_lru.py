"""The bounded map a server process keeps drawn fragments and pages' menus in (channels_app/lru.py)."""

from __future__ import annotations

from channels_app.lru import BoundedCache


def test_the_cache_keeps_its_newest_entries_within_its_size():
    cache: BoundedCache[str] = BoundedCache(size=2)
    drawn: list[str] = []

    def draw(key: str):
        return lambda: drawn.append(key) or key

    for key in ["a", "b", "a", "c", "a", "b"]:
        assert cache.get(key, draw(key)) == key

    assert drawn == ["a", "b", "c", "b"]  # "b" was the oldest when "c" came in
    assert len(cache) == 2


def test_a_value_that_is_falsy_is_kept_too():
    cache: BoundedCache[list[str]] = BoundedCache(size=2)
    reads: list[int] = []

    assert cache.get("none", lambda: reads.append(1) or []) == []
    assert cache.get("none", lambda: reads.append(1) or []) == []
    assert reads == [1]  # an empty list of labels is a list read, not a miss
