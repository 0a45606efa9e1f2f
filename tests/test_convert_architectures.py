"""The converter beyond plain BERT: Nomic BERT (rotary, SwiGLU) and SentencePiece Unigram
vocabularies (multilingual-e5's BERT, XLM-RoBERTa), on tiny random models built here.

Each tiny model is written the way Hugging Face stores the real one (config.json, safetensors,
a tokenizer.json made with the `tokenizers` library, sentence-transformers pooling files),
converted by our converter, run by llama.cpp through Embedder, and compared with a NumPy forward
pass of the same weights; llama.cpp's tokenization is compared with `tokenizers`'.
"""

from __future__ import annotations

import json
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest
from reference_bert import NumpyBert
from reference_nomic import NumpyNomicBert
from safetensors.numpy import save_file
from tokenizers import Regex, Tokenizer, models, normalizers, pre_tokenizers, processors

from kenning.embed import Embedder
from kenning.errors import ModelError
from kenning.models.catalogue import ModelSpec
from kenning.models.convert import convert_to_gguf
from kenning.models.gguf_file import read_gguf

WIDTH, LAYERS, HEADS, FFN, POSITIONS = 64, 2, 4, 128, 128
CORPUS = [
    "The quick brown fox jumps over the lazy dog.",
    "Information retrieval systems rank documents by their relevance to a query.",
    "Le renard brun saute par-dessus le chien paresseux.",
    "La recherche d'information classe les documents selon leur pertinence.",
    "Der schnelle braune Fuchs springt über den faulen Hund.",
    "Быстрая коричневая лиса прыгает через ленивую собаку.",
    "Η γρήγορη καφέ αλεπού πηδάει πάνω από τον τεμπέλικο σκύλο.",
    "東京は日本の首都です。京都も有名な都市です。",
    "Numbers like 3.14159, 2026-11-22 and $1,234.56 appear in text.",
]
ENGLISH = [
    "The quick brown fox jumps over the lazy dog.",
    "Information retrieval systems rank documents by relevance!",
    "Café, naïve and résumé: accents are stripped by the uncased tokenizer",
    "short",
    "Numbers like 3.14159 and 2026-11-22 split into pieces.",
    "unbelievably antidisestablishmentarianism hyperparameterization",
    "Mixed scripts: 東京 is Tokyo, and emojis 🙂 are unknown tokens.",
    "",
]
MULTILINGUAL = [
    "The quick brown fox jumps over the lazy dog.",
    "Le renard brun saute par-dessus le chien paresseux.",
    "Der schnelle braune Fuchs springt über den faulen Hund.",
    "Быстрая коричневая лиса прыгает через ленивую собаку.",
    "東京は日本の首都です。",
    "Η γρήγορη καφέ αλεπού",
    "\ufb01nancial \uff21\uff22 \u2460 \u2026 (the character map's cases)",
    "tabs\tand   runs  of spaces,\u3000ideographic too",
    "  leading spaces",
    "unseen characters: 🙂 ☃ ✓✓",
    "Zahlen wie 3.14159 und 2026-11-22",
    "a",
    "",
]
# A SentencePiece normalization table of our own (XLM-R's maps NFKC cases the same way)
CHARSMAP = {"\ufb01": "fi", "\uff21": "A", "\uff22": "B", "\u2460": "1", "\u2026": "...",
            "\u3000": " ", "\t": " "}


