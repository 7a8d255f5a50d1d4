"""Local Hugging Face PRM backends: token classification and special-token PRMs.

* :class:`TokenClassificationScorer` reads PRMs trained with ``rewardlab train prm`` (or TRL's
  former ``PRMTrainer``): the input is ``[bos] prompt step_1 sep step_2 sep ...`` and the
  step's label sits on the last token of ``step + sep`` (:mod:`rewardlab.prm.layout`); the step
  score is the probability of the "correct" label there.
* :class:`SpecialTokenScorer` reads PRMs that put a marker token after every step and score at
  that token: Qwen2.5-Math-PRM (``<extra_0>`` inside the chat template, a two-class head) or
  Math-Shepherd style causal LMs (a ``ки`` tag, score = P(good token) vs P(bad token)).

Models load lazily on first use and run in a worker thread so they never block the event
loop; each scorer's lock covers tokenizing and the forward pass, so concurrent calls get the
sequential scores. torch and transformers are imported only there.
"""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path
from typing import Any, Literal

from rewardlab.prm.layout import step_chunks, windows
from rewardlab.prm.reward import StepItem
from rewardlab.prm.scorers import SCORERS, resolve_local_model

QWEN_MATH_SYSTEM_PROMPT = (
    "Please reason step by step, and put your final answer within \\boxed{}."
)
PRM_CONFIG_FILE = "rewardlab_prm.json"
"""Written next to a PRM trained by rewardlab: how its inputs were formatted."""


def read_prm_config(model: str | Path) -> dict[str, Any]:
    """The ``rewardlab_prm.json`` settings saved with a model folder (empty if none)."""
    path = Path(model) / PRM_CONFIG_FILE
    if path.is_file():
        return json.loads(path.read_text(encoding="utf-8"))
    return {}


def _float32() -> Any:
    import torch

    return torch.float32


class _LocalModel:
    """Shared lazy loading, batching and threading for local models."""

    def __init__(self, model: str | Path, *, batch_size: int, device: str, max_length: int | None):
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        self.model_path = str(model)
        self.batch_size = batch_size
        self.device = device
        self.max_length = max_length
        self._model: Any = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()

    def _load_model(self) -> Any:
        raise NotImplementedError

    def _ensure_loaded(self) -> None:
        if self._model is None:
            from transformers import AutoTokenizer

            self._tokenizer = AutoTokenizer.from_pretrained(self.model_path)
            self._model = self._load_model().to(self.device).eval()
            if self.max_length is None:  # the model's own context
                limit = getattr(self._model.config, "max_position_embeddings", None)
                tok_limit = getattr(self._tokenizer, "model_max_length", None)
                if tok_limit is not None and tok_limit < 1_000_000:
                    limit = min(limit or tok_limit, tok_limit)
                self.max_length = limit

    def close(self) -> None:
        self._model = None
        self._tokenizer = None

    async def score_steps(self, items: list[StepItem]) -> list[list[float] | BaseException]:
        return await asyncio.to_thread(self._score_sync, items)

    def _score_sync(self, items: list[StepItem]) -> list[list[float] | BaseException]:
        with self._lock:
            self._ensure_loaded()
            results: list[list[float] | BaseException] = []
            # one item may need several windows; each window scores a run of its steps
            pending: list[tuple[int, list[int], list[int]]] = []
            for n, (sample, steps) in enumerate(items):
                try:
                    encoded = self.encode_windows(sample.prompt_text, steps)
                except ValueError as exc:
                    results.append(exc)
                    continue
                results.append([])
                pending.extend((n, ids, positions) for ids, positions in encoded)
            for start in range(0, len(pending), self.batch_size):
                chunk = pending[start : start + self.batch_size]
                scores = self._forward([ids for _, ids, _ in chunk], [p for _, _, p in chunk])
                for (n, _, _), s in zip(chunk, scores, strict=True):
                    results[n].extend(s)  # type: ignore[union-attr]
            return results

    def encode_windows(self, prompt: str, steps: list[str]) -> list[tuple[list[int], list[int]]]:
        """Model inputs for one solution: ``[(token ids, scored positions), ...]``."""
        return [self.encode(prompt, steps)]

    def encode(self, prompt: str, steps: list[str]) -> tuple[list[int], list[int]]:
        """Token ids of a prompt and its steps, and the position scored for each step."""
        raise NotImplementedError

    def _step_probs(self, logits: Any) -> Any:
        raise NotImplementedError

    def _forward(
        self, batch_ids: list[list[int]], batch_positions: list[list[int]]
    ) -> list[list[float]]:
        import torch

        pad = self._tokenizer.pad_token_id
        pad = 0 if pad is None else pad
        width = max(len(ids) for ids in batch_ids)
        input_ids = torch.full((len(batch_ids), width), pad, dtype=torch.long)
        mask = torch.zeros((len(batch_ids), width), dtype=torch.long)
        for row, ids in enumerate(batch_ids):  # right padding: positions stay valid
            input_ids[row, : len(ids)] = torch.tensor(ids)
            mask[row, : len(ids)] = 1
        with torch.inference_mode():
            out = self._model(
                input_ids=input_ids.to(self.device), attention_mask=mask.to(self.device)
            )
            # remote-code PRMs (Qwen2.5-Math-PRM) return a tuple whose first item is the logits
            logits = (out.logits if hasattr(out, "logits") else out[0]).float()
            probs = self._step_probs(logits)
        return [
            [float(probs[row, p]) for p in positions]
            for row, positions in enumerate(batch_positions)
        ]

    def _check_length(self, ids: list[int]) -> None:
        if self.max_length is not None and len(ids) > self.max_length:
            raise ValueError(
                f"input is {len(ids)} tokens, over max_length={self.max_length}; "
                "raise max_length or shorten the response"
            )


