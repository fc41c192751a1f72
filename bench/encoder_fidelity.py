"""How faithful the packaged int8 encoder is: its tokenizer and its vectors against references.

`compare_tokenizer` counts texts on which Bling Fire's token ids differ from the `tokenizers`
library with the model's tokenizer.json; `compare_fp32` compares the int8 ONNX vectors with an
fp32 numpy forward pass of the original weights (`bert_fp32`). Both are `bench/embedders.py`
options (`--compare-tokenizer`, `--fp32-reference`).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import numpy.typing as npt

from bench.dense_retrieval import Vectors, load_corpus
from bench.eval_corpus import REUTERS
from bench.eval_questions import QUESTIONS, load_questions
from index.sources.ingest import read_sources
from index.text.sentences import split_sentences


def compare_tokenizer(tokenizer_json: Path) -> int:
    """Count texts on which Bling Fire's ids differ from `tokenizers` with the model's JSON."""
    from tokenizers import Tokenizer

    from index.semantic.embedding import SentenceEncoder

    encoder = SentenceEncoder.open(threads=1)
    reference = Tokenizer.from_file(str(tokenizer_json))
    reference.no_padding()
    reference.enable_truncation(max_length=256)
    corpus = load_corpus()
    texts = corpus.texts("plain") + corpus.texts("titled")
    texts += [q.question for q in load_questions(QUESTIONS)]
    if REUTERS.exists():
        reuters = read_sources([REUTERS], max_bytes=100_000_000).articles[:6000]
        texts += [s for a in reuters for s in split_sentences(a.text)]
    expected = [e.ids for e in reference.encode_batch(texts)]
    differ = [
        t for t, ids in zip(texts, expected, strict=True) if encoder.token_ids(t).tolist() != ids
    ]
    print(f"Bling Fire differs from tokenizers on {len(differ)} of {len(texts):,} texts")
    for text in differ[:10]:
        print(f"  {text[:100]!r}")
    return 0


def read_safetensors(path: Path) -> dict[str, Vectors]:
    """Read float32 tensors from a .safetensors file (8-byte header size, JSON header, data)."""
    blob = path.read_bytes()
    size = int.from_bytes(blob[:8], "little")
    header = json.loads(blob[8 : 8 + size])
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__" or info["dtype"] != "F32":
            continue
        start, end = info["data_offsets"]
        data = np.frombuffer(blob, np.float32, (end - start) // 4, 8 + size + start)
        tensors[name.removeprefix("bert.")] = data.reshape(info["shape"])
    return tensors


def erf(x: Vectors) -> Vectors:
    """Abramowitz and Stegun 7.1.26 (error below 1.5e-7): numpy has no erf."""
    t = 1.0 / (1.0 + 0.3275911 * np.abs(x))
    poly = t * (
        0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))
    )
    return np.sign(x) * (1.0 - poly * np.exp(-x * x))


def bert_fp32(
    w: dict[str, Vectors], ids: npt.NDArray[np.int64], layers: int = 6, heads: int = 12
) -> Vectors:
    """BERT's forward pass for one unpadded sequence, mean-pooled and normalized."""

    def norm(x: Vectors, name: str) -> Vectors:
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        return (x - mean) / np.sqrt(var + 1e-12) * w[f"{name}.weight"] + w[f"{name}.bias"]

    def dense(x: Vectors, name: str) -> Vectors:
        return x @ w[f"{name}.weight"].T + w[f"{name}.bias"]

    e = "embeddings"
    x = w[f"{e}.word_embeddings.weight"][ids] + w[f"{e}.position_embeddings.weight"][: len(ids)]
    x = norm(x + w[f"{e}.token_type_embeddings.weight"][0], f"{e}.LayerNorm")
    for i in range(layers):
        a = f"encoder.layer.{i}"
        q, k, v = (
            dense(x, f"{a}.attention.self.{n}").reshape(len(ids), heads, -1).transpose(1, 0, 2)
            for n in ("query", "key", "value")
        )
        scores = q @ k.transpose(0, 2, 1) / np.sqrt(q.shape[-1])
        weights = np.exp(scores - scores.max(-1, keepdims=True))
        weights /= weights.sum(-1, keepdims=True)
        context = (weights @ v).transpose(1, 0, 2).reshape(len(ids), -1)
        x = norm(
            x + dense(context, f"{a}.attention.output.dense"), f"{a}.attention.output.LayerNorm"
        )
        h = dense(x, f"{a}.intermediate.dense")
        h = 0.5 * h * (1.0 + erf(h / np.sqrt(2.0)))
        x = norm(x + dense(h, f"{a}.output.dense"), f"{a}.output.LayerNorm")
    pooled = x.mean(0)
    return (pooled / np.linalg.norm(pooled)).astype(np.float32)


def compare_fp32(model_dir: Path, n: int = 300) -> int:
    """Cosine between the int8 ONNX vectors and an fp32 numpy forward pass of the original."""
    from index.semantic.embedding import SentenceEncoder

    encoder = SentenceEncoder.open(threads=1)
    weights = read_safetensors(model_dir / "model.safetensors")
    corpus = load_corpus()
    step = max(1, len(corpus.sentences) // n)
    texts = corpus.sentences[::step][:n] + [q.question for q in load_questions(QUESTIONS)]
    quantized = encoder.encode(texts)
    exact = np.stack([bert_fp32(weights, encoder.token_ids(t)) for t in texts])
    cosines = (quantized * exact).sum(axis=1)
    print(
        f"int8 ONNX vs fp32 on {len(texts)} texts: cosine min {cosines.min():.4f}, "
        f"p1 {np.percentile(cosines, 1):.4f}, median {np.median(cosines):.4f}"
    )
    return 0