def precompiled_charsmap(mapping: dict[str, str]) -> bytes:
    """SentencePiece's precompiled normalization table, built by hand: a double-array trie over
    the UTF-8 bytes of each source string (darts-clone's 32-bit units: label in bits 0-7, has-leaf
    bit 8, offset to the children in bits 10-30; a leaf unit sets bit 31 and holds the offset of
    the replacement), then the NUL-terminated replacement strings."""
    strings, trie = b"", {}
    for source, target in mapping.items():
        node = trie
        for byte in source.encode():
            node = node.setdefault(byte, {})
        node[None] = len(strings)
        strings += target.encode() + b"\0"
    size = 1024  # a power of two ≥ 256: every child index base ^ byte stays inside the array
    units, used, bases = [0] * size, {0}, set()

    def place(node: dict, position: int, label: int) -> None:
        wanted = sorted(0 if key is None else key for key in node)
        base = next(b for b in range(1, size)
                    if b not in bases and all(b ^ c not in used for c in wanted))
        bases.add(base)
        used.update(base ^ c for c in wanted)
        units[position] = ((position ^ base) << 10) | ((None in node) << 8) | label
        if None in node:
            units[base] = (1 << 31) | node[None]
        for key, child in node.items():
            if key is not None:
                place(child, base ^ key, key)

    place(trie, 0, 0)
    return struct.pack(f"<I{size}I", 4 * size, *units) + strings


def random_weights(shapes: dict[str, tuple[int, ...]], seed: int) -> dict[str, np.ndarray]:
    """Matrices drawn at 1/sqrt(fan-in), so every layer changes the output noticeably (a swapped
    or misplaced weight must show), queries and keys 4× that, so attention is peaked enough for
    positions to matter; embeddings at 0.02; norms near 1 and biases near 0."""
    rng = np.random.default_rng(seed)
    weights = {}
    for name, shape in shapes.items():
        if name.endswith("bias"):
            data = rng.normal(0, 0.02, shape)
        elif len(shape) == 1:
            data = 1 + rng.normal(0, 0.1, shape)
        elif "embeddings" in name:
            data = rng.normal(0, 0.02, shape)
        else:
            data = rng.normal(0, 1 / np.sqrt(shape[1]), shape)
            if "Wqkv" in name:
                data[: 2 * WIDTH] *= 4
            elif ".query." in name or ".key." in name:
                data *= 4
        weights[name] = data.astype(np.float32)
    return weights


def write_pooling(folder: Path) -> None:
    (folder / "modules.json").write_text(json.dumps([
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ]))
    (folder / "1_Pooling").mkdir()
    (folder / "1_Pooling" / "config.json").write_text(json.dumps(
        {"word_embedding_dimension": WIDTH, "pooling_mode_mean_tokens": True,
         "pooling_mode_cls_token": False}))


def corpus_words(normalizer, pre_tokenizer) -> list[str]:
    return sorted({word for text in CORPUS
                   for word, _ in pre_tokenizer.pre_tokenize_str(normalizer.normalize_str(text))})


def unique(tokens: list[str]) -> list[str]:
    return list(dict.fromkeys(tokens))


def wordpiece_tokenizer() -> Tokenizer:
    """An uncased BERT tokenizer, as bert-base-uncased's (nomic-embed uses that vocabulary): the
    corpus's characters, as word starts and as ## continuations, every other word of it whole and
    a few common pieces, so that other words split. (Built by hand: the trainers are not
    deterministic.)"""
    normalizer = normalizers.BertNormalizer(lowercase=True)
    pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    words = corpus_words(normalizer, pre_tokenizer)
    chars = sorted({char for word in words for char in word})
    tokens = unique(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *chars, *("##" + c for c in chars),
                     *words[::2], "un", "##ing", "##s", "##ly", "##tion", "##able", "##ment"])
    ids = {token: i for i, token in enumerate(tokens)}
    tokenizer = Tokenizer(models.WordPiece(ids, unk_token="[UNK]"))
    tokenizer.normalizer = normalizer
    tokenizer.pre_tokenizer = pre_tokenizer
    tokenizer.add_special_tokens(tokens[:5])
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)])
    return tokenizer


