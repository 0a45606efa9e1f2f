"""Tests look at what the engine wrote through a connection of their own."""

from __future__ import annotations

from pathlib import Path

import pytest

from kenning.store import Store

_stores: dict[Path, Store] = {}


def open_store(data_dir: Path) -> Store:
    """A connection of the test's own to an index, to look at what the engine wrote (beside the
    engine's, as any other reader would); closed after each test."""
    data_dir = Path(data_dir)
    if data_dir not in _stores:
        _stores[data_dir] = Store(data_dir)
    return _stores[data_dir]


@pytest.fixture(autouse=True)
def close_test_stores():
    yield
    for store in _stores.values():
        store.close()
    _stores.clear()
