"""Evaluating reward sources: benchmark loaders, metrics, robustness probes and reports.

    >>> from rewardlab.evaluate import load_items, evaluate
    >>> items = list(load_items("llmbar/natural.jsonl", "llmbar"))       # doctest: +SKIP
    >>> run = evaluate("length_baseline", items, "runs/llmbar-length")    # doctest: +SKIP
    >>> run.summary["accuracy"]["mean"]                                    # doctest: +SKIP
"""

from rewardlab.evaluate import baselines as baselines  # registers length_baseline, stored_score

# Formats defined in their own modules register through record_format when imported; importing
# any rewardlab.evaluate module runs this package first, so they are always known.
from rewardlab.evaluate import ifeval_formats as ifeval_formats  # ifeval, ifbench
from rewardlab.evaluate.items import EvalItem
from rewardlab.evaluate.loaders import DataError, available_formats, load_items
from rewardlab.evaluate.run import EvalRun, evaluate

__all__ = ["DataError", "EvalItem", "EvalRun", "available_formats", "evaluate", "load_items"]