def unigram_tokenizer() -> Tokenizer:
    """An XLM-R-style SentencePiece Unigram tokenizer, laid out as multilingual-e5's tokenizer.json:
    <s> <pad> </s> <unk> first and <mask> last, a precompiled character map, runs of spaces
    merged, a Metaspace pre-tokenizer, <s> … </s> around every text. The pieces are the corpus's
    characters, every other word whole, and word beginnings and endings, with irregular
    log-probabilities (so no two segmentations tie)."""
    normalizer = normalizers.Sequence([
        normalizers.Precompiled(precompiled_charsmap(CHARSMAP)),
        normalizers.Replace(Regex(" {2,}"), " "),
    ])
    pre_tokenizer = pre_tokenizers.Metaspace()
    words = corpus_words(normalizer, pre_tokenizer)
    chars = sorted({char for word in words for char in word})
    ends = sorted({part for word in words if len(word) > 4
                   for part in (word[:3], word[-3:], word[-2:])})
    pieces = unique([*chars, *words[::2], *ends])
    rng = np.random.default_rng(7)
    specials = ["<s>", "<pad>", "</s>", "<unk>"]
    vocab = [(token, 0.0) for token in specials]
    vocab += [(piece, float(rng.uniform(-13, -3))) for piece in pieces]
    vocab += [("<mask>", 0.0)]
    tokenizer = Tokenizer(models.Unigram(vocab, unk_id=3))
    tokenizer.normalizer = normalizer
    tokenizer.pre_tokenizer = pre_tokenizer
    tokenizer.add_special_tokens([*specials, "<mask>"])
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", special_tokens=[("<s>", 0), ("</s>", 2)])
    return tokenizer


def bert_shapes(vocab: int, positions: int, prefix: str = "") -> dict[str, tuple[int, ...]]:
    shapes = {
        "embeddings.word_embeddings.weight": (vocab, WIDTH),
        "embeddings.position_embeddings.weight": (positions, WIDTH),
        "embeddings.token_type_embeddings.weight": (2, WIDTH),
        "embeddings.LayerNorm.weight": (WIDTH,),
        "embeddings.LayerNorm.bias": (WIDTH,),
        "pooler.dense.weight": (WIDTH, WIDTH),
        "pooler.dense.bias": (WIDTH,),
    }
    for i in range(LAYERS):
        p = f"encoder.layer.{i}."
        for name in ("attention.self.query", "attention.self.key", "attention.self.value",
                     "attention.output.dense"):
            shapes[p + name + ".weight"], shapes[p + name + ".bias"] = (WIDTH, WIDTH), (WIDTH,)
        shapes[p + "intermediate.dense.weight"] = (FFN, WIDTH)
        shapes[p + "intermediate.dense.bias"] = (FFN,)
        shapes[p + "output.dense.weight"], shapes[p + "output.dense.bias"] = (WIDTH, FFN), (WIDTH,)
        for norm in ("attention.output.LayerNorm", "output.LayerNorm"):
            shapes[p + norm + ".weight"], shapes[p + norm + ".bias"] = (WIDTH,), (WIDTH,)
    return {prefix + name: shape for name, shape in shapes.items()}


def nomic_shapes(vocab: int) -> dict[str, tuple[int, ...]]:
    shapes = {
        "embeddings.word_embeddings.weight": (vocab, WIDTH),
        "embeddings.token_type_embeddings.weight": (2, WIDTH),
        "emb_ln.weight": (WIDTH,),
        "emb_ln.bias": (WIDTH,),
    }
    for i in range(LAYERS):
        p = f"encoder.layers.{i}."
        shapes[p + "attn.Wqkv.weight"] = (3 * WIDTH, WIDTH)
        shapes[p + "attn.out_proj.weight"] = (WIDTH, WIDTH)
        shapes[p + "mlp.fc11.weight"] = shapes[p + "mlp.fc12.weight"] = (FFN, WIDTH)
        shapes[p + "mlp.fc2.weight"] = (WIDTH, FFN)
        for norm in ("norm1", "norm2"):
            shapes[p + norm + ".weight"], shapes[p + norm + ".bias"] = (WIDTH,), (WIDTH,)
    return shapes


