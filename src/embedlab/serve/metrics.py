"""Prometheus metrics (prometheus-client), one registry per app so several apps can live in one process."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
SIZE_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "embedlab_requests", "HTTP requests by route, method and status", ["route", "method", "status"], registry=r
        )
        self.latency = Histogram(
            "embedlab_request_seconds", "HTTP request latency", ["route"], buckets=LATENCY_BUCKETS, registry=r
        )
        self.batch_items = Histogram(
            "embedlab_batch_items",
            "texts per model batch (after coalescing)",
            ["model"],
            buckets=SIZE_BUCKETS,
            registry=r,
        )
        self.batch_requests = Histogram(
            "embedlab_batch_requests",
            "requests coalesced into one model batch",
            ["model"],
            buckets=SIZE_BUCKETS,
            registry=r,
        )
        self.encode_seconds = Histogram(
            "embedlab_encode_seconds", "time of one model batch", ["model"], buckets=LATENCY_BUCKETS, registry=r
        )
        self.items = Counter("embedlab_items", "texts embedded", ["model"], registry=r)
        self.tokens = Counter("embedlab_tokens", "tokens embedded (the model's tokenizer)", ["model"], registry=r)
        self.long_texts = Counter(
            "embedlab_long_texts", "texts over the model's token limit, by policy", ["model", "policy"], registry=r
        )
        self.queue_depth = Gauge("embedlab_queue_depth", "texts waiting for a model batch", ["model"], registry=r)
        self.rejected = Counter("embedlab_rejected", "requests refused with 429 (queue full)", ["model"], registry=r)
        self.loaded = Gauge("embedlab_models_loaded", "models held in memory", registry=r)

    def render(self) -> bytes:
        return generate_latest(self.registry)


__all__ = ["Metrics"]
