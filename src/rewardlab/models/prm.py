"""The ``prm`` reward: process reward models behind one spec.

Backends (``backend=``):

* ``token_classification``: a local PRM trained with ``rewardlab train prm`` (or TRL's former
  ``PRMTrainer``: same input layout); ``model`` is its folder or hub name.
* ``special_token``: a PRM scoring a marker token after each step (Qwen2.5-Math-PRM with
  ``step_token="<extra_0>"``, ``trust_remote_code=true``; Math-Shepherd with ``head="lm"``,
  ``step_token="ки"``).
* ``implicit``: an implicit PRM, ``beta * log(pi / pi_ref)`` over each step's tokens
  (``model`` = the DPO-style trained model, ``ref_model`` = its reference; step scores are
  log-ratios, so set ``threshold: 0``).
* ``judge``: generative step verification: an LLM (``judge``: a backend spec such as
  ``{type: openai, base_url: ..., model: ...}``) names the first wrong step.
* ``remote``: a ``prm`` reward on a rewardlab server (``url``, ``remote_reward`` alias); step
  scores come back in the details and are aggregated here.

Every backend shares splitting, aggregation and details (see
:class:`rewardlab.prm.reward.ProcessReward`)::

    reward: {name: prm, backend: token_classification, model: runs/prm, aggregation: min}
"""

from __future__ import annotations

from typing import Any, Literal

from rewardlab.prm.aggregate import Aggregation
from rewardlab.prm.reward import ProcessReward, StepScorer
from rewardlab.prm.steps import SplitMode
from rewardlab.registry import register

Backend = Literal["token_classification", "special_token", "implicit", "judge", "remote"]


@register("prm")
def prm(
    backend: Backend = "token_classification",
    model: str | None = None,
    aggregation: Aggregation = "min",
    threshold: float = 0.5,
    split: SplitMode = "auto",
    separator: str | None = None,
    temperature: float = 0.1,
    step_separator: str | None = None,
    step_token: str = "<extra_0>",
    head: Literal["classifier", "lm"] = "classifier",
    good_token: str = "+",
    bad_token: str = "-",
    chat_template: bool = True,
    trust_remote_code: bool = False,
    batch_size: int = 8,
    device: str = "cpu",
    max_length: int | None = None,
    ref_model: str | None = None,
    beta: float = 0.05,
    judge: Any = None,
    judge_samples: int = 1,
    judge_temperature: float = 0.0,
    url: str | list[str] | None = None,
    remote_reward: str | None = None,
    token: str | None = None,
    timeout: float = 120.0,
) -> ProcessReward:
    """Process reward model: per-step scores aggregated into one score (min, product, last, ...).

    Args:
        backend: Where step scores come from (see the module docs).
        model: Model folder or hub name (local backends).
        aggregation: ``min``, ``product``, ``last``, ``mean``, ``sum`` or ``pure``.
        threshold: A step scored under this is an error (``details.first_error_step``).
        split: Step splitting mode (``auto``, ``blank_line``, ``numbered``, ``newline``) used
            when a sample has no ``metadata["steps"]``.
        separator: A custom step separator for splitting (overrides ``split``).
        temperature: Softmin temperature of ``pure``.
        step_separator: token_classification: the separator appended to each step in the model
            input (default: the model's ``rewardlab_prm.json``, else ``"\\n"``).
        step_token: special_token: the marker after each step.
        head: special_token: ``classifier`` or ``lm`` (Math-Shepherd style).
        good_token: special_token with ``head="lm"``: the "good step" token.
        bad_token: special_token with ``head="lm"``: the "bad step" token.
        chat_template: special_token: format through the tokenizer's chat template.
        trust_remote_code: special_token: allow the model's own code.
        batch_size: Solutions per forward pass.
        device: torch device for local backends.
        max_length: The model's context in tokens (default: read from the model).
        ref_model: implicit: the reference model (``None``: reference-free).
        beta: implicit: the DPO temperature.
        judge: judge: the LLM backend (a spec mapping or an ``LLMBackend``).
        judge_samples: judge: verdicts per solution, averaged into graded step scores.
        judge_temperature: judge: sampling temperature.
        url: remote: the rewardlab server URL(s).
        remote_reward: remote: the PRM's alias on the server.
        token: remote: bearer token.
        timeout: remote: per-request deadline in seconds.
    """
    scorer: StepScorer
    if backend in ("token_classification", "special_token", "implicit") and not model:
        raise ValueError(f"backend {backend!r} needs 'model' (a model folder or hub name)")
    if backend in ("token_classification", "special_token", "implicit"):
        from rewardlab.models.paths import resolve_model

        # one clear error now, instead of a hub retry loop and an error per sample later
        model = resolve_model(str(model), "PRM model")
        if ref_model is not None:
            ref_model = resolve_model(ref_model, "reference model")
    if backend == "token_classification":
        from rewardlab.prm.hf_scorers import TokenClassificationScorer

        scorer = TokenClassificationScorer(
            model, step_separator=step_separator, batch_size=batch_size, device=device,
            max_length=max_length,
        )
    elif backend == "special_token":
        from rewardlab.prm.hf_scorers import SpecialTokenScorer

        scorer = SpecialTokenScorer(
            model, step_token=step_token, head=head, good_token=good_token, bad_token=bad_token,
            chat_template=chat_template, trust_remote_code=trust_remote_code,
            batch_size=batch_size, device=device, max_length=max_length,
        )
    elif backend == "implicit":
        from rewardlab.prm.implicit import ImplicitScorer

        scorer = ImplicitScorer(
            model, ref_model, beta=beta, step_separator=step_separator or "\n\n",
            device=device, max_length=max_length,
        )
    elif backend == "judge":
        if judge is None:
            raise ValueError("backend 'judge' needs 'judge' (an LLM backend spec)")
        from rewardlab.models.llm import build_backend
        from rewardlab.prm.judge import JudgeScorer

        scorer = JudgeScorer(
            build_backend(judge), samples=judge_samples, temperature=judge_temperature
        )
    elif backend == "remote":
        if not url:
            raise ValueError("backend 'remote' needs 'url' (the rewardlab server)")
        from rewardlab.prm.remote import RemoteScorer

        scorer = RemoteScorer(url, reward=remote_reward, token=token, timeout=timeout)
    else:
        raise ValueError(f"unknown PRM backend {backend!r}")
    return ProcessReward(
        scorer, aggregation=aggregation, threshold=threshold, split=split, separator=separator,
        temperature=temperature,
    )