@SCORERS.register("token_classification")
class TokenClassificationScorer(_LocalModel):
    """A token-classification PRM (``rewardlab train prm``, or TRL's former ``PRMTrainer``).

    Settings a rewardlab-trained folder records in ``rewardlab_prm.json`` (step separator,
    max_length, which label means "correct") are used unless given here.

    Args:
        model: Model folder or hub name (``AutoModelForTokenClassification``).
        step_separator: The separator appended to every step; must match training.
        positive_label: The label index meaning "correct step" (default: the folder's record,
            else 1).
        batch_size: Solutions per forward pass.
        device: torch device.
        max_length: The model's context in tokens (default: the training max_length, else the
            model's); longer solutions are scored in windows (see :meth:`encode_windows`)
            instead of being truncated, which would drop steps.
    """

    def __init__(
        self,
        model: str | Path,
        *,
        step_separator: str | None = None,
        positive_label: int | None = None,
        batch_size: int = 8,
        device: str = "cpu",
        max_length: int | None = None,
    ) -> None:
        model = resolve_local_model(str(model))  # one clear error now, not one per sample
        trained = read_prm_config(model)
        if max_length is None and isinstance(trained.get("max_length"), int):
            max_length = trained["max_length"]
        super().__init__(model, batch_size=batch_size, device=device, max_length=max_length)
        if step_separator is None:
            step_separator = trained.get("step_separator", "\n")
        if positive_label is None:
            positive_label = int(trained.get("positive_label", 1))
        self.step_separator = step_separator
        self.positive_label = positive_label
        self.trained_settings = trained

    def _load_model(self) -> Any:
        from transformers import AutoModelForTokenClassification

        return AutoModelForTokenClassification.from_pretrained(
            self.model_path, dtype=_float32()
        )

    def encode(self, prompt: str, steps: list[str]) -> tuple[list[int], list[int]]:
        prompt_ids, chunks = step_chunks(self._tokenizer, prompt, steps, self.step_separator)
        ((ids, positions, _),) = windows(prompt_ids, chunks, None)
        self._check_length(ids)
        return ids, positions

    def encode_windows(self, prompt: str, steps: list[str]) -> list[tuple[list[int], list[int]]]:
        """Like :meth:`encode`, but a solution longer than ``max_length`` is cut into windows.

        Each window repeats the prompt (its last ``max_length // 4`` tokens at most) and
        continues with the next steps that fit, so every step is scored once, with as much of
        the preceding solution as the model's context allows. A single step that cannot fit
        is an error. (The layout is :mod:`rewardlab.prm.layout`, shared with training.)
        """
        prompt_ids, chunks = step_chunks(self._tokenizer, prompt, steps, self.step_separator)
        return [(ids, pos) for ids, pos, _ in windows(prompt_ids, chunks, self.max_length)]

    def _step_probs(self, logits: Any) -> Any:
        n_labels = logits.shape[-1]
        if n_labels == 1:  # a single-logit head: sigmoid of that logit
            return logits[..., 0].sigmoid()
        if not 0 <= self.positive_label < n_labels:
            raise ValueError(f"positive_label {self.positive_label} but the head has {n_labels}")
        return logits.softmax(-1)[..., self.positive_label]


