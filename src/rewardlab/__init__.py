"""rewardlab: the reward layer for LLM post-training.

    >>> import rewardlab
    >>> reward = rewardlab.build_reward({"name": "exact_match", "ignore_case": True})
    >>> reward.score_one(rewardlab.Sample(response="Paris", reference="paris")).score
    1.0

The root exports the core only: the nouns (``Sample``, ``Outcome``, ``Status``), the reward
interface and registry, specs, the one exception base, and the engine that runs rewards.
Implementations are imported from their folder (``rewardlab.verifiers``, ``rewardlab.compose``,
``rewardlab.search``, ...); ``docs/architecture.md`` says which folder holds what.
"""

from rewardlab.engine import Engine, EngineClosed, QueueFull, configure_engine, default_engine
from rewardlab.errors import RewardlabError
from rewardlab.registry import available_rewards, register
from rewardlab.reward import CpuReward, Reward, run_sync
from rewardlab.spec import (
    RewardRef,
    SpecError,
    build_reward,
    load_spec,
    reward_from_spec,
    rewards_from_spec,
)
from rewardlab.types import Outcome, Sample, Status

__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    # Client needs the serve extra (httpx); import it only when asked for.
    if name == "Client":
        from rewardlab.serve.client import Client

        return Client
    raise AttributeError(f"module 'rewardlab' has no attribute {name!r}")


__all__ = [
    "Client",
    "CpuReward",
    "Engine",
    "EngineClosed",  # raised by the engine every reward runs on: callers catch them
    "Outcome",
    "QueueFull",
    "Reward",
    "RewardRef",  # a spec's reference to another reward (nested specs)
    "RewardlabError",
    "Sample",
    "SpecError",
    "Status",
    "__version__",
    "available_rewards",
    "build_reward",
    "configure_engine",
    "default_engine",
    "load_spec",
    "register",
    "reward_from_spec",
    "rewards_from_spec",
    "run_sync",
]
