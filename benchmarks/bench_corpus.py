"""Corpus speed: synthesis with augmentation, a 10,000-clip build, and a cached rebuild.

Targets (issue "Foundation"): >= 500x real time on 2 cores; 10,000 one-second clips
generated and cached in <= 60 s; the second build served from cache in <= 5 s.
"""

from __future__ import annotations

import os
import tempfile
import time

from course_utils.data import COMMANDS, DIGITS, CorpusConfig, build_corpus


def _timed(function):
    start = time.perf_counter()
    result = function()
    return result, time.perf_counter() - start


def run() -> list[dict]:
    cores = os.cpu_count()
    # 25 words x (300 + 50 + 50) clips = 10,000 one-second clips, default augmentation.
    config = CorpusConfig(words=DIGITS + COMMANDS[:15], clips_per_word=(300, 50, 50), seed=7)
    with tempfile.TemporaryDirectory() as cache:
        corpus, build_s = _timed(lambda: build_corpus(config, cache_dir=cache, progress=False))
        _, cached_s = _timed(lambda: build_corpus(config, cache_dir=cache, progress=False))
        cache_mb = corpus.path.stat().st_size / 2**20
    clips = sum(len(split) for split in corpus.splits.values())
    audio_s = sum(split.seconds for split in corpus.splits.values())
    speed = audio_s / build_s
    sentences = CorpusConfig(task="sentences", utterances=(600, 100, 100), seed=7)
    corpus_s, sentences_s = _timed(lambda: build_corpus(sentences, use_cache=False, progress=False))
    sentences_speed = sum(s.seconds for s in corpus_s.splits.values()) / sentences_s
    return [
        {"benchmark": "corpus", "measure": f"words: {clips} one-second clips generated and cached",
         "value": round(build_s, 1), "unit": "s", "target": "<= 60 s", "met": build_s <= 60},
        {"benchmark": "corpus", "measure": f"words: synthesis + augmentation speed ({cores} cores)",
         "value": round(speed), "unit": "x real time", "target": ">= 500x", "met": speed >= 500},
        {"benchmark": "corpus", "measure": f"sentences: synthesis + augmentation ({cores} cores)",
         "value": round(sentences_speed), "unit": "x real time", "target": ">= 500x",
         "met": sentences_speed >= 500},
        {"benchmark": "corpus", "measure": "words: second build, from cache",
         "value": round(cached_s, 2), "unit": "s", "target": "<= 5 s", "met": cached_s <= 5},
        {"benchmark": "corpus", "measure": "words: cache file size",
         "value": round(cache_mb), "unit": "MiB", "target": "", "met": None},
    ]  # fmt: skip
