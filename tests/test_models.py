"""Model layer: converter, quantizer, default model, embedder, and their bad inputs (real model)."""

from __future__ import annotations

import json
import shutil
import stat
from pathlib import Path

import numpy as np
import pytest
from reference_bert import NumpyBert
from tokenizers import Tokenizer

from kenning.embed import Embedder, TextTooLong
from kenning.errors import ModelError
from kenning.models.catalogue import CATALOGUE, ModelSpec
from kenning.models.convert import convert_to_gguf, read_hf_folder
from kenning.models.gguf_file import read_gguf
from kenning.models.library import ModelLibrary
from kenning.models.quantize import quantize

SAMPLES = [
    "The quick brown fox jumps over the lazy dog.",
    "Information retrieval systems rank documents by their relevance to a query.",
    "Café, naïve and résumé: accents are stripped by the uncased tokenizer!",
    "short",
    "Numbers like 3.14159, 2026-11-22 and $1,234.56 split into word pieces.",
    "A much longer passage about library science, cataloguing, classification schemes and the "
    "measurement of search effectiveness through precision, recall and user satisfaction studies.",
    "Mixed scripts: 東京 is Tokyo, Москва is Moscow, and emojis 🙂 are unknown tokens.",
    "unbelievably antidisestablishmentarianism hyperparameterization",
]


@pytest.fixture(scope="module")
def gguf_variants(tmp_path_factory, source_folder):
    folder = tmp_path_factory.mktemp("variants")
    f16 = convert_to_gguf(source_folder, folder / "minilm-f16.gguf")
    return {
        "f16": f16,
        "q8_0": quantize(f16, folder / "minilm-q8_0.gguf", "q8_0"),
        "q4_k_m": quantize(f16, folder / "minilm-q4_k_m.gguf", "q4_k_m"),
    }


