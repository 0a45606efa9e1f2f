"""Catalogue downloads against a real HTTP server on 127.0.0.1 serving a real GGUF made by our
converter: full download, resume after a cut connection, checksum mismatch, 404, no network,
a full disk, a proxy, cancelling, and no network use unless a download is asked for."""

from __future__ import annotations

import hashlib
import os
import socket
import stat
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from kenning.embed import Embedder
from kenning.engine import Engine
from kenning.models.catalogue import CATALOGUE, Download, ModelSpec
from kenning.models.convert import convert_to_gguf
from kenning.models.download import DownloadCancelled, DownloadError, partial_path
from kenning.models.library import ModelLibrary


class ModelServer(ThreadingHTTPServer):
    """Serves files by name (/model.gguf by default) with Range support; `cut = (name, n)` cuts
    the connection after n bytes of that file (once); every request's path and headers are kept."""

    daemon_threads = True

    def __init__(self, payload: bytes):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.files = {"model.gguf": payload}
        self.cut: tuple[str, int] | None = None
        self.requests: list[tuple[str, dict]] = []

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    @property
    def url(self) -> str:
        return f"{self.base}/model.gguf"


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        server: ModelServer = self.server
        server.requests.append((self.path, dict(self.headers)))
        name = self.path.rsplit("/", 1)[-1]  # absolute URLs too, as a proxy gets them
        data = server.files.get(name)
        if data is None:
            self.send_error(404, "Not Found")
            return
        start = 0
        wanted = self.headers.get("Range")
        if wanted:
            start = int(wanted.removeprefix("bytes=").split("-")[0])
            if start >= len(data):
                self.send_error(416, "Range Not Satisfiable")
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if server.cut is not None and server.cut[0] == name:
            body, server.cut = body[: server.cut[1]], None
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass


@pytest.fixture(autouse=True)
def no_proxy_from_the_environment(monkeypatch):
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def served_model(tmp_path_factory, source_folder) -> bytes:
    """A real GGUF (all-MiniLM-L6-v2 converted to F16 by our converter), as a catalogue serves one."""
    return convert_to_gguf(source_folder, tmp_path_factory.mktemp("served") / "model-f16.gguf").read_bytes()


@pytest.fixture
def server(served_model):
    httpd = ModelServer(served_model)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def catalogue_entry(url: str, payload: bytes, sha256: str | None = None, name: str = "served-minilm") -> ModelSpec:
    return ModelSpec(
        name=name, file=f"{name}.Q8_0.gguf", dimensions=384, pooling="mean", max_tokens=256,
        download=Download(url=url, sha256=sha256 or hashlib.sha256(payload).hexdigest(), size=len(payload)),
    )


def leftovers(library: ModelLibrary) -> list[str]:
    return sorted(p.name for p in library.folder.iterdir())


def test_download_installs_a_verified_quantized_model(tmp_path, server, served_model):
    library = ModelLibrary(tmp_path / "data")
    seen = []
    messages = []
    installed = library.download(catalogue_entry(server.url, served_model), messages.append, seen.append)
    assert seen[-1].done == seen[-1].total == len(served_model)
    assert [p.done for p in seen] == sorted(p.done for p in seen)
    assert any("quantizing" in m for m in messages)
    assert leftovers(library) == ["served-minilm.Q8_0.gguf", "served-minilm.Q8_0.json"]  # no F16, no partial
    assert stat.S_IMODE(installed.path.stat().st_mode) == 0o600
    assert library.find("served-minilm") is not None
    vector = Embedder(installed.path, installed.spec).embed_query("gardening tomatoes")
    assert vector.shape == (384,) and abs(np.linalg.norm(vector) - 1) < 1e-4


