"""Tokenizer vocabularies for the converter: WordPiece (BERT) and SentencePiece Unigram (XLM-R).

WordPiece comes from `vocab.txt` or a WordPiece `tokenizer.json` and becomes llama.cpp's "bert"
tokenizer. A Unigram `tokenizer.json` (multilingual-e5, XLM-RoBERTa) becomes llama.cpp's "t5"
(UGM) tokenizer: pieces with their scores and types, the SentencePiece character map that
normalizes text, whitespace handling, and the <s>/</s> the post-processor adds. Only the parts of
a tokenizer.json that llama.cpp can reproduce are accepted; anything else is refused by name.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path

import gguf

from kenning.errors import ModelError

SPECIAL_TOKENS = frozenset({"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"})
SPACE = "\u2581"  # SentencePiece's visible space
UNUSED_SCORE = -10000.0  # padding rows: never chosen over a real piece or the unknown token


@dataclass(frozen=True)
class WordPieceVocab:
    tokens: list[str]


@dataclass(frozen=True)
class UnigramVocab:
    tokens: list[str]
    scores: list[float]
    types: list[int]
    unk_id: int
    bos_id: int | None  # added in front of every text, if set
    eos_id: int | None  # added at the end of every text, if set
    add_space_prefix: bool
    remove_extra_whitespaces: bool
    charsmap: bytes
    special: dict[str, int]  # pad/mask ids where the tokenizer has them


Vocab = WordPieceVocab | UnigramVocab


def read_vocab(folder: Path) -> Vocab:
    tokenizer_json = folder / "tokenizer.json"
    data = None
    if tokenizer_json.is_file():
        try:
            data = json.loads(tokenizer_json.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ModelError(f"{tokenizer_json}: unreadable tokenizer ({exc})") from exc
        kind = (data.get("model") or {}).get("type")
        if kind == "Unigram":
            return _unigram(tokenizer_json, data)
        if kind != "WordPiece":
            raise ModelError(
                f"{tokenizer_json}: tokenizer {kind!r} is not supported (Kenning converts "
                "WordPiece and SentencePiece Unigram tokenizers)"
            )
    vocab_txt = folder / "vocab.txt"
    if vocab_txt.is_file():
        return WordPieceVocab(vocab_txt.read_text(encoding="utf-8").splitlines())
    if data is not None:
        by_id = sorted(data["model"]["vocab"].items(), key=lambda item: item[1])
        return WordPieceVocab([token for token, _ in by_id])
    if any(folder.glob("*.model")):
        raise ModelError(f"{folder}: a SentencePiece model needs its tokenizer.json beside it")
    raise ModelError(f"{folder}: no vocab.txt or tokenizer.json")


# -- SentencePiece Unigram ----------------------------------------------------------------------

def _unigram(path: Path, data: dict) -> UnigramVocab:
    model = data["model"]
    if model.get("byte_fallback"):
        raise ModelError(f"{path}: Unigram byte fallback is not supported")
    pieces = model.get("vocab") or []
    tokens = [piece for piece, _ in pieces]
    scores = [float(score) for _, score in pieces]
    types = [gguf.TokenType.NORMAL] * len(tokens)
    unk_id = model.get("unk_id")
    if not isinstance(unk_id, int) or not 0 <= unk_id < len(tokens):
        raise ModelError(f"{path}: the Unigram model has no unknown token")
    for added in data.get("added_tokens") or []:
        token_id, content = added["id"], added["content"]
        while len(tokens) < token_id:  # added tokens may lie past the model's pieces
            tokens.append(f"[PAD{len(tokens)}]")
            scores.append(UNUSED_SCORE)
            types.append(gguf.TokenType.UNUSED)
        if len(tokens) == token_id:
            tokens.append(content)
            scores.append(0.0)
            types.append(gguf.TokenType.NORMAL)
        if tokens[token_id] != content:
            raise ModelError(f"{path}: added token {content!r} clashes with piece {tokens[token_id]!r}")
        types[token_id] = gguf.TokenType.CONTROL if added.get("special") else gguf.TokenType.USER_DEFINED
    types[unk_id] = gguf.TokenType.UNKNOWN
    bos_id, eos_id = _template_ends(path, data.get("post_processor"))
    by_name = {token: i for i, token in enumerate(tokens)}
    return UnigramVocab(
        tokens=tokens,
        scores=scores,
        types=[int(t) for t in types],
        unk_id=unk_id,
        bos_id=bos_id,
        eos_id=eos_id,
        add_space_prefix=_metaspace_prefix(path, data.get("pre_tokenizer")),
        remove_extra_whitespaces=_merges_spaces(path, data.get("normalizer")),
        charsmap=_charsmap(data.get("normalizer")),
        special={name: by_name[token] for name, token in (("pad", "<pad>"), ("mask", "<mask>"))
                 if token in by_name},
    )


def _parts(component: dict | None, key: str) -> list[dict]:
    """A component, or the members of a Sequence of them, flattened."""
    if not component:
        return []
    if component.get("type") == "Sequence":
        return [part for member in component.get(key) or [] for part in _parts(member, key)]
    return [component]


def _charsmap(normalizer: dict | None) -> bytes:
    for part in _parts(normalizer, "normalizers"):
        if part["type"] == "Precompiled" and part.get("precompiled_charsmap"):
            return base64.b64decode(part["precompiled_charsmap"])
    return b""


def _merges_spaces(path: Path, normalizer: dict | None) -> bool:
    """SentencePiece's remove_extra_whitespaces, as Hugging Face writes it: runs of spaces are
    replaced by one (and trailing space stripped). Other normalizers llama.cpp cannot apply."""
    merges = False
    for part in _parts(normalizer, "normalizers"):
        kind = part["type"]
        if kind == "Replace" and (part.get("pattern") or {}).get("Regex") == " {2,}":
            merges = True
        elif kind not in ("Strip", "Precompiled"):
            raise ModelError(f"{path}: normalizer {kind!r} is not supported for Unigram tokenizers")
    return merges


def _metaspace_prefix(path: Path, pre_tokenizer: dict | None) -> bool:
    for part in _parts(pre_tokenizer, "pretokenizers"):
        if part["type"] == "WhitespaceSplit":
            continue
        if part["type"] != "Metaspace" or part.get("replacement", SPACE) != SPACE:
            break
        if "prepend_scheme" in part:
            return part["prepend_scheme"] != "never"
        return bool(part.get("add_prefix_space", True))
    raise ModelError(f"{path}: a Unigram tokenizer needs a Metaspace ('\u2581') pre-tokenizer")


def _template_ends(path: Path, processor: dict | None) -> tuple[int | None, int | None]:
    """The ids the post-processor puts before and after a single text."""
    for part in _parts(processor, "processors"):
        if part["type"] in ("RobertaProcessing", "BertProcessing"):
            return part["cls"][1], part["sep"][1]
        if part["type"] == "TemplateProcessing":
            items = part["single"]
            ids = {name: token["ids"] for name, token in part["special_tokens"].items()}
            at = [i for i, item in enumerate(items) if "Sequence" in item]
            ends = [items[: at[0]], items[at[0] + 1 :]] if len(at) == 1 else []
            if not ends or any(len(end) > 1 for end in ends):
                raise ModelError(f"{path}: post-processor template {items} is not supported")
            bos, eos = (ids[end[0]["SpecialToken"]["id"]] if end else [None] for end in ends)
            if len(bos) != 1 or len(eos) != 1:
                raise ModelError(f"{path}: post-processor template {items} is not supported")
            return bos[0], eos[0]
        if part["type"] != "ByteLevel":
            raise ModelError(f"{path}: post-processor {part['type']!r} is not supported")
    return None, None


# -- writing ------------------------------------------------------------------------------------

def _padded(tokens: list[str], rows: int, where: str) -> list[str]:
    if len(tokens) > rows:
        raise ModelError(f"{where}: vocabulary has {len(tokens)} tokens, the model embeds {rows}")
    return tokens + [f"[PAD{i}]" for i in range(len(tokens), rows)]


def _check_unique(tokens: list[str], where: str) -> None:
    seen: set[str] = set()
    for token in tokens:  # llama.cpp aborts on a duplicate
        if token in seen:
            raise ModelError(f"{where}: token {token!r} appears twice in the vocabulary")
        seen.add(token)


def add_vocab(writer: gguf.GGUFWriter, vocab: Vocab, rows: int, token_types: int, where: str) -> None:
    """Write the tokenizer for a token-embedding matrix of `rows` rows (vocabularies are padded
    to it: checkpoints often round the matrix up, e.g. nomic-embed's 30,528 rows for 30,522)."""
    writer.add_token_type_count(token_types)
    if isinstance(vocab, UnigramVocab):
        _add_unigram(writer, vocab, rows, where)
    else:
        _add_wordpiece(writer, vocab, rows, where)


def _add_wordpiece(writer: gguf.GGUFWriter, vocab: WordPieceVocab, rows: int, where: str) -> None:
    real = len(vocab.tokens)
    tokens = _padded(vocab.tokens, rows, where)
    index = {token: i for i, token in enumerate(vocab.tokens)}

    def special(token: str) -> int:
        if token not in index:
            raise ModelError(f"{where}: vocabulary lacks the special token {token}")
        return index[token]

    def kind(i: int, token: str) -> int:
        if i >= real:
            return gguf.TokenType.UNUSED
        return gguf.TokenType.CONTROL if token in SPECIAL_TOKENS else gguf.TokenType.NORMAL

    names = [t if i >= real else _phantom_space(t) for i, t in enumerate(tokens)]
    _check_unique(names, where)
    writer.add_tokenizer_model("bert")
    writer.add_tokenizer_pre("default")
    writer.add_token_list(names)
    writer.add_token_types([kind(i, t) for i, t in enumerate(tokens)])
    writer.add_bos_token_id(special("[CLS]"))
    writer.add_uint32("tokenizer.ggml.cls_token_id", special("[CLS]"))
    writer.add_sep_token_id(special("[SEP]"))
    writer.add_unk_token_id(special("[UNK]"))
    writer.add_pad_token_id(special("[PAD]"))
    writer.add_mask_token_id(special("[MASK]"))


def _phantom_space(token: str) -> str:
    """llama.cpp's WordPiece marks word starts with U+2581 instead of marking continuations."""
    if token in SPECIAL_TOKENS:
        return token
    if token.startswith("##"):
        return token[2:]
    return SPACE + token


def _add_unigram(writer: gguf.GGUFWriter, vocab: UnigramVocab, rows: int, where: str) -> None:
    extra = rows - len(vocab.tokens)
    tokens = _padded(vocab.tokens, rows, where)
    _check_unique(tokens, where)
    writer.add_tokenizer_model("t5")
    writer.add_tokenizer_pre("default")
    writer.add_token_list(tokens)
    writer.add_token_scores(vocab.scores + [UNUSED_SCORE] * extra)
    writer.add_token_types(vocab.types + [int(gguf.TokenType.UNUSED)] * extra)
    writer.add_add_space_prefix(vocab.add_space_prefix)
    writer.add_remove_extra_whitespaces(vocab.remove_extra_whitespaces)
    if vocab.charsmap:
        writer.add_precompiled_charsmap(vocab.charsmap)
    writer.add_unk_token_id(vocab.unk_id)
    writer.add_add_bos_token(vocab.bos_id is not None)
    writer.add_add_eos_token(vocab.eos_id is not None)
    if vocab.bos_id is not None:
        writer.add_bos_token_id(vocab.bos_id)
        writer.add_uint32("tokenizer.ggml.cls_token_id", vocab.bos_id)
    if vocab.eos_id is not None:
        writer.add_eos_token_id(vocab.eos_id)
        writer.add_sep_token_id(vocab.eos_id)
    if "pad" in vocab.special:
        writer.add_pad_token_id(vocab.special["pad"])
    if "mask" in vocab.special:
        writer.add_mask_token_id(vocab.special["mask"])
