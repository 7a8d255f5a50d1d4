"""rewardlab's verl reward manager and failure-masking advantage estimators (needs verl).

verl's reward loop has no notion of a failed sample: whatever number a reward function returns
enters the group mean and standard deviation of its estimator. This module gives verl two
things, loaded through verl's own extension points:

* :class:`RewardlabRewardManager`, a reward-loop manager (``reward.reward_manager.source=
  importlib``, ``reward.reward_manager.name=RewardlabRewardManager``,
  ``reward.reward_manager.module.path=<this file>``). It calls the configured
  ``compute_score`` like verl's ``naive`` manager, but hands the multi-turn fields over
  unflattened and, when the configured estimator is a masking one, reports a failed sample's
  reward as NaN (its ``status`` stays in the reward extra info).
* The estimators ``rewardlab_grpo`` and ``rewardlab_rloo``, registered in verl's advantage
  registry when this module is loaded (the trainer loads the manager class in its own process to
  assemble scores, which is where advantages are computed). They run verl's own ``grpo`` /
  ``rloo`` code on the samples that have a finite reward only, so the other samples of a group
  get exactly the advantages they would get if the failed one had never been generated; a
  failed sample gets advantage 0 and its NaN reward is replaced by 0 in place (so verl's reward
  metrics stay finite). ``algorithm.norm_adv_by_std_in_grpo=False`` gives Dr. GRPO.

Use ``rewardlab export verl SPEC`` for the overrides. With any other estimator the manager
returns ``failure_score`` for failures (finite), exactly like ``compute_score`` under ``naive``.
"""

from __future__ import annotations

import inspect
import math
from typing import Any

import numpy as np
import torch
from verl import DataProto
from verl.experimental.reward_loop.reward_manager.base import RewardManagerBase
from verl.trainer.ppo import core_algos

MASKING_ESTIMATORS = {"rewardlab_grpo": "grpo", "rewardlab_rloo": "rloo"}
"""rewardlab estimator -> the verl estimator it runs on the scorable samples."""


def _masked(base: str):
    def estimator(token_level_rewards: torch.Tensor, response_mask: torch.Tensor,
                  index: np.ndarray, epsilon: float = 1e-6,
                  norm_adv_by_std_in_grpo: bool = True, config: Any = None,
                  **_: Any) -> tuple[torch.Tensor, torch.Tensor]:
        scores = token_level_rewards.sum(dim=-1)
        keep = torch.isfinite(scores)
        advantages = torch.zeros_like(token_level_rewards, dtype=torch.float32)
        if config is not None and hasattr(config, "get"):
            norm_adv_by_std_in_grpo = config.get("norm_adv_by_std_in_grpo", norm_adv_by_std_in_grpo)
        if keep.any():
            rows = keep.nonzero(as_tuple=True)[0]
            kwargs: dict[str, Any] = {
                "token_level_rewards": token_level_rewards[rows],
                "response_mask": response_mask[rows],
                "index": np.asarray(index)[rows.cpu().numpy()],
                "config": config}
            if base == "grpo":
                kwargs.update(epsilon=epsilon, norm_adv_by_std_in_grpo=norm_adv_by_std_in_grpo)
            sub, _ = core_algos.get_adv_estimator_fn(base)(**kwargs)
            advantages[rows] = sub.to(advantages.dtype)
        # why in place: verl logs reward metrics from this same tensor after the estimator runs
        token_level_rewards.nan_to_num_(0.0)
        return advantages, advantages

    estimator.__name__ = f"rewardlab_{base}"
    estimator.__doc__ = (f"verl's ``{base}`` advantages over the samples with a finite reward; "
                         "samples whose reward is NaN (failed) get 0 and leave no trace.")
    return estimator


def register_estimators() -> None:
    """Register the masking estimators in verl's registry (idempotent: verl executes this file
    once per load, and its registry refuses a second, different function under one name)."""
    for name, base in MASKING_ESTIMATORS.items():
        if name not in core_algos.ADV_ESTIMATOR_REGISTRY:
            core_algos.register_adv_est(name)(_masked(base))


register_estimators()


class RewardlabRewardManager(RewardManagerBase):
    """verl reward-loop manager for rewardlab's ``compute_score`` (see the module docstring).

    Args:
        config: verl's full trainer config.
        tokenizer: The policy tokenizer (decodes responses).
        compute_score: The configured reward function (``reward.custom_reward_function``).
        reward_router_address: verl's reward-model router, passed on to ``compute_score``.
        reward_model_tokenizer: The reward model's tokenizer, passed on likewise.
    """

    def __init__(self, config: Any, tokenizer: Any, compute_score: Any,
                 reward_router_address: str | None = None,
                 reward_model_tokenizer: Any = None, **_: Any) -> None:
        super().__init__(config, tokenizer, compute_score)
        if compute_score is None:
            raise ValueError("RewardlabRewardManager needs reward.custom_reward_function.path "
                             "(rewardlab/integrations/verl.py) and .name (compute_score)")
        self.is_async = inspect.iscoroutinefunction(compute_score) or (
            hasattr(compute_score, "func") and inspect.iscoroutinefunction(compute_score.func))
        self.reward_router_address = reward_router_address
        self.reward_model_tokenizer = reward_model_tokenizer
        estimator = str(config.algorithm.get("adv_estimator", "")) if "algorithm" in config \
            else ""
        self.mask_failures = estimator in MASKING_ESTIMATORS

    async def run_single(self, data: DataProto) -> dict:
        """Score the last sequence of ``data`` (one sample), like verl's ``naive`` manager."""
        item = data[-1:][0]
        response_ids = item.batch["responses"]
        length = int(item.batch["attention_mask"][-response_ids.shape[-1]:].sum())
        extra_info = dict(item.non_tensor_batch.get("extra_info", None) or {})
        extra_info["num_turns"] = item.non_tensor_batch.get("__num_turns__", None)
        extra_info["rollout_reward_scores"] = item.non_tensor_batch.get("reward_scores", {})
        tools = item.non_tensor_batch.get("tool_extra_fields", None)
        if tools is not None:
            extra_info["tool_extra_fields"] = dict(tools)
        response = await self.loop.run_in_executor(
            None, lambda: self.tokenizer.decode(response_ids[:length], skip_special_tokens=True))
        kwargs: dict[str, Any] = {
            "data_source": item.non_tensor_batch["data_source"], "solution_str": response,
            "ground_truth": item.non_tensor_batch["reward_model"]["ground_truth"],
            "extra_info": extra_info}
        if self.reward_router_address is not None:
            kwargs.update(reward_router_address=self.reward_router_address,
                          reward_model_tokenizer=self.reward_model_tokenizer)
        if self.is_async:
            result = await self.compute_score(**kwargs)
        else:
            result = await self.loop.run_in_executor(None, lambda: self.compute_score(**kwargs))
        if not isinstance(result, dict):
            return {"reward_score": float(result), "reward_extra_info": {"acc": float(result)}}
        score = float(result["score"])
        if self.mask_failures and result.get("status", "ok") != "ok":
            score = math.nan  # the masking estimator leaves this sample out of its group
        return {"reward_score": score, "reward_extra_info": dict(result)}
