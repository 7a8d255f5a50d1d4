"""Prometheus metrics of one server (its own registry, so several apps can share a process)."""

from __future__ import annotations

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST

disable_created_metrics()  # the *_created series only double the scrape size

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
                    30.0, 60.0, 120.0)
_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)


class ServeMetrics:
    """Requests and outcomes by status, latency histograms, queue depth and batch sizes."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter("rewardlab_requests", "HTTP requests by endpoint and code",
                                ["endpoint", "code"], registry=r)
        self.latency = Histogram("rewardlab_request_seconds", "Request latency by endpoint",
                                 ["endpoint"], buckets=_LATENCY_BUCKETS, registry=r)
        self.in_flight = Gauge("rewardlab_requests_in_flight", "Requests being handled",
                               registry=r)
        self.outcomes = Counter("rewardlab_outcomes", "Outcomes by reward and status",
                                ["reward", "status"], registry=r)
        self.queue_depth = Gauge("rewardlab_queue_depth",
                                 "Samples accepted and not finished, by reward", ["reward"],
                                 registry=r)
        self.batch_size = Histogram("rewardlab_batch_size", "Samples per reward call",
                                    ["reward"], buckets=_BATCH_BUCKETS, registry=r)
        self.batch_seconds = Histogram("rewardlab_batch_seconds", "Time of one reward call",
                                       ["reward"], buckets=_LATENCY_BUCKETS, registry=r)
        self.rejected = Counter("rewardlab_rejected", "Requests refused (429) by reward",
                                ["reward"], registry=r)

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)
