"""Tests look at what the engine wrote through a connection of their own."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kenning.store import Store
from kenning.store import open_store as open_index

_stores: dict[Path, Store] = {}


def connect(data_dir: Path) -> Store:
    """A connection of its own (the caller closes it) to the index of `data_dir`, on the backend
    the test runs on."""
    return open_index(Path(data_dir), os.environ.get("KENNING_DATABASE"))


def open_store(data_dir: Path) -> Store:
    """A connection of the test's own to an index, to look at what the engine wrote (beside the
    engine's, as any other reader would); closed after each test."""
    data_dir = Path(data_dir)
    if data_dir not in _stores:
        _stores[data_dir] = connect(data_dir)
    return _stores[data_dir]


@pytest.fixture(autouse=True)
def close_test_stores():
    yield
    for store in _stores.values():
        store.close()
    _stores.clear()
