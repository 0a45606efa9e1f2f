"""The models Kenning knows how to use well: how each is prompted, pooled and sized."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Download:
    """Where a catalogue model comes from, pinned: a file that does not hash to its sha256 is
    never used. Either one GGUF file (`url`, `sha256`), or a Hugging Face folder (`url` its base
    at a fixed revision, `files` its (name, sha256, bytes)) that Kenning converts itself. Either
    way Kenning quantizes the result to `quantize` after checking it."""

    url: str  # on the Hugging Face Hub, at a fixed revision
    sha256: str  # of the GGUF file; "" for a folder
    size: int  # bytes to download, all files together
    quantize: str = "q8_0"
    source: str = ""  # where the pin was taken from
    files: tuple[tuple[str, str, int], ...] = ()

    @property
    def host(self) -> str:
        return self.url.split("/")[2]


@dataclass(frozen=True)
class ModelSpec:
    name: str
    file: str
    dimensions: int
    pooling: str  # "mean", "cls" or "last"
    max_tokens: int
    query_prefix: str = ""
    document_prefix: str = ""
    normalize: bool = True
    matryoshka_dimensions: tuple[int, ...] = ()
    matryoshka_layer_norm: bool = False  # layer-norm the full vector before cutting it (nomic)
    languages: str = "English"
    description: str = ""
    quality: str = ""  # published retrieval scores, with their source
    embedded: bool = False  # built offline from a Python package: needs no download
    download: Download | None = None
    extra: dict = field(default_factory=dict, compare=False)

    def to_json(self) -> dict:
        data = asdict(self)
        data["matryoshka_dimensions"] = list(self.matryoshka_dimensions)
        return data

    @classmethod
    def from_json(cls, data: dict) -> ModelSpec:
        data = dict(data)
        data["matryoshka_dimensions"] = tuple(data.get("matryoshka_dimensions") or ())
        if data.get("download"):
            source = dict(data["download"])
            source["files"] = tuple(tuple(entry) for entry in source.get("files") or ())
            data["download"] = Download(**source)
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in data.items() if k in known})


DEFAULT_MODEL = "all-minilm-l6-v2"

CATALOGUE: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            name=DEFAULT_MODEL,
            file="all-MiniLM-L6-v2.Q8_0.gguf",
            dimensions=384,
            pooling="mean",
            max_tokens=256,  # sentence-transformers' max_seq_length for this model
            description="Small, fast English model; the embedded default",
            quality="MTEB average 56.26, retrieval 41.95 (MTEB leaderboard)",
            embedded=True,
        ),
        ModelSpec(
            name="bge-small-en-v1.5",
            file="bge-small-en-v1.5.Q8_0.gguf",
            dimensions=384,
            pooling="cls",
            max_tokens=512,
            query_prefix="Represent this sentence for searching relevant passages: ",
            description="Stronger English retrieval model, same size as the default",
            quality="MTEB average 62.17, retrieval 51.68 (BAAI's model card)",
            download=Download(
                url="https://huggingface.co/CompendiumLabs/bge-small-en-v1.5-gguf/resolve/"
                "d32f8c040ea3b516330eeb75b72bcc2d3a780ab7/bge-small-en-v1.5-f16.gguf",
                sha256="f0b2fef971e8366438bfd2d9aefea1b0115919389448806d290237f638bae999",
                size=67_308_128,
                source="the same F16 file is pinned by several public projects, one of them "
                "also from ggml-org/models (bert-bge-small); not re-hashed here (no Hub access)",
            ),
        ),
        ModelSpec(
            name="nomic-embed-text-v1.5",
            file="nomic-embed-text-v1.5.Q8_0.gguf",
            dimensions=768,
            pooling="mean",
            max_tokens=2048,
            query_prefix="search_query: ",
            document_prefix="search_document: ",
            matryoshka_dimensions=(768, 512, 256, 128, 64),
            matryoshka_layer_norm=True,
            description="Long-context English retrieval model; can store smaller vectors",
            quality="MTEB average 62.28 at 768 dimensions, 61.04 at 256, 56.10 at 64 (Nomic's model card)",
            download=Download(
                url="https://huggingface.co/nomic-ai/nomic-embed-text-v1.5-GGUF/resolve/"
                "18d1044f4866e224159fce8c6fc5c4f3920176e7/nomic-embed-text-v1.5.f16.gguf",
                sha256="f7af6f66802f4df86eda10fe9bbcfc75c39562bed48ef6ace719a251cf1c2fdb",
                size=274_290_560,
                source="nomic-ai's own GGUF; the pin agrees across several public projects; "
                "not re-hashed here (no Hub access)",
            ),
        ),
        ModelSpec(
            name="multilingual-e5-small",
            file="multilingual-e5-small.Q8_0.gguf",
            dimensions=384,
            pooling="mean",
            max_tokens=512,
            query_prefix="query: ",
            document_prefix="passage: ",
            languages="about 100 languages",
            description="Multilingual retrieval model, converted here from its Hugging Face folder "
            "(published GGUFs of it are unreliable)",
            quality="see the model card's Mr. TyDi / MIRACL tables (intfloat)",
            download=Download(
                url="https://huggingface.co/intfloat/multilingual-e5-small/resolve/"
                "614241f622f53c4eeff9890bdc4f31cfecc418b3",
                sha256="",
                size=655 + 17_082_730 + 470_641_600,
                files=(
                    ("config.json", "69137736cab8b8903a07fe8afaafdda25aac55415a12a55d1bffa9f581abf959", 655),
                    ("tokenizer.json", "0b44a9d7b51c3c62626640cda0e2c2f70fdacdc25bbbd68038369d14ebdf4c39", 17_082_730),
                    ("model.safetensors", "1a55775f53449dac10a2bcbc312469fac40b96d53198c407081a831f81c98477",
                     470_641_600),
                ),
                source="intfloat's files at a fixed revision; the pins agree across several public "
                "projects; not re-hashed here (no Hub access)",
            ),
        ),
    )
}
