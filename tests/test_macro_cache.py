"""The disk cache of the generated normalization macros: a later process reads back exactly the
statements the first one built, under a key of their sources and library versions, and a
broken or unwritable cache only means building them again."""

from __future__ import annotations

import json

import pytest

from pinterest_pipeline.transform.normalize import macro_cache
from pinterest_pipeline.transform.normalize.sql import _build_macro_statements


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv(macro_cache.CACHE_DIR_ENV, str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_statements_are_built_once_then_read_back_unchanged(cache):
    built = []

    def build():
        built.append(1)
        return _build_macro_statements()

    first = macro_cache.cached_statements(build)
    second = macro_cache.cached_statements(build)
    assert built == [1]
    assert second == first == _build_macro_statements()
    (entry,) = cache.iterdir()
    assert entry.name == f"normalize-macros-{macro_cache.cache_key()}.json"
    assert json.loads(entry.read_text()) == list(first)


@pytest.mark.parametrize("content", ["not json", '{"a": 1}', "[1, 2]", ""])
def test_a_broken_cache_file_is_rebuilt(cache, content):
    cache.mkdir()
    (cache / f"normalize-macros-{macro_cache.cache_key()}.json").write_text(content)
    assert macro_cache.cached_statements(lambda: ("SELECT 1",)) == ("SELECT 1",)
    assert macro_cache.cached_statements(lambda: ("never built",)) == ("SELECT 1",)


def test_an_unwritable_cache_only_means_building_again(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv(macro_cache.CACHE_DIR_ENV, str(blocker / "cache"))  # a directory below a file
    assert macro_cache.cached_statements(lambda: ("SELECT 1",)) == ("SELECT 1",)
    assert macro_cache.cached_statements(lambda: ("SELECT 2",)) == ("SELECT 2",)


def test_the_key_follows_the_code_and_libraries(monkeypatch):
    key = macro_cache.cache_key()
    assert key == macro_cache.cache_key()
    monkeypatch.setattr(macro_cache, "_LIBRARIES", (*macro_cache._LIBRARIES, "pyarrow"))
    assert macro_cache.cache_key() != key
