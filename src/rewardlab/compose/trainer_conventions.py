"""Group advantages computed the way verl, TRL and OpenRLHF compute them (float32, torch).

Each function takes one float per sample (``nan`` marks a failure where the trainer sees NaN) and
the members of each group, and returns one float per sample exactly as the trainer's own code
would produce it: the same dtype (float32: each trainer's reward tensor), the same epsilon, the
same order of operations, the same rule for groups of one, and the trainer's reduction layout.
Non-finite results are returned as they are; :mod:`rewardlab.compose.advantage_math` turns them into
typed failures. torch is imported on first use (every one of these trainers needs it anyway).

Sources read (newest PyPI releases, checked by ``tests/compose/test_trainer_parity.py``):

* verl 0.9.1 ``verl/trainer/ppo/core_algos.py``: ``compute_grpo_outcome_advantage``,
  ``compute_rloo_outcome_advantage``, ``compute_opo_outcome_advantage``,
  ``compute_gdpo_outcome_advantage`` and ``verl_F.masked_whiten``.
* TRL 1.16.0 ``GRPOTrainer._generate_and_score_completions`` (``sum_then_normalize`` and
  ``normalize_then_sum``) and ``trl.trainer.utils.nanstd``.
* OpenRLHF 0.11.2 ``RemoteExperienceMaker.compute_advantages_and_returns``.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence
from typing import Any

Groups = list[list[int]]


def fits_float32(value: float) -> bool:
    """Whether ``value`` survives conversion to float32 without becoming infinite (verl raises
    on such a reward, TRL and OpenRLHF turn it into inf and lose its whole group)."""
    try:
        struct.pack("<f", value)  # the standard format checks the range; native "f" does not
    except OverflowError:
        return False
    return True


def _torch() -> Any:
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - torch ships with every trainer
        raise ValueError("trainer conventions compute with torch as the trainer does: "
                         "pip install torch (or use convention: rewardlab)") from exc
    return torch


def _f32(values: Sequence[float]) -> Any:
    return _torch().tensor(list(values), dtype=_torch().float32)


# ----------------------------------------------------------------------------------- verl


def verl_group(values: Sequence[float], members: Groups, method: str, eps: float,
               scale_by_std: bool = True, lengths: Sequence[int] | None = None) -> list[float]:
    """verl's ``grpo`` (``scale_by_std``: ``norm_adv_by_std_in_grpo``), ``rloo`` or ``opo``.

    A group of one gets mean 0 and std 1 (GRPO: ``r / (1 + eps)``; unscaled: ``r``), baseline 0
    (OPO: ``r``) or is left as ``r`` (RLOO), as verl does.
    """
    torch = _torch()
    scores = _f32(values)
    out = scores.clone()
    lens = torch.tensor([int(n) for n in lengths]) if lengths is not None else None
    for m in members:
        idx = torch.tensor(m)
        group = scores[idx]
        n = len(m)
        if method == "grpo":
            if n == 1:
                mean, std = torch.tensor(0.0), torch.tensor(1.0)
            else:
                mean, std = torch.mean(group), torch.std(group)
            out[idx] = (group - mean) / (std + eps) if scale_by_std else group - mean
        elif method == "rloo":
            if n > 1:
                mean = torch.mean(group)
                out[idx] = group * n / (n - 1) - mean * n / (n - 1)
        elif method == "opo":
            assert lens is not None
            if n == 1:
                baseline = torch.tensor(0.0)
            else:
                group_lens = lens[idx]
                baseline = (group_lens * group).sum() / group_lens.sum()
            out[idx] = group - baseline
        else:
            raise ValueError(f"verl has no advantage method {method!r}")
    return [float(v) for v in out]


def verl_gdpo(components: Mapping[str, Sequence[float]], weights: Mapping[str, float],
              members: Groups, eps: float, lengths: Sequence[int]) -> list[float]:
    """verl's ``gdpo``: float32 GRPO per component, weighted sum, then ``masked_whiten`` over
    the response *tokens* (each sample weighs as many times as it has tokens)."""
    torch = _torch()
    n = len(lengths)
    width = max(int(x) for x in lengths)
    mask = torch.zeros(n, width, dtype=torch.int64)
    for i, length in enumerate(lengths):
        mask[i, :int(length)] = 1
    w = torch.tensor([float(weights.get(k, 1.0)) for k in components], dtype=torch.float32)
    total = None
    for k, (_, values) in enumerate(components.items()):
        per_sample = _f32(verl_group(values, members, "grpo", eps))
        term = w[k] * (per_sample.unsqueeze(-1) * mask)
        total = term if total is None else total + term
    count = mask.sum()
    mean = (total * mask).sum() / (count + 1e-8)
    centred = total - mean
    var = (centred ** 2 * mask).sum() / (count + 1e-8)
    if count <= 1:  # verl raises here ("the sum of the mask is one")
        return [float("nan")] * n
    var = var * (count / (count - 1))
    whitened = (total - mean) * torch.rsqrt(var + 1e-8) * mask
    return [float(whitened[i, int(lengths[i]) - 1]) if lengths[i] else 0.0 for i in range(n)]


# ------------------------------------------------------------------------------------ TRL


def trl_nanstd(tensor: Any, dim: int | None = None, keepdim: bool = False) -> Any:
    """TRL's ``nanstd``: Bessel-corrected std ignoring NaNs (NaN with fewer than two values)."""
    torch = _torch()
    mean = torch.nanmean(tensor, dim=dim, keepdim=True)
    variance = torch.nanmean((tensor - mean) ** 2, dim=dim, keepdim=True)
    count = torch.sum(~torch.isnan(tensor), dim=dim, keepdim=True)
    correction = count / (count - 1)
    correction = torch.where(count > 1, correction, torch.full_like(correction, float("nan")))
    std = torch.sqrt(variance * correction)
    return std if keepdim else std.squeeze(dim) if dim is not None else std.squeeze()