def write_model(folder: Path, config: dict, shapes: dict, tokenizer: Tokenizer, seed: int) -> Path:
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps(config))
    save_file(random_weights(shapes, seed), str(folder / "model.safetensors"))
    tokenizer.save(str(folder / "tokenizer.json"))
    write_pooling(folder)
    return folder


def make_nomic(folder: Path, rotary_fraction: float = 1.0) -> Path:
    tokenizer = wordpiece_tokenizer()
    rows = tokenizer.get_vocab_size() + 6  # nomic pads its 30,522-token vocabulary to 30,528 rows
    config = {
        "architectures": ["NomicBertModel"], "model_type": "nomic_bert", "activation_function": "swiglu",
        "n_embd": WIDTH, "n_layer": LAYERS, "n_head": HEADS, "n_inner": FFN, "vocab_size": rows,
        "n_positions": 4 * POSITIONS, "max_trained_positions": POSITIONS, "type_vocab_size": 2,
        "rotary_emb_base": 1000, "rotary_emb_fraction": rotary_fraction, "rotary_emb_interleaved": False,
        "rotary_emb_scale_base": None, "rotary_scaling_factor": None, "qkv_proj_bias": False,
        "mlp_fc1_bias": False, "mlp_fc2_bias": False, "prenorm": False, "causal": False,
        "layer_norm_epsilon": 1e-12, "pad_vocab_size_multiple": 64,
    }
    return write_model(folder, config, nomic_shapes(rows), tokenizer, seed=1)


def make_e5(folder: Path) -> Path:
    """multilingual-e5-small in small: a BertModel with an XLM-R SentencePiece tokenizer."""
    tokenizer = unigram_tokenizer()
    rows = tokenizer.get_vocab_size() + 5  # e5's matrix has 250,037 rows for 250,002 tokens
    config = {
        "architectures": ["BertModel"], "model_type": "bert", "tokenizer_class": "XLMRobertaTokenizer",
        "hidden_size": WIDTH, "num_hidden_layers": LAYERS, "num_attention_heads": HEADS,
        "intermediate_size": FFN, "max_position_embeddings": POSITIONS, "type_vocab_size": 2,
        "vocab_size": rows, "hidden_act": "gelu", "layer_norm_eps": 1e-12, "pad_token_id": 0,
        "position_embedding_type": "absolute",
    }
    return write_model(folder, config, bert_shapes(rows, POSITIONS), tokenizer, seed=2)


def make_xlm_roberta(folder: Path) -> Path:
    tokenizer = unigram_tokenizer()
    rows = tokenizer.get_vocab_size()
    config = {
        "architectures": ["XLMRobertaModel"], "model_type": "xlm-roberta",
        "hidden_size": WIDTH, "num_hidden_layers": LAYERS, "num_attention_heads": HEADS,
        "intermediate_size": FFN, "max_position_embeddings": POSITIONS + 2, "type_vocab_size": 1,
        "vocab_size": rows, "hidden_act": "gelu", "layer_norm_eps": 1e-5, "pad_token_id": 1,
    }
    shapes = bert_shapes(rows, POSITIONS + 2, prefix="roberta.")
    shapes["roberta.embeddings.token_type_embeddings.weight"] = (1, WIDTH)
    return write_model(folder, config, shapes, tokenizer, seed=3)


def spec(name: str) -> ModelSpec:
    return ModelSpec(name=name, file=f"{name}.gguf", dimensions=WIDTH, pooling="mean",
                     max_tokens=POSITIONS)


def hf_tokenizer(folder: Path) -> Tokenizer:
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


def converted(folder: Path) -> Embedder:
    gguf_path = convert_to_gguf(folder, folder.parent / f"{folder.name}.gguf")
    return Embedder(gguf_path, spec(folder.name))


