"""Shared fixtures: the real default model, prepared once per test session."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from storeview import close_test_stores  # noqa: F401 - registers the fixture

from kenning.embed import Embedder
from kenning.models.library import ModelLibrary, default_source_folder


@pytest.fixture(scope="session")
def source_folder() -> Path:
    return default_source_folder()


@pytest.fixture(scope="session")
def model_data_dir(tmp_path_factory) -> Path:
    """A data dir whose library holds the prepared default model (converted + quantized once)."""
    data_dir = tmp_path_factory.mktemp("kenning-data")
    ModelLibrary(data_dir).get()
    return data_dir


@pytest.fixture(scope="session")
def default_model(model_data_dir):
    return ModelLibrary(model_data_dir).get()


@pytest.fixture(scope="session")
def embedder(default_model) -> Embedder:
    return Embedder(default_model.path, default_model.spec)


@pytest.fixture
def data_dir(tmp_path, model_data_dir) -> Path:
    """A fresh data dir that reuses the prepared model (copied, as a user's would be)."""
    target = tmp_path / "data"
    (target / "models").mkdir(parents=True)
    for item in (model_data_dir / "models").iterdir():
        if item.is_file():
            shutil.copy2(item, target / "models" / item.name)
    return target



@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory):
    """A real PostgreSQL with pgvector (the pgserver package's binaries), on a Unix socket of its
    own, for the whole test session."""
    pgserver = pytest.importorskip("pgserver")
    server = pgserver.get_server(tmp_path_factory.mktemp("postgres"), cleanup_mode="stop")
    yield server
    server.cleanup()


_databases = iter(range(1, 1_000_000))


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request, monkeypatch) -> str | None:
    """Each test using it runs on both storage backends: the SQLite file in the data dir, and a
    fresh database on the PostgreSQL server (KENNING_DATABASE, which engines and child processes
    read). Its value is the server's address, or None for SQLite."""
    if request.param == "sqlite":
        monkeypatch.delenv("KENNING_DATABASE", raising=False)
        return None
    address = request.getfixturevalue("server_database")
    monkeypatch.setenv("KENNING_DATABASE", address)
    return address


@pytest.fixture
def server_database(postgres_server) -> str:
    """The address of a new, empty database on the test PostgreSQL server."""
    name = f"kenning_test_{next(_databases)}"
    postgres_server.psql(f"CREATE DATABASE {name};")
    return postgres_server.get_uri(name)


MODEL_FIXTURES = {"source_folder", "model_data_dir", "default_model", "embedder", "data_dir"}


def pytest_configure(config):
    config.addinivalue_line("markers", "model: needs the real default model (not in the fast tier)")
    config.addinivalue_line("markers", "slow: takes tens of seconds (not in the fast tier)")


def pytest_collection_modifyitems(config, items):
    """Tests that use the real model, directly or through a fixture, are marked `model`; the fast
    tier (`make test-fast`, `pytest -m "not model"`) runs the rest."""
    for item in items:
        if MODEL_FIXTURES & set(getattr(item, "fixturenames", ())) or getattr(item.module, "NEEDS_MODEL", False):
            item.add_marker(pytest.mark.model)
