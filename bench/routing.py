"""Measurement 7: the router's cost: start-up (loading the models, embedding the routing file) and per first message.

Messages are our own development cases (tests/routing/dev_cases_*.csv: English
and nine other languages), routed one at a time as the relay does. The router
needs no database, so it is measured once, on the first backend of the run.
"""

from __future__ import annotations

import csv
import time
from pathlib import Path

from bench.common import Options, Row, routing_config, spread
from config.routing_file import RoutingConfig
from routing.encoder import load_encoder, load_word_encoder
from routing.language import LanguageIdentifier
from routing.router import Router

NAME = "7 routing"
DEV_CASES = sorted((Path(__file__).resolve().parent.parent / "tests" / "routing").glob("dev_cases_*.csv"))


def messages() -> list[str]:
    """The development cases' texts, every language mixed in file order."""
    texts: list[str] = []
    for path in DEV_CASES:
        with path.open(encoding="utf-8", newline="") as file:
            texts.extend(row["text"] for row in csv.DictReader(file))
    return texts


def startup(config: RoutingConfig) -> tuple[Router, dict[str, float]]:
    """Build the router as the app does, timing each step in milliseconds."""
    began = time.perf_counter()
    encoder = load_encoder()
    loaded = time.perf_counter()
    word_encoder = load_word_encoder(config.office_language)
    words_loaded = time.perf_counter()
    identifier = LanguageIdentifier(config.languages)
    identified = time.perf_counter()
    router = Router(config, encoder=encoder, word_encoder=word_encoder, identifier=identifier)
    embedded = time.perf_counter()
    return router, {
        "encoder_load_ms": (loaded - began) * 1000,
        "word_vectors_load_ms": (words_loaded - loaded) * 1000,
        "identifier_load_ms": (identified - words_loaded) * 1000,
        "embed_routing_file_ms": (embedded - identified) * 1000,
    }


async def measure(backend: str, options: Options) -> list[Row]:
    """Time start-up once, then every message routed alone (after a warm-up pass)."""
    if backend != options.backends[0]:
        return []
    config = routing_config()
    router, figures = startup(config)
    texts = messages()
    for text in texts[:20]:
        router.route(text)
    passes = 1 if options.quick else 5
    timings: list[float] = []
    for _ in range(passes):
        for text in texts:
            began = time.perf_counter()
            router.route(text)
            timings.append((time.perf_counter() - began) * 1000)
    latency = spread(timings)
    texts_embedded = sum(
        1 + len(dept.names) + len(dept.keywords) + bool(dept.keywords) + len(dept.examples)
        for dept in config.departments
    )
    seconds = sum(figures.values()) / 1000
    result = (
        f"p50 {latency['p50_ms']:.1f} / p99 {latency['p99_ms']:.1f} / mean {latency['mean_ms']:.1f} ms per first "
        f"message; start-up {seconds:.1f} s"
    )
    notes = (
        f"{len(timings)} messages ({len(texts)} dev cases, en + 9 languages); start-up = encoder "
        f"{figures['encoder_load_ms']:.0f} ms + word vectors {figures['word_vectors_load_ms']:.0f} ms "
        f"+ language model {figures['identifier_load_ms']:.0f} ms + embedding "
        f"{texts_embedded} routing-file texts {figures['embed_routing_file_ms']:.0f} ms"
    )
    return [Row(NAME, "any", result, {**latency, **figures}, "5 ms p99 aim", latency["p99_ms"] / 5, notes)]