def _padded(values: Any, members: Groups) -> tuple[Any, Any, Any]:
    """Groups as rows of a NaN-padded matrix (TRL's ``view(-1, G)`` when sizes are equal)."""
    torch = _torch()
    width = max(len(m) for m in members)
    rows = torch.full((len(members), width, *values.shape[1:]), float("nan"))
    index = torch.full((len(members), width), -1, dtype=torch.int64)
    for r, m in enumerate(members):
        rows[r, :len(m)] = values[torch.tensor(m)]
        index[r, :len(m)] = torch.tensor(m)
    return rows, index, index >= 0


def _scatter(rows: Any, index: Any, valid: Any, n: int) -> Any:
    out = _torch().full((n, *rows.shape[2:]), float("nan"))
    out[index[valid]] = rows[valid]
    return out


def trl_grpo(values: Sequence[float], members: Groups, scale: str, eps: float) -> list[float]:
    """TRL's ``sum_then_normalize`` with ``scale_rewards`` ``group``, ``batch`` or ``none``.

    NaN marks an unscorable completion: left out of every mean and std, advantage 0.
    Returned before TRL's ``nan_to_num``, so the caller can tell overflow from NaN.
    """
    torch = _torch()
    rewards = _f32(values)
    rows, index, valid = _padded(rewards, members)
    mean = torch.nanmean(rows, dim=1, keepdim=True).expand_as(rows)
    if scale == "batch":
        std = trl_nanstd(rewards).expand_as(rows) if rewards.numel() > 1 else \
            torch.zeros_like(rows)
    elif rows.shape[1] > 1:
        std = trl_nanstd(rows, dim=1, keepdim=True).expand_as(rows)
    else:
        std = torch.zeros_like(rows)
    advantages = rows - mean
    if scale != "none":
        advantages = advantages / (std + eps)
    return [float(v) for v in _scatter(advantages, index, valid, len(values))]


def trl_gdpo(components: Mapping[str, Sequence[float]], weights: Mapping[str, float],
             members: Groups, eps: float) -> list[float]:
    """TRL's ``normalize_then_sum``: per-reward group normalization, weighted ``nansum`` (a
    failed component counts as 0), batch normalization; all-NaN rows are unscorable."""
    torch = _torch()
    per_func = torch.stack([_f32(v) for v in components.values()], dim=1)
    rows, index, valid = _padded(per_func, members)
    mean_k = torch.nanmean(rows, dim=1, keepdim=True)
    std_k = trl_nanstd(rows, dim=1, keepdim=True) if rows.shape[1] > 1 else \
        torch.zeros_like(mean_k)
    reward_k = _scatter((rows - mean_k) / (std_k + eps), index, valid, per_func.shape[0])
    w = torch.tensor([float(weights.get(k, 1.0)) for k in components], dtype=torch.float32)
    rewards = (reward_k * w.unsqueeze(0)).nansum(dim=1)
    rewards[torch.isnan(per_func).all(dim=1)] = float("nan")
    std = trl_nanstd(rewards).expand_as(rewards) if rewards.numel() > 1 else \
        torch.zeros_like(rewards)
    return [float(v) for v in (rewards - torch.nanmean(rewards)) / (std + eps)]


# ------------------------------------------------------------------------------- OpenRLHF


def openrlhf_group(values: Sequence[float], members: Groups, method: str,
                   eps: float) -> list[float]:
    """OpenRLHF's ``group_norm`` (``grpo``), ``dr_grpo`` or ``rloo`` over each group.

    OpenRLHF reshapes the rewards to ``(-1, n_samples_per_prompt)``; groups of equal size are
    laid out the same way (the reduction layout decides the float32 rounding of the mean, which
    ``group_norm``'s eps of 1e-9 magnifies in a constant group). A group of one gives NaN for
    ``group_norm`` (the std of one value) and ``rloo`` (0 / 0) and 0 for ``dr_grpo``.
    """
    torch = _torch()
    rewards = _f32(values)
    out = rewards.clone()
    blocks = [members] if len({len(m) for m in members}) == 1 else [[m] for m in members]
    for block in blocks:
        idx = torch.tensor(block)
        r = rewards[idx]
        n = r.shape[-1]
        if method == "grpo":
            adv = (r - r.mean(-1, keepdim=True)) / (r.std(-1, keepdim=True) + eps) if n > 1 \
                else torch.full_like(r, float("nan"))
        elif method == "dr_grpo":
            adv = r - r.mean(-1, keepdim=True)
        elif method == "rloo":
            adv = r - (r.sum(-1, keepdim=True) - r) / (n - 1) if n > 1 else \
                torch.full_like(r, float("nan"))
        else:
            raise ValueError(f"OpenRLHF has no advantage estimator {method!r}")
        out[idx.flatten()] = adv.flatten()
    return [float(v) for v in out]