@SCORERS.register("special_token")
class SpecialTokenScorer(_LocalModel):
    """A PRM that scores a marker token placed after every step.

    Args:
        model: Model folder or hub name.
        step_token: The marker (one token of the vocabulary), e.g. ``"<extra_0>"`` for
            Qwen2.5-Math-PRM or ``"ки"`` for Math-Shepherd.
        head: ``"classifier"``: the model outputs per-token class logits (Qwen2.5-Math-PRM,
            any ``AutoModelForTokenClassification``); the score is P(label 1).
            ``"lm"``: a causal LM; the score is ``P(good) / (P(good) + P(bad))`` at the marker.
        good_token: The LM token meaning a good step (``head="lm"``).
        bad_token: The LM token meaning a bad step (``head="lm"``).
        chat_template: Format with the tokenizer's chat template (system + user question +
            assistant steps), as Qwen2.5-Math-PRM expects; otherwise ``prompt\\n`` + steps.
        system_prompt: System message used with the chat template.
        trust_remote_code: Allow the model's own code (Qwen2.5-Math-PRM needs it).
        batch_size: Solutions per forward pass.
        device: torch device.
        max_length: The model's context in tokens (default: the model's).
    """

    def __init__(
        self,
        model: str | Path,
        *,
        step_token: str = "<extra_0>",
        head: Literal["classifier", "lm"] = "classifier",
        good_token: str = "+",
        bad_token: str = "-",
        chat_template: bool = True,
        system_prompt: str = QWEN_MATH_SYSTEM_PROMPT,
        trust_remote_code: bool = False,
        batch_size: int = 8,
        device: str = "cpu",
        max_length: int | None = None,
    ) -> None:
        model = resolve_local_model(str(model))  # one clear error now, not one per sample
        super().__init__(model, batch_size=batch_size, device=device, max_length=max_length)
        if head not in ("classifier", "lm"):
            raise ValueError(f"head must be 'classifier' or 'lm', got {head!r}")
        self.step_token = step_token
        self.head = head
        self.good_token = good_token
        self.bad_token = bad_token
        self.chat_template = chat_template
        self.system_prompt = system_prompt
        self.trust_remote_code = trust_remote_code
        self._step_id: int | None = None
        self._label_ids: tuple[int, int] | None = None

    def _load_model(self) -> Any:
        from transformers import AutoModel, AutoModelForCausalLM, AutoModelForTokenClassification

        # float32: transformers would otherwise keep a bf16 checkpoint in bf16, which is slow on
        # CPU and moves step probabilities by up to ~1e-2
        kw = {"trust_remote_code": self.trust_remote_code, "dtype": _float32()}
        if self.head == "lm":
            model = AutoModelForCausalLM.from_pretrained(self.model_path, **kw)
        elif self.trust_remote_code:  # Qwen2.5-Math-PRM ships its own reward-head class
            model = AutoModel.from_pretrained(self.model_path, **kw)
        else:
            model = AutoModelForTokenClassification.from_pretrained(self.model_path, **kw)
        self._step_id = self._single_token(self.step_token, "step_token")
        if self.head == "lm":
            self._label_ids = (
                self._single_token(self.good_token, "good_token"),
                self._single_token(self.bad_token, "bad_token"),
            )
        return model

    def _single_token(self, text: str, what: str) -> int:
        ids = self._tokenizer.encode(text, add_special_tokens=False)
        if len(ids) != 1:
            raise ValueError(f"{what} {text!r} is {len(ids)} tokens for this tokenizer, need 1")
        return int(ids[0])

    def _text(self, prompt: str, steps: list[str]) -> str:
        body = "".join(f"{s}{self.step_token}" for s in steps)
        tok = self._tokenizer
        if self.chat_template and getattr(tok, "chat_template", None):
            messages = [
                {"role": "system", "content": self.system_prompt},
                {"role": "user", "content": prompt},
                {"role": "assistant", "content": body},
            ]
            return tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=False)
        return f"{prompt}\n{body}" if prompt else body

    def encode(self, prompt: str, steps: list[str]) -> tuple[list[int], list[int]]:
        if any(self.step_token in s for s in steps):
            raise ValueError(f"a step contains the step token {self.step_token!r}")
        ids = self._tokenizer(self._text(prompt, steps), add_special_tokens=True)["input_ids"]
        marks = [i for i, t in enumerate(ids) if t == self._step_id]
        if len(marks) < len(steps):
            raise ValueError(
                f"found {len(marks)} step tokens for {len(steps)} steps (merged by the tokenizer?)"
            )
        self._check_length(ids)
        return ids, marks[-len(steps) :]  # the prompt itself may contain the marker

    def _step_probs(self, logits: Any) -> Any:
        if self.head == "lm":
            assert self._label_ids is not None
            good, bad = self._label_ids
            return logits[..., [good, bad]].softmax(-1)[..., 0]
        if logits.shape[-1] == 1:
            return logits[..., 0].sigmoid()
        return logits.softmax(-1)[..., 1]