def cosines(embedder: Embedder, reference, tokenizer: Tokenizer, texts: list[str]) -> list[float]:
    vectors = embedder.embed_documents(texts)
    return [float(vector @ reference.embed(tokenizer.encode(text).ids))
            for vector, text in zip(vectors, texts)]


# -- Nomic BERT ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def nomic(tmp_path_factory):
    folder = make_nomic(tmp_path_factory.mktemp("nomic") / "tiny-nomic")
    return folder, converted(folder)


def test_nomic_bert_matches_numpy_reference(nomic):
    folder, embedder = nomic
    info = read_gguf(embedder.path)
    assert (info.architecture, info.dimensions, info.context_length, info.pooling) == (
        "nomic-bert", WIDTH, POSITIONS, "mean")
    tokenizer = hf_tokenizer(folder)
    texts = [text for text in ENGLISH if text]
    right = cosines(embedder, NumpyNomicBert(folder), tokenizer, texts)
    assert min(right) >= 0.999, right
    # the comparison is sharp enough to catch the classic mistakes on every text
    for wrong in (NumpyNomicBert(folder, swap_gate=True), NumpyNomicBert(folder, rope_base=10000.0)):
        assert min(cosines(embedder, wrong, tokenizer, texts)) < 0.99


def test_nomic_bert_tokenization_matches_wordpiece(nomic):
    folder, embedder = nomic
    tokenizer = hf_tokenizer(folder)
    for text in ENGLISH + ["  leading and trailing  ", "CamelCase snake_case kebab-case"]:
        assert embedder.tokenize(text) == tokenizer.encode(text).ids, text


def test_nomic_bert_with_partial_rotary(tmp_path):
    folder = make_nomic(tmp_path / "half-rotary", rotary_fraction=0.5)
    embedder = converted(folder)
    texts = ENGLISH[:3]
    assert min(cosines(embedder, NumpyNomicBert(folder), hf_tokenizer(folder), texts)) >= 0.999


# -- SentencePiece Unigram vocabularies -----------------------------------------------------------

@pytest.fixture(scope="module")
def e5(tmp_path_factory):
    folder = make_e5(tmp_path_factory.mktemp("e5") / "tiny-e5")
    return folder, converted(folder)


def test_bert_with_unigram_tokenizer_matches_numpy_reference(e5):
    folder, embedder = e5
    assert read_gguf(embedder.path).architecture == "bert"
    texts = [text for text in MULTILINGUAL if text]
    assert min(cosines(embedder, NumpyBert(folder), hf_tokenizer(folder), texts)) >= 0.999


def test_unigram_tokenization_matches_tokenizers(e5):
    folder, embedder = e5
    tokenizer = hf_tokenizer(folder)
    vocab = tokenizer.get_vocab()
    assert embedder.tokenize("") == [vocab["<s>"], vocab["</s>"]]
    assert vocab["<unk>"] in embedder.tokenize("🙂")
    for text in MULTILINGUAL:
        assert embedder.tokenize(text) == tokenizer.encode(text).ids, text


PRECOMPILED_ONLY = 1  # index past the Precompiled normalizer in unigram_tokenizer()'s sequence


def legacy_metaspace(data: dict) -> None:
    """Older tokenizer.json files: add_prefix_space instead of prepend_scheme."""
    data["pre_tokenizer"] = {"type": "Metaspace", "replacement": "\u2581", "add_prefix_space": True}


