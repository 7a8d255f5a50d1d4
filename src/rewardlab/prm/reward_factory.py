"""The ``prm`` reward: process reward models behind one spec, the scorer picked by name.

``backend`` names a scorer in :data:`rewardlab.prm.scorers.SCORERS` (``token_classification``,
``special_token``, ``implicit``, ``judge``, ``remote``, or a third-party one); every scorer
shares splitting, aggregation and details (:class:`rewardlab.prm.reward.ProcessReward`)::

    reward: {name: prm, backend: token_classification, model: runs/prm, aggregation: min}

The spec stays flat: the ``prm`` factory's signature is the ``ProcessReward`` settings plus the
union of every registered scorer's parameters, computed when it is read (so a scorer registered
later adds its fields), and each scorer keeps its own parameters, defaults and docs in its
module. A key the chosen scorer does not take is an error naming the keys it does take.
"""

from __future__ import annotations

import inspect
import typing
from typing import Any

import pydantic

from rewardlab.extensions import UnknownExtension
from rewardlab.prm.aggregate import Aggregation
from rewardlab.prm.reward import ProcessReward
from rewardlab.prm.scorers import SCORERS
from rewardlab.prm.steps import SplitMode
from rewardlab.registry import factory_parameters, field_descriptions, register

DEFAULT_BACKEND = "token_classification"

# The settings every scorer shares: (name, type hint, default, description).
_SHARED: tuple[tuple[str, Any, Any, str], ...] = (
    ("backend", str, DEFAULT_BACKEND,
     "Where step scores come from: a PRM scorer's name (`rewardlab.prm.scorers`)."),
    ("aggregation", Aggregation, "min", "``min``, ``product``, ``last``, ``mean``, ``sum`` or "
     "``pure``."),
    ("threshold", float, 0.5, "A step scored under this is an error "
     "(``details.first_error_step``)."),
    ("split", SplitMode, "auto", "Step splitting mode (``auto``, ``blank_line``, ``numbered``, "
     "``newline``) used when a sample has no ``metadata[\"steps\"]``."),
    ("separator", str | None, None, "A custom step separator for splitting (overrides "
     "``split``)."),
    ("temperature", float, 0.1, "Softmin temperature of ``pure``."),
)
_SHARED_NAMES = frozenset(name for name, *_ in _SHARED)
_SUMMARY = (
    "Process reward model: per-step scores aggregated into one score (min, product, last, ...)."
)


def _scorer_fields() -> dict[str, tuple[Any, Any, str]]:
    """``{field: (type hint, default, description)}`` over every registered scorer.

    A field several scorers take gets the union of their hints, the first default given and
    each description prefixed by the scorers it belongs to.
    """
    hints: dict[str, list[Any]] = {}
    defaults: dict[str, Any] = {}
    described: dict[str, dict[str, list[str]]] = {}
    for backend in sorted(SCORERS.names(), key=lambda b: b != DEFAULT_BACKEND):
        factory = SCORERS.get(backend)
        docs = field_descriptions(factory)
        for name, (hint, default) in factory_parameters(factory).items():
            if name in _SHARED_NAMES:
                continue  # the shared setting wins; a scorer cannot redefine it
            if hint not in hints.setdefault(name, []):
                hints[name].append(hint)
            if default is not ... and name not in defaults:
                defaults[name] = default
            described.setdefault(name, {}).setdefault(docs.get(name, ""), []).append(backend)
    out = {}
    for name, options in hints.items():
        hint = options[0] if len(options) == 1 else typing.Union[tuple(options)]  # noqa: UP007
        text = " ".join(
            f"{', '.join(backends)}: {doc}".rstrip(": ")
            for doc, backends in described[name].items()
        )
        out[name] = (typing.Optional[hint], defaults.get(name), text)  # noqa: UP045
    return out


class PrmFactory:
    """The registered ``prm`` factory; its signature and docs list every scorer's fields."""

    def __call__(self, backend: str = DEFAULT_BACKEND, **fields: Any) -> ProcessReward:
        try:
            factory = SCORERS.get(backend)
        except UnknownExtension as exc:
            raise ValueError(f"backend: {exc}") from None
        shared = {k: fields.pop(k) for k in list(fields) if k in _SHARED_NAMES}
        params = factory_parameters(factory)
        extra = sorted(set(fields) - set(params))
        if extra:
            raise ValueError(
                f"backend {backend!r} does not take {', '.join(map(repr, extra))} "
                f"(it takes: {', '.join(params) or 'nothing'})"
            )
        for name, (_, default) in params.items():
            if default is ... and name not in fields:
                doc = field_descriptions(factory).get(name)
                hint = f" ({doc})" if doc else ""
                raise ValueError(f"backend {backend!r} needs {name!r}{hint}")
        # the flat spec was checked against the union of all scorers' hints; check this one's
        model = pydantic.create_model(
            f"prm_{backend}",
            __config__=pydantic.ConfigDict(extra="forbid", arbitrary_types_allowed=True),
            **params,  # type: ignore[arg-type]
        )
        validated = model.model_validate(fields)
        scorer = factory(**{k: getattr(validated, k) for k in fields})
        return ProcessReward(scorer, **shared)

    @property
    def __signature__(self) -> inspect.Signature:  # read by registry.factory_parameters
        keyword = inspect.Parameter.KEYWORD_ONLY
        params = [inspect.Parameter(n, keyword, default=d, annotation=h) for n, h, d, _ in _SHARED]
        params += [
            inspect.Parameter(n, keyword, default=d, annotation=h)
            for n, (h, d, _) in _scorer_fields().items()
        ]
        return inspect.Signature(params, return_annotation=ProcessReward)

    @property
    def __annotations__(self) -> dict[str, Any]:  # type: ignore[override]  # get_type_hints
        return {p.name: p.annotation for p in self.__signature__.parameters.values()}

    @property
    def __doc__(self) -> str:  # type: ignore[override]  # the summary and each field's docs
        lines = [_SUMMARY, "", f"Backends: {', '.join(SCORERS.names())}.", "", "Args:"]
        lines += [f"    {n}: {text}" for n, _, _, text in _SHARED]
        lines += [f"    {n}: {text}" for n, (_, _, text) in _scorer_fields().items()]
        return "\n".join(lines)


prm = register("prm")(PrmFactory())
"""``prm(backend=..., **fields)``: build a :class:`ProcessReward` as a ``prm`` spec would."""
