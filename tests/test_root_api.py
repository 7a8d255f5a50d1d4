"""The package root exports the core only; implementations are imported from their folder."""

from __future__ import annotations

import subprocess
import sys

import rewardlab

# The list of core names, plus the engine's two errors callers catch, RewardRef (nested
# specs) and default_engine.
CORE = {
    "Client", "CpuReward", "Engine", "EngineClosed", "Outcome", "QueueFull", "Reward",
    "RewardRef", "RewardlabError", "Sample", "SpecError", "Status", "__version__",
    "available_rewards", "build_reward", "configure_engine", "default_engine", "load_spec",
    "register", "reward_from_spec", "rewards_from_spec", "run_sync",
}


def test_root_exports_exactly_the_core() -> None:
    assert set(rewardlab.__all__) == CORE
    for name in CORE:
        assert getattr(rewardlab, name) is not None


def test_implementations_are_not_at_the_root() -> None:
    # Moved out in issue 20: each is imported from its folder now.
    for name in ("MathVerifier", "ScalarRM", "best_of_n", "group_advantages", "Sandbox"):
        assert not hasattr(rewardlab, name), name


def test_importing_the_root_loads_no_implementation() -> None:
    # A fresh interpreter: this test process has already imported most of the package.
    code = (
        "import sys, rewardlab\n"
        "mods = sorted(m for m in sys.modules if m.startswith('rewardlab.'))\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'httpx', 'sympy'))\n"
        "print(mods, heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded, heavy = out.stdout.strip().split("] [")
    folders = ("verifiers", "models", "backends", "reward_models", "judges", "local", "compose",
               "search", "evaluate", "prm", "serve")
    for prefix in folders:
        assert f"rewardlab.{prefix}" not in loaded, loaded
    assert heavy == "]", heavy
