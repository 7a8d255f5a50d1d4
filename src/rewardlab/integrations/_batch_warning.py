"""One loud warning when a whole trainer batch fails for the same reason.

A trainer only sees ``None`` rewards (TRL), ``failure_score`` (verl, OpenRLHF) or a status
metric, so a dataset whose reference column is not read, or whose ``data_source`` matches no
alias, would train on nothing without a word. The adapters pass each batch here; when every
sample failed with the same status (and reason), it warns once per process and cause, naming the
fix.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence

from rewardlab.types import Outcome, Sample, Status

log = logging.getLogger("rewardlab.integrations")

TRL_REFERENCE_COLUMNS = ("reference", "answer", "solution", "ground_truth", "label")
"""Dataset columns the TRL adapter reads the reference from, first present wins (documented in
docs/composition.md)."""

_REFERENCE_FIX = {
    "trl": "the dataset has none of the columns " + ", ".join(TRL_REFERENCE_COLUMNS)
           + " that the TRL adapter reads the reference from: rename your column, or pass "
             "columns={'reference': 'YOUR_COLUMN'} to trl_reward_funcs()",
    "verl": "the rows' reward_model.ground_truth is empty: put the reference there in the "
            "parquet files (verl passes it as ground_truth)",
    "openrlhf": "OpenRLHF passed no labels: set --data.label_key (older releases: --label_key) "
                "to the dataset column holding the reference",
}
_SOURCE_FIX = ("no reward alias matches these samples' data_source: name a `rewards:` alias "
               "after each data_source, or add a `default` alias")


class BatchFailureWarning(RuntimeWarning):
    """Every sample of a trainer batch failed for the same reason (shown once per cause)."""


_warned: set[tuple[str, str]] = set()


def _cause(adapter: str, samples: Sequence[Sample], outcomes: Sequence[Outcome]) -> str | None:
    """The shared cause and its fix, or ``None`` when the batch did not fail as a whole."""
    if not outcomes or any(o.is_ok for o in outcomes):
        return None
    status = outcomes[0].status
    if any(o.status is not status for o in outcomes):
        return None
    reason = outcomes[0].reason or ""
    if status is Status.SKIPPED and reason.startswith("no reward for data_source"):
        return f"{reason}. Fix: {_SOURCE_FIX}"
    if samples and len(samples) == len(outcomes) and all(
            s.reference is None or s.reference == "" for s in samples):
        seen = sorted({k for s in samples for k in (s.metadata or {})})
        columns = f" (other columns seen: {', '.join(seen)})" if seen and adapter == "trl" else ""
        return (f"no sample had a reference{columns}; first reason: {reason}. "
                f"Fix: {_REFERENCE_FIX.get(adapter, 'pass the reference column')}")
    if len(outcomes) < 2 or any((o.reason or "") != reason for o in outcomes):
        return None  # a lone failure, or different reasons: per-sample trouble, not a setup bug
    return f"reason: {reason}"


def warn_if_batch_failed(adapter: str, samples: Sequence[Sample],
                         outcomes: list[Outcome]) -> list[Outcome]:
    """Warn (once per process and cause) when every outcome failed alike; return ``outcomes``.

    Args:
        adapter: ``"trl"``, ``"verl"`` or ``"openrlhf"`` (chooses the fix to suggest).
        samples: The batch's samples (to tell a missing reference from other failures).
        outcomes: Their outcomes.
    """
    cause = _cause(adapter, samples, outcomes)
    if cause is None:
        return outcomes
    status = outcomes[0].status.value
    key = (adapter, status + cause.split(";", 1)[0])
    if key in _warned:
        return outcomes
    _warned.add(key)
    message = (f"rewardlab {adapter} adapter: ALL {len(outcomes)} samples of this batch failed "
               f"with status {status!r}, so the trainer gets no reward signal: {cause} "
               "(warned once per process)")
    log.warning(message)
    warnings.warn(message, BatchFailureWarning, stacklevel=3)
    return outcomes
