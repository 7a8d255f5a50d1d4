"""``evaluate()``: score a benchmark with a reward into a run directory, summarise, probe and
report.

Run directory layout::

    RUN/samples.jsonl   one row per item (scores, statuses, verdict), resumable
    RUN/summary.json    every aggregate, probes, and the run's settings
    RUN/report.html     self-contained report (inline SVG charts)
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rewardlab.evaluate.failures import failure_examples
from rewardlab.evaluate.items import EvalItem
from rewardlab.evaluate.pairwise import Comparator, as_comparator, is_comparator
from rewardlab.evaluate.probes import run_probes
from rewardlab.evaluate.report import write_report
from rewardlab.evaluate.streaming import elapsed, run_items, write_json
from rewardlab.evaluate.summary import summarize
from rewardlab.reward import Reward
from rewardlab.spec import build_reward


@dataclass
class EvalRun:
    """A finished evaluation: its directory, per-item rows and summary."""

    directory: Path
    rows: list[dict[str, Any]]
    summary: dict[str, Any]

    @property
    def report(self) -> Path:
        """The HTML report file."""
        return self.directory / "report.html"


def _reward_label(spec: Any, reward: Any) -> str:
    if isinstance(spec, str):
        return spec
    if isinstance(spec, Mapping):
        return json.dumps(dict(spec), sort_keys=True, default=str)
    describe = getattr(reward, "describe", None)
    return describe() if callable(describe) else type(reward).__name__


def evaluate(reward: Reward | Comparator | str | Mapping[str, Any], items: Iterable[EvalItem],
             directory: str | Path, *, resume: bool = False, batch_size: int = 32,
             probes: Sequence[str] = (), probe_limit: int | None = 200,
             data_format: str = "auto", data: str = "", name: str | None = None,
             progress: bool = True, report: bool = True,
             reward_label: str | None = None) -> EvalRun:
    """Evaluate a reward on benchmark items.

    Args:
        reward: A reward, a spec for :func:`rewardlab.build_reward`, or a pairwise judge
            (:class:`~rewardlab.evaluate.pairwise.Comparator`).
        items: The items (e.g. from :func:`rewardlab.evaluate.load_items`).
        directory: The run directory (created).
        resume: Continue an interrupted run in ``directory``.
        batch_size: Responses per reward call.
        probes: Probe names to run afterwards (see :mod:`rewardlab.evaluate.probes`).
        probe_limit: Items per probe.
        data_format: The data's format name (enables benchmark-specific aggregates).
        data: A label for the data source, for the summary.
        name: The run's display name (default: the directory name).
        progress: Show progress bars.
        report: Write ``report.html``.
        reward_label: How the reward is named in the summary (default: from the spec).
    """
    started = time.perf_counter()
    built = reward if is_comparator(reward) else build_reward(reward)
    scorer = as_comparator(built) or built  # baseline-comparing judges score pairs
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    item_list = list(items)
    if not item_list:
        raise ValueError("no items to evaluate")
    ids = [it.id for it in item_list]
    if len(set(ids)) != len(ids):
        repeated = sorted(i for i, n in Counter(ids).items() if n > 1)[:3]
        raise ValueError("item ids must be unique within a run (rows are matched by id on "
                         f"resume); repeated: {repeated}. load_items renames repeats")
    samples_path = directory / "samples.jsonl"
    rows = run_items(scorer, item_list, samples_path, resume=resume, batch_size=batch_size,
                     total=len(item_list), progress=progress)
    if [r["id"] for r in rows] != ids:
        raise RuntimeError(f"{samples_path} does not match the items (different data or order?); "
                           "run again without --resume")
    summary = summarize(rows, data_format=data_format)
    if probes:
        summary["probes"] = run_probes(scorer, item_list, rows, probes, probe_limit,
                                       progress=progress)
    summary.update(failure_examples(item_list, rows, summary.get("probes")))
    summary["run"] = {"name": name or directory.name,
                      "reward": reward_label or _reward_label(reward, built),
                      "data": data, "format": data_format, "seconds": elapsed(started),
                      "batch_size": batch_size, "resumed": resume}
    write_json(directory / "summary.json", summary)
    if report:
        write_report([(summary["run"]["name"], summary)], directory / "report.html")
    if built is not reward:  # built here, so released here
        built.close()
    return EvalRun(directory, rows, summary)