def newer_space_rules(data: dict) -> None:
    """Newer Hugging Face conversions: strip trailing space, runs of spaces become one '\u2581'."""
    data["normalizer"]["normalizers"][PRECOMPILED_ONLY:] = [
        {"type": "Strip", "strip_left": False, "strip_right": True},
        {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": "\u2581"},
    ]


def no_charsmap_and_mask_added_last(data: dict) -> None:
    """No Precompiled normalizer (nothing to pass on); <mask> only an added token past the pieces."""
    data["normalizer"] = {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "}
    assert data["model"]["vocab"].pop()[0] == "<mask>"


@pytest.mark.parametrize("dialect", [legacy_metaspace, newer_space_rules, no_charsmap_and_mask_added_last])
def test_unigram_tokenizer_json_dialects(tmp_path, dialect):
    folder = make_e5(tmp_path / "dialect")
    data = json.loads((folder / "tokenizer.json").read_text())
    dialect(data)
    (folder / "tokenizer.json").write_text(json.dumps(data))
    embedder = converted(folder)
    tokenizer = hf_tokenizer(folder)
    texts = MULTILINGUAL[:6] + ["tabs  and   spaces", "  leading"]
    if dialect is newer_space_rules:
        texts += MULTILINGUAL + ["trailing spaces  "]  # stripped here, as SentencePiece does
    for text in texts:
        assert embedder.tokenize(text) == tokenizer.encode(text).ids, text


def test_xlm_roberta_drops_the_padding_positions(tmp_path):
    folder = make_xlm_roberta(tmp_path / "tiny-xlmr")
    embedder = converted(folder)
    assert read_gguf(embedder.path).context_length == POSITIONS  # 130 positions, 2 never used
    texts = [text for text in MULTILINGUAL if text][:6]
    reference = NumpyBert(folder)
    assert min(cosines(embedder, reference, hf_tokenizer(folder), texts)) >= 0.999
    reference.first_position = 0  # positions from 0, as BERT numbers them: visibly wrong here
    assert min(cosines(embedder, reference, hf_tokenizer(folder), texts)) < 0.99


# -- refusals -----------------------------------------------------------------------------------

def test_unsupported_architecture_is_refused_by_name(tmp_path):
    folder = make_e5(tmp_path / "gpt2")
    config = json.loads((folder / "config.json").read_text())
    config["architectures"] = ["GPT2Model"]
    (folder / "config.json").write_text(json.dumps(config))
    listed = "'GPT2Model' is not supported.*BertModel.*XLMRobertaModel.*NomicBertModel"
    with pytest.raises(ModelError, match=listed):
        convert_to_gguf(folder, tmp_path / "out.gguf")
    assert not (tmp_path / "out.gguf").exists()


@pytest.mark.parametrize("change, message", [
    ({"rotary_emb_interleaved": True}, "rotary_emb_interleaved"),
    ({"mlp_fc1_bias": True}, "mlp_fc1_bias"),
    ({"activation_function": "gelu"}, "activation 'gelu'"),
    ({"moe_every_n_layers": 2}, "mixture-of-experts"),
    ({"rotary_scaling_factor": 2.0}, "rotary_scaling_factor"),
])
def test_nomic_variants_llama_cpp_would_misrun_are_refused(tmp_path, nomic, change, message):
    folder = tmp_path / "variant"
    shutil.copytree(nomic[0], folder)
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, **change}))
    with pytest.raises(ModelError, match=message):
        convert_to_gguf(folder, tmp_path / "out.gguf")


def test_unigram_normalizer_llama_cpp_cannot_apply_is_refused(tmp_path, e5):
    folder = tmp_path / "lowercase"
    shutil.copytree(e5[0], folder)
    data = json.loads((folder / "tokenizer.json").read_text())
    data["normalizer"]["normalizers"].append({"type": "Lowercase"})
    (folder / "tokenizer.json").write_text(json.dumps(data))
    with pytest.raises(ModelError, match="normalizer 'Lowercase'"):
        convert_to_gguf(folder, tmp_path / "out.gguf")


def test_bpe_tokenizer_is_refused(tmp_path, e5):
    folder = tmp_path / "bpe"
    shutil.copytree(e5[0], folder)
    bpe = {"model": {"type": "BPE", "vocab": {}, "merges": []}}
    (folder / "tokenizer.json").write_text(json.dumps(bpe))
    with pytest.raises(ModelError, match="tokenizer 'BPE' is not supported"):
        convert_to_gguf(folder, tmp_path / "out.gguf")
