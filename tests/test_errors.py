"""Every exception class rewardlab defines derives from one base, and keeps its builtin base."""

from __future__ import annotations

import importlib
import inspect
import pickle
import pkgutil

import pytest

import rewardlab
from rewardlab.errors import RewardlabError, error_outcome
from rewardlab.spec import SpecError
from rewardlab.types import Status

# The sandbox server runs as a standalone script inside bubblewrap, where rewardlab itself is not
# importable (only the Python installation is visible): its exceptions cannot share the base.
# They never leave that process; the host side turns them into outcomes.
STANDALONE = {
    "rewardlab.engine._sandbox_server.CandidateError",
    "rewardlab.engine._sandbox_server.CandidateGone",
    "rewardlab.engine._sandbox_server.CodecError",
    "rewardlab.engine._sandbox_server.HackDetected",
    "rewardlab.engine._sandbox_server.ProtocolViolation",
}


def _rewardlab_exception_classes() -> dict[str, type[BaseException]]:
    found: dict[str, type[BaseException]] = {}
    for info in pkgutil.walk_packages(rewardlab.__path__, "rewardlab."):
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if (
                inspect.isclass(obj)
                and issubclass(obj, BaseException)
                and obj.__module__ == module.__name__
                # A warning is a category for warnings.warn, not an error a caller catches.
                and not issubclass(obj, Warning)
            ):
                found[f"{obj.__module__}.{name}"] = obj
    return found


CLASSES = _rewardlab_exception_classes()


def test_the_walk_finds_the_known_classes() -> None:
    # Guards the walk itself: if it found nothing, every other check here would pass vacuously.
    assert len(CLASSES) >= 30
    assert "rewardlab.spec.SpecError" in CLASSES
    assert "rewardlab.engine.pool.QueueFull" in CLASSES


@pytest.mark.parametrize("qualname", sorted(set(CLASSES) - STANDALONE))
def test_every_exception_derives_from_the_base(qualname: str) -> None:
    assert issubclass(CLASSES[qualname], RewardlabError), qualname


@pytest.mark.parametrize("qualname", sorted(STANDALONE))
def test_standalone_list_is_exact(qualname: str) -> None:
    assert qualname in CLASSES, f"{qualname} no longer exists: drop it from STANDALONE"


def test_builtin_bases_are_kept() -> None:
    # Existing `except ValueError` / `except RuntimeError` code must keep catching these.
    expected = {
        "rewardlab.spec.SpecError": ValueError,
        "rewardlab.records.RecordError": ValueError,
        "rewardlab.records.FieldMapError": ValueError,
        "rewardlab.evaluate.loaders.DataError": ValueError,
        "rewardlab.engine.pool.QueueFull": RuntimeError,
        "rewardlab.engine.pool.EngineClosed": RuntimeError,
        "rewardlab.serve.client.RewardServiceError": RuntimeError,
        "rewardlab.verifiers._sql_runner.QueryError": RuntimeError,
        "rewardlab.compose.formula.FormulaError": ValueError,
    }
    for qualname, base in expected.items():
        assert issubclass(CLASSES[qualname], base), qualname


def test_one_except_catches_a_spec_error() -> None:
    with pytest.raises(RewardlabError):
        rewardlab.build_reward({"name": "no_such_reward_anywhere"})
    with pytest.raises(ValueError):
        rewardlab.build_reward({"name": "no_such_reward_anywhere"})


def test_rebased_exceptions_still_pickle() -> None:
    # Exceptions cross process boundaries (engine workers); the extra base must not break that.
    err = pickle.loads(pickle.dumps(SpecError("bad spec")))
    assert isinstance(err, SpecError) and str(err) == "bad spec"


def test_error_outcome_names_the_exception() -> None:
    try:
        raise KeyError("missing")
    except KeyError as exc:
        outcome = error_outcome(exc, "loading")
    assert outcome.status is Status.ERROR
    assert outcome.reason.startswith("loading: KeyError")
    assert outcome.details["exception"] == "KeyError"
    assert "Traceback" in outcome.details["traceback"]