@pytest.fixture(scope="module")
def reference(source_folder):
    tokenizer = Tokenizer.from_file(str(source_folder / "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    model = NumpyBert(source_folder)
    return {text: model.embed(tokenizer.encode(text).ids) for text in SAMPLES}


@pytest.mark.parametrize("quant, minimum", [("f16", 0.999), ("q8_0", 0.995), ("q4_k_m", 0.95)])
def test_converted_model_reproduces_numpy_reference(gguf_variants, reference, quant, minimum):
    embedder = Embedder(gguf_variants[quant], CATALOGUE["all-minilm-l6-v2"])
    vectors = embedder.embed_documents(SAMPLES)
    cosines = [float(vectors[i] @ reference[text]) for i, text in enumerate(SAMPLES)]
    assert min(cosines) >= minimum, cosines
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_gguf_metadata_of_converted_model(gguf_variants):
    info = read_gguf(gguf_variants["q8_0"])
    assert (info.architecture, info.dimensions, info.pooling, info.file_type) == (
        "bert", 384, "mean", "MOSTLY_Q8_0"
    )
    assert read_gguf(gguf_variants["f16"]).file_type == "MOSTLY_F16"
    sizes = {q: p.stat().st_size for q, p in gguf_variants.items()}
    assert sizes["q4_k_m"] < sizes["q8_0"] < sizes["f16"]


def test_tokenization_matches_wordpiece(embedder, source_folder):
    tokenizer = Tokenizer.from_file(str(source_folder / "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    for text in SAMPLES + ["", "  leading and trailing  ", "CamelCase snake_case kebab-case", "e-mail: a.b@c.org"]:
        assert embedder.tokenize(text) == tokenizer.encode(text).ids, text


def test_batched_embedding_equals_one_at_a_time(embedder):
    together = embedder.embed_documents(SAMPLES)
    alone = np.stack([embedder.embed_documents([text])[0] for text in SAMPLES])
    # Q8_0 activations round differently with batch shape; leakage between sequences would not.
    assert np.min(np.sum(together * alone, axis=1)) > 0.999


def test_batches_larger_than_the_context_are_split(embedder):
    texts = [f"document number {i} talks about topic {i % 7}" for i in range(300)]
    vectors = embedder.embed_documents(texts)
    assert vectors.shape == (300, 384)
    assert float(vectors[5] @ embedder.embed_documents([texts[5]])[0]) > 0.999


def test_long_document_text_is_reported_not_truncated(embedder):
    with pytest.raises(TextTooLong, match="tokens"):
        embedder.embed_documents(["word " * 400])


def test_long_query_is_embedded_in_windows(embedder):
    vector = embedder.embed_query("library catalogue " * 300)
    assert vector.shape == (384,) and abs(float(np.linalg.norm(vector)) - 1) < 1e-5


def test_prefixes_are_applied_asymmetrically(default_model):
    spec = ModelSpec(**{**default_model.spec.to_json(), "query_prefix": "query: ", "document_prefix": "passage: ",
                        "matryoshka_dimensions": ()})
    embedder = Embedder(default_model.path, spec)
    plain = Embedder(default_model.path, default_model.spec)
    text = "solar panels on the roof"
    assert np.allclose(embedder.embed_query(text), plain.embed_query("query: " + text), atol=1e-5)
    assert np.allclose(embedder.embed_documents([text])[0], plain.embed_documents(["passage: " + text])[0], atol=1e-5)
    assert embedder.count_tokens(text) == plain.count_tokens("passage: " + text)


def test_gpu_off_and_unknown_setting(default_model):
    from kenning.embed import EmbedderSettings

    assert Embedder(default_model.path, default_model.spec, EmbedderSettings(gpu="off")).backend == "cpu"
    with pytest.raises(ModelError, match="auto, on or off"):
        Embedder(default_model.path, default_model.spec, EmbedderSettings(gpu="maybe"))


# -- the embedded default model --------------------------------------------------------------

@pytest.mark.model
def test_default_model_is_prepared_once_and_private(tmp_path):
    library = ModelLibrary(tmp_path / "data")
    messages = []
    model = library.get(progress=messages.append)
    assert model.path.is_file() and read_gguf(model.path).file_type == "MOSTLY_Q8_0"
    assert any("quantizing" in m for m in messages)
    assert stat.S_IMODE(model.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(library.folder.stat().st_mode) == 0o700
    first_mtime = model.path.stat().st_mtime_ns
    again = ModelLibrary(tmp_path / "data").get(progress=messages.append)
    assert again.path.stat().st_mtime_ns == first_mtime  # reused, not rebuilt
    assert [p.name for p in library.folder.iterdir() if p.name.startswith(".")] == []


def test_damaged_default_model_is_rebuilt(data_dir):
    library = ModelLibrary(data_dir)
    model = library.get()
    with open(model.path, "r+b") as f:
        f.seek(model.path.stat().st_size // 2)
        f.write(b"\0" * 4096)
    repaired = library.get()
    assert library.verified(repaired) == repaired


def test_wrong_source_sha256_is_refused_and_leaves_nothing(tmp_path, source_folder):
    fake = tmp_path / "fake-source"
    shutil.copytree(source_folder, fake)
    with open(fake / "model.safetensors", "r+b") as f:
        f.seek(-16, 2)
        f.write(b"tampered weights")
    library = ModelLibrary(tmp_path / "data")
    with pytest.raises(ModelError, match="sha256"):
        library.prepare_default(source=fake)
    assert list(library.folder.iterdir()) == []


# -- bad model files and folders ------------------------------------------------------------

def test_missing_gguf(tmp_path):
    with pytest.raises(ModelError, match="no such model file"):
        read_gguf(tmp_path / "absent.gguf")


def test_not_a_gguf(tmp_path):
    path = tmp_path / "notes.gguf"
    path.write_text("this is not a model")
    with pytest.raises(ModelError, match="not a GGUF"):
        ModelLibrary(tmp_path / "data").import_gguf(path)
    assert list((tmp_path / "data" / "models").iterdir()) == []


def test_truncated_gguf(tmp_path, default_model):
    path = tmp_path / "cut.gguf"
    path.write_bytes(default_model.path.read_bytes()[: default_model.path.stat().st_size // 3])
    with pytest.raises(ModelError, match="cut.gguf.*(truncated|damaged)"):
        ModelLibrary(tmp_path / "data").import_gguf(path)
    with pytest.raises(ModelError, match="truncated|damaged"):
        Embedder(path, default_model.spec)
    assert list((tmp_path / "data" / "models").iterdir()) == []


def test_gguf_with_corrupt_header_does_not_crash(tmp_path, default_model):
    path = tmp_path / "scrambled.gguf"
    data = bytearray(default_model.path.read_bytes())
    data[8:64] = b"\xff" * 56  # tensor and metadata counts become absurd
    path.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="scrambled.gguf"):
        ModelLibrary(tmp_path / "data").import_gguf(path)


def test_import_and_list_a_gguf(tmp_path, gguf_variants):
    library = ModelLibrary(tmp_path / "data")
    model = library.import_gguf(gguf_variants["q4_k_m"], "minilm-small")
    assert (model.spec.dimensions, model.spec.pooling) == (384, "mean")
    assert [m.spec.name for m in library.installed()] == ["minilm-small"]
    vector = Embedder(model.path, model.spec).embed_query("hello")
    assert vector.shape == (384,)


def test_unsupported_architecture_is_named(tmp_path, source_folder):
    folder = tmp_path / "gpt"
    shutil.copytree(source_folder, folder)
    config = json.loads((folder / "config.json").read_text())
    config["architectures"] = ["GPT2LMHeadModel"]
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelError, match="GPT2LMHeadModel.*BertModel"):
        convert_to_gguf(folder, tmp_path / "out.gguf")
    assert not (tmp_path / "out.gguf").exists()


def test_folder_without_weights(tmp_path, source_folder):
    folder = tmp_path / "noweights"
    shutil.copytree(source_folder, folder)
    (folder / "model.safetensors").unlink()
    with pytest.raises(ModelError, match="no weights"):
        convert_to_gguf(folder, tmp_path / "out.gguf")
    assert list(tmp_path.glob("*.gguf")) == [] and list(tmp_path.glob(".*part")) == []


def test_folder_without_config(tmp_path):
    with pytest.raises(ModelError, match="no config.json"):
        read_hf_folder(tmp_path)


def test_legacy_pytorch_bin_is_refused_clearly(tmp_path, source_folder):
    folder = tmp_path / "legacy"
    shutil.copytree(source_folder, folder)
    (folder / "model.safetensors").unlink()
    (folder / "pytorch_model.bin").write_bytes(b"\x80\x02legacy pickle")
    with pytest.raises(ModelError, match="pytorch_model.bin.*without PyTorch"):
        convert_to_gguf(folder, tmp_path / "out.gguf")


def test_model_that_aborts_llama_cpp_is_refused_without_crashing(tmp_path, source_folder, monkeypatch):
    """A structurally valid GGUF that makes llama.cpp abort on first use (F16 position
    embeddings, which ggml cannot add to F32 activations) must be refused, not crash us."""
    import kenning.models.convert as convert

    def all_f16(weights):
        for hf_name in sorted(weights):
            name = convert.gguf_tensor_name(hf_name)
            if name:
                yield name, weights[hf_name].astype(np.float16 if weights[hf_name].ndim > 1 else np.float32)

    monkeypatch.setattr(convert, "_converted_tensors", all_f16)
    broken = convert.convert_to_gguf(source_folder, tmp_path / "aborts.gguf")
    assert read_gguf(broken).dimensions == 384  # passes the structural checks
    library = ModelLibrary(tmp_path / "data")
    with pytest.raises(ModelError, match="aborts.gguf.*cannot run this model"):
        library.import_gguf(broken)
    assert library.installed() == []


def test_pytorch_bin_is_read_without_pytorch():
    """tests/fixtures/tiny_state_dict.bin was written by torch.save (PyTorch 2.13) with dense,
    transposed, offset, float16 and bfloat16 tensors; the expected arrays beside it by NumPy."""
    from kenning.models.torch_pickle import load_pytorch_bin

    fixtures = Path(__file__).parent / "fixtures"
    state = load_pytorch_bin(fixtures / "tiny_state_dict.bin")
    expected = np.load(fixtures / "tiny_state_dict_expected.npz")
    assert sorted(state) == sorted(expected.files)
    for name in expected.files:
        assert np.array_equal(state[name].astype(np.float32), expected[name]), name
