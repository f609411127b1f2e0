"""``/metrics`` in the Prometheus text format (prometheus-client), one registry per app.

Counted on the way: decisions by action and outcome (once per batch: a batch of one
action is counted from its answer text, without a look at each answer), requests and
their latency per route, SCIM requests by method and status. Read at scrape time: per
tenant, the epoch in force and its age, the tenant version and the one this process has
loaded, a running application's progress, the audit chain's length.

Under ``serve --workers N`` the counters and histograms are prometheus-client's
multiprocess mode: each worker writes its own into files of :data:`MULTIPROC` (a
directory ``serve`` makes and removes), and a scrape, whichever worker answers it, adds
up every worker's (:class:`MultiProcessCollector`). The per-tenant gauges are read from
the store when scraped (the same from any worker) but ``infobarrier_loaded_version``,
which is the answering worker's (``worker`` label: its process id).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from infobarrier.core.contract import Action
from infobarrier.service.operations import TenantOperations

# ``*_created`` series (a timestamp per label set) double the output and help nobody here.
disable_created_metrics()  # type: ignore[no-untyped-call]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

#: Latency buckets (seconds): decisions answer in well under a millisecond, batches and
#: applies in up to seconds.
BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

_KNOWN = frozenset(a.value for a in Action)

#: The environment variable of prometheus-client's multiprocess mode: read when
#: prometheus-client is imported, so it must be set before a worker process starts.
MULTIPROC = "PROMETHEUS_MULTIPROC_DIR"


@contextmanager
def multiprocess_dir() -> Iterator[str]:
    """Set :data:`MULTIPROC` for the worker processes started inside (inherited through
    the environment): a new temporary directory, removed on the way out, or the one the
    environment already names (the operator's, left as it is)."""
    given = os.environ.get(MULTIPROC)
    if given:
        yield given
        return
    directory = tempfile.mkdtemp(prefix="infobarrier-metrics-")
    os.environ[MULTIPROC] = directory
    try:
        yield directory
    finally:
        os.environ.pop(MULTIPROC, None)
        shutil.rmtree(directory, ignore_errors=True)


def action_label(text: str) -> str:
    """An action's label: its name, or ``invalid`` (labels never take arbitrary text)."""
    return text if text in _KNOWN else "invalid"


class _State(Collector):
    """Per-tenant gauges, read when scraped."""

    def __init__(self, read: Callable[[], Sequence[TenantOperations]]) -> None:
        self.read = read

    def collect(self) -> Iterator[Metric]:
        """The gauges of every tenant (nothing when the store cannot be read)."""
        try:
            tenants = self.read()
        except Exception:  # a scrape must not fail because the database is away
            tenants = []
        worker = str(os.getpid())
        epoch = GaugeMetricFamily(
            "infobarrier_epoch_in_force",
            "Id of the applied epoch in force (0: none)",
            labels=["tenant"],
        )
        age = GaugeMetricFamily(
            "infobarrier_epoch_age_seconds",
            "Seconds since the epoch in force was applied",
            labels=["tenant"],
        )
        version = GaugeMetricFamily(
            "infobarrier_tenant_version", "The tenant's decision version", labels=["tenant"]
        )
        loaded = GaugeMetricFamily(
            "infobarrier_loaded_version",
            "The tenant version of the epoch this worker holds (-1: not loaded)",
            labels=["tenant", "worker"],
        )
        applying = GaugeMetricFamily(
            "infobarrier_application_percent",
            "Progress of a running policy application (-1: none running)",
            labels=["tenant"],
        )
        audit = GaugeMetricFamily(
            "infobarrier_audit_chain_length",
            "Entries in the tenant's audit chain",
            labels=["tenant"],
        )
        now = time.time()
        for t in tenants:
            epoch.add_metric([t.name], t.epoch)
            if t.epoch_created_at is not None:
                age.add_metric([t.name], max(0.0, now - t.epoch_created_at.timestamp()))
            version.add_metric([t.name], t.version)
            loaded.add_metric(
                [t.name, worker], -1 if t.loaded_version is None else t.loaded_version
            )
            applying.add_metric([t.name], -1 if t.applying_percent is None else t.applying_percent)
            audit.add_metric([t.name], t.audit_entries)
        yield from (epoch, age, version, loaded, applying, audit)


class Metrics:
    """The app's registry and its counters."""

    def __init__(self, read_state: Callable[[], Sequence[TenantOperations]]) -> None:
        self.registry = CollectorRegistry()
        self.decisions = Counter(
            "infobarrier_decisions",
            "Decisions answered, by action and outcome (allow, deny, error)",
            ["action", "outcome"],
            registry=self.registry,
        )
        self.requests = Histogram(
            "infobarrier_request_seconds",
            "Request latency by route template and method",
            ["route", "method"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.responses = Counter(
            "infobarrier_responses",
            "Responses by route template, method and status",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.scim = Counter(
            "infobarrier_scim_requests",
            "SCIM requests by method and status",
            ["method", "status"],
            registry=self.registry,
        )
        self.state = _State(read_state)
        self.registry.register(self.state)
        self._outcomes: dict[str, tuple[Counter, Counter, Counter]] = {}

    def _children(self, action: str) -> tuple[Counter, Counter, Counter]:
        found = self._outcomes.get(action)
        if found is None:
            label = action_label(action)
            found = self._outcomes[label] = tuple(  # type: ignore[assignment]
                self.decisions.labels(label, o) for o in ("allow", "deny", "error")
            )
            assert found is not None
        return found

    def count(self, action: str, allowed: int, denied: int, errors: int) -> None:
        """Add one action's outcomes."""
        allow, deny, error = self._children(action_label(action))
        if allowed:
            allow.inc(allowed)
        if denied:
            deny.inc(denied)
        if errors:
            error.inc(errors)

    def count_batch(
        self,
        actions: Sequence[str],
        answers: Sequence[str] | None,
        content: bytes,
        permit: str,
        error: str,
    ) -> None:
        """Count a batch: ``actions[i]`` was answered ``answers[i]`` (JSON texts joined into
        ``content``); an answer starting with ``permit`` allows, with ``error`` failed.

        A batch of one action (the usual case) is counted from ``content`` at C speed, and
        needs no ``answers`` (the column path has none); only a mixed batch looks at each
        answer.
        """
        n = len(actions)
        if not n:
            return
        first = actions[0]
        if actions.count(first) == n:
            allowed = content.count(permit.encode())
            errors = content.count(error.encode())
            self.count(first, allowed, n - allowed - errors, errors)
            return
        assert answers is not None, "a batch of several actions is counted answer by answer"
        tally: dict[str, list[int]] = {}
        for action, answer in zip(actions, answers, strict=True):
            row = tally.setdefault(action_label(action), [0, 0, 0])
            row[0 if answer.startswith(permit) else 2 if answer.startswith(error) else 1] += 1
        for action, (allowed, denied, errors) in tally.items():
            self.count(action, allowed, denied, errors)

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        """One request (SCIM requests are counted by method and status as well)."""
        self.requests.labels(route, method).observe(seconds)
        self.responses.labels(route, method, str(status)).inc()
        if route.startswith("/scim"):
            self.scim.labels(method, str(status)).inc()

    def exposition(self) -> bytes:
        """The text format of everything: under multiprocess mode every worker's counters
        added up (a new registry per scrape, as prometheus-client prescribes)."""
        directory = os.environ.get(MULTIPROC)
        if not directory:
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
        registry.register(self.state)
        return generate_latest(registry)
