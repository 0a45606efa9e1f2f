"""The models Kenning knows how to use well: how each is prompted, pooled and sized."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


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
    languages: str = "English"
    description: str = ""
    embedded: bool = False  # built offline from a Python package: needs no download
    extra: dict = field(default_factory=dict, compare=False)

    def to_json(self) -> dict:
        data = asdict(self)
        data["matryoshka_dimensions"] = list(self.matryoshka_dimensions)
        return data

    @classmethod
    def from_json(cls, data: dict) -> "ModelSpec":
        data = dict(data)
        data["matryoshka_dimensions"] = tuple(data.get("matryoshka_dimensions") or ())
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
            description="Long-context English retrieval model",
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
            description="Multilingual retrieval model",
        ),
    )
}