def test_resume_after_a_cut_connection(tmp_path, server, served_model):
    library = ModelLibrary(tmp_path / "data")
    spec = catalogue_entry(server.url, served_model)
    server.cut = ("model.gguf", len(served_model) // 3)
    with pytest.raises(DownloadError, match="cut off .* run it again to resume"):
        library.download(spec)
    part = partial_path(library.folder / "model.gguf")
    assert part.stat().st_size == len(served_model) // 3
    assert library.find("served-minilm") is None
    library.download(spec)
    assert server.requests[-1][1].get("Range") == f"bytes={len(served_model) // 3}-"
    assert library.find("served-minilm") is not None and not part.exists()


def test_checksum_mismatch_is_refused_and_leaves_nothing(tmp_path, server, served_model):
    library = ModelLibrary(tmp_path / "data")
    spec = catalogue_entry(server.url, served_model, sha256="0" * 64)
    with pytest.raises(DownloadError, match="not the pinned 0{64}; it was discarded"):
        library.download(spec)
    assert leftovers(library) == []


def test_http_404_is_reported(tmp_path, server, served_model):
    library = ModelLibrary(tmp_path / "data")
    spec = catalogue_entry(server.url.replace("model.gguf", "missing.gguf"), served_model)
    with pytest.raises(DownloadError, match="HTTP 404"):
        library.download(spec)
    assert leftovers(library) == []


def test_no_network_is_reported(tmp_path, served_model):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    library = ModelLibrary(tmp_path / "data")
    with pytest.raises(DownloadError, match="cannot reach 127.0.0.1:.*check the network connection or the proxy"):
        library.download(catalogue_entry(f"http://127.0.0.1:{port}/model.gguf", served_model))


def test_too_little_free_space_is_refused_before_downloading(tmp_path, server, served_model):
    library = ModelLibrary(tmp_path / "data")
    free = os.statvfs(library.folder).f_bavail * os.statvfs(library.folder).f_frsize
    spec = catalogue_entry(server.url, served_model)
    spec = ModelSpec(**{**spec.__dict__, "download": Download(server.url, spec.download.sha256, free + 1)})
    with pytest.raises(DownloadError, match="not enough disk space"):
        library.download(spec)
    assert server.requests == []


@pytest.fixture
def small_disk(tmp_path, served_model):
    """A real, small file system (tmpfs) with just enough room to start the download."""
    mount = tmp_path / "disk"
    mount.mkdir()
    size_mb = len(served_model) // 2**20 + 40
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs", str(mount)],
                            capture_output=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def test_disk_filling_up_mid_download_is_reported_and_resumable(small_disk, server, served_model):
    library = ModelLibrary(small_disk / "data")
    filler = small_disk / "filler"

    def fill_the_disk(progress):  # another program takes all the space once the download runs
        if not filler.exists():
            with open(filler, "wb") as f:
                try:
                    while True:
                        f.write(b"\0" * (1 << 20))
                except OSError:
                    pass

    spec = catalogue_entry(server.url, served_model)
    with pytest.raises(DownloadError, match="is full .* free some space and run it again to resume"):
        library.download(spec, on_bytes=fill_the_disk)
    assert library.find("served-minilm") is None
    filler.unlink()
    library.download(spec)
    assert library.find("served-minilm") is not None


def test_proxy_setting_is_honoured(tmp_path, server, served_model):
    """The server doubles as the proxy: the model's host does not exist, so the file can only
    arrive through the proxy."""
    library = ModelLibrary(tmp_path / "data")
    spec = catalogue_entry("http://models.invalid/model.gguf", served_model)
    library.download(spec, proxy=f"http://127.0.0.1:{server.server_address[1]}")
    assert server.requests[0][0] == "http://models.invalid/model.gguf"  # absolute URI: proxied
    assert library.find("served-minilm") is not None


def test_cancelled_download_keeps_its_part_for_later(tmp_path, server, served_model):
    library = ModelLibrary(tmp_path / "data")
    spec = catalogue_entry(server.url, served_model)
    seen = []
    with pytest.raises(DownloadCancelled, match="run it again to resume"):
        library.download(spec, on_bytes=seen.append, should_stop=lambda: len(seen) >= 3)
    assert partial_path(library.folder / "model.gguf").exists()
    assert library.find("served-minilm") is None
    library.download(spec)
    assert library.find("served-minilm") is not None


def test_a_hugging_face_folder_is_downloaded_file_by_file_then_converted(tmp_path, server, source_folder,
                                                                          default_model):
    """The multilingual-e5 kind of entry: pinned source files, converted and quantized here
    (served: all-MiniLM-L6-v2's own files)."""
    names = ("config.json", "tokenizer.json", "model.safetensors")
    for name in names:
        server.files[name] = (source_folder / name).read_bytes()
    files = tuple((n, hashlib.sha256(server.files[n]).hexdigest(), len(server.files[n])) for n in names)
    spec = ModelSpec(name="served-folder", file="served-folder.Q8_0.gguf", dimensions=384, pooling="mean",
                     max_tokens=256, download=Download(f"{server.base}/rev", "", sum(f[2] for f in files), files=files))
    library = ModelLibrary(tmp_path / "data")
    server.cut = ("model.safetensors", 1_000_000)  # the weights' connection drops part-way
    seen = []
    with pytest.raises(DownloadError, match="cut off"):
        library.download(spec, on_bytes=seen.append)
    assert 0 < library.downloaded_bytes(spec) < spec.download.size
    library.download(spec, on_bytes=seen.append)
    assert seen[-1].done == seen[-1].total == spec.download.size
    assert [p for p, _ in server.requests].count("/rev/config.json") == 1  # kept, not fetched again
    assert leftovers(library) == ["served-folder.Q8_0.gguf", "served-folder.Q8_0.json"]
    installed = library.find("served-folder")
    reference = Embedder(default_model.path, default_model.spec)
    text = "Libraries classify books by subject."
    similarity = float(Embedder(installed.path, installed.spec).embed_query(text) @ reference.embed_query(text))
    assert similarity > 0.99  # the same model, converted from downloaded files


def test_pinned_catalogue_entries_are_complete():
    for spec in CATALOGUE.values():
        if spec.download:
            source = spec.download
            assert source.url.startswith("https://huggingface.co/") and "/resolve/main" not in source.url
            pins = [source.sha256] if not source.files else [sha for _, sha, _ in source.files]
            assert all(len(pin) == 64 and int(pin, 16) >= 0 for pin in pins)
            assert source.size == (sum(size for *_, size in source.files) if source.files else source.size)
            assert source.size > 1_000_000 and spec.quality
    assert {name for name, spec in CATALOGUE.items() if spec.download} == {
        "bge-small-en-v1.5", "nomic-embed-text-v1.5", "multilingual-e5-small"}


def test_nothing_touches_the_network_unless_a_download_is_asked_for(data_dir, tmp_path, monkeypatch):
    """Index, search, status, model listing and switching: no socket connects anywhere."""
    connects = []
    real_connect = socket.socket.connect

    def recording_connect(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            connects.append(address)
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", recording_connect)
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Tomatoes need sun, water and well-drained soil.")
    with Engine(data_dir) as engine:
        engine.index([docs])
        engine.search("growing vegetables")
        engine.status()
        with pytest.raises(Exception, match="not installed; download it first"):
            engine.switch_model("bge-small-en-v1.5")
    ModelLibrary(data_dir).installed()
    assert connects == []
