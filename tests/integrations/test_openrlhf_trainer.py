"""rewardlab inside OpenRLHF's own code (the pinned release in tests/trainers-nodeps.txt).

``rewardlab export openrlhf`` flags go through OpenRLHF's own ``train_ppo_ray`` parser and
checks; the generated reward file and a real ``rewardlab serve`` on 127.0.0.1 are called by
OpenRLHF's ``SingleTurnAgentExecutor``. The only stand-in is the vLLM engine (generation needs a
GPU): it returns fixed token ids, and everything from decoding the query on is OpenRLHF's code.
"""

from __future__ import annotations

import asyncio
import json
import math
import shlex
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

pytest.importorskip("openrlhf")
pytest.importorskip("aiohttp")

from openrlhf.utils.agent import SingleTurnAgentExecutor

from rewardlab.cli import main
from rewardlab.integrations.openrlhf import (
    check_openrlhf_estimator,
    parse_openrlhf_args,
)

SPEC = {"reward": {"name": "weighted_sum",
                   "rewards": {"strict": "exact_match",
                               "loose": {"name": "exact_match", "ignore_case": True}},
                   "weights": {"strict": 0.5, "loose": 0.5}}}
SRC = Path(__file__).resolve().parents[2] / "src"


class FixedEngine:
    """Stands in for OpenRLHF's vLLM engine: ``generate`` returns the given token ids."""

    def __init__(self, token_ids: list[int]) -> None:
        self.token_ids = token_ids

    async def generate(self, prompt_token_ids, sampling_params, multi_modal_data=None):
        out = SimpleNamespace(token_ids=list(self.token_ids), finish_reason="stop",
                              logprobs=None)
        return SimpleNamespace(outputs=[out])


@pytest.fixture
def tokenizer(tiny_lm):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_lm)


def _run(executor, tokenizer, prompt, response, label):
    ids = tokenizer(response, add_special_tokens=False)["input_ids"]
    params = SimpleNamespace(max_tokens=4, logprobs=None)
    return asyncio.run(executor.execute(prompt, label, params, 16, tokenizer, FixedEngine(ids)))


def _export(tmp_path, capsys, *extra):
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(SPEC))
    target = tmp_path / "reward_func.py"
    assert main(["export", "openrlhf", str(spec), "-o", str(target), *extra]) == 0
    out = capsys.readouterr()
    return shlex.split(out.out), out.err, target


def test_exported_flags_pass_openrlhfs_own_parser(tmp_path, capsys):
    words, err, target = _export(tmp_path, capsys)
    assert "note:" not in " ".join(words) and "wrote" in err
    args = parse_openrlhf_args([*words, "--actor.model_name_or_path", "unused",
                                "--rollout.n_samples_per_prompt", "4"])
    assert args.algo.advantage.estimator == "group_norm"
    assert args.algo.dynamic_filtering_enable is True
    assert args.reward.remote_url == [str(target.resolve())]
    # the flag older rewardlab exported is rejected by the same parser
    with pytest.raises(SystemExit):
        parse_openrlhf_args(["--advantage_estimator", "group_norm"])


def test_unknown_estimator_names_the_installed_version_and_choices(tmp_path, capsys):
    from importlib.metadata import version

    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(SPEC))
    assert main(["export", "openrlhf", str(spec), "-o", str(tmp_path / "f.py"),
                 "--estimator", "gdpo"]) == 2
    err = capsys.readouterr().err
    assert f"OpenRLHF {version('openrlhf')}" in err and "group_norm" in err
    check_openrlhf_estimator("rloo")  # a valid one passes


def _check_rows(results):
    ok, wrong, failed = results
    assert float(ok["reward"][0]) == 1.0 and float(ok["scores"][0]) == 1.0
    assert float(wrong["reward"][0]) == 0.5 and float(wrong["scores"][0]) == 0.5
    assert float(failed["reward"][0]) == 0.0  # failure_score: OpenRLHF needs a float
    assert math.isnan(float(failed["scores"][0]))  # the dynamic filter drops its group
    for row in (ok, wrong):
        assert 0.0 <= float(row["scores"][0]) <= 1.0


CASES = [("paris rome", "paris", "paris"), ("paris rome", "paris", "Paris"),
         ("paris rome", "rome", {"not": "a label"})]


def test_reward_file_through_openrlhfs_agent_executor(tmp_path, capsys, tokenizer):
    _, _, target = _export(tmp_path, capsys)
    executor = SingleTurnAgentExecutor(remote_rm_url=[str(target)])  # as train_ppo_ray splits
    results = [_run(executor, tokenizer, *case) for case in CASES]
    _check_rows(results)
    logs = results[2]["extra_logs"]
    assert float(logs["status/bad_reference"][0]) == 1.0
    assert {frozenset(r["extra_logs"]) for r in results} == {frozenset(logs)}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    spec = tmp_path / "serve.json"
    spec.write_text(json.dumps(SPEC))
    port = _free_port()
    log = (tmp_path / "server.log").open("wb")
    env = {"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"}
    proc = subprocess.Popen([sys.executable, "-m", "rewardlab", "serve", "--spec", str(spec),
                             "--host", "127.0.0.1", "--port", str(port)],
                            stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert proc.poll() is None, (tmp_path / "server.log").read_text()
            try:
                if httpx.get(url + "/ready", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            pytest.fail("rewardlab serve did not become ready")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def test_http_through_openrlhfs_agent_executor(server, tokenizer):
    executor = SingleTurnAgentExecutor(remote_rm_url=[server + "/get_reward"])
    results = [_run(executor, tokenizer, *case) for case in CASES]
    _check_rows(results)
    assert results[2]["extra_logs"]["status_bad_reference"] == [1.0]


def test_spec_naming_an_estimator_openrlhf_lacks_is_a_clear_error(tmp_path, capsys):
    from importlib.metadata import version

    spec = tmp_path / "spec.yaml"
    spec.write_text(json.dumps({**SPEC, "trainers": {"openrlhf": {"estimator": "gdpo"}}}))
    assert main(["export", "openrlhf", str(spec), "-o", str(tmp_path / "f.py")]) == 2
    err = capsys.readouterr().err
    assert f"OpenRLHF {version('openrlhf')} has no advantage estimator 'gdpo'" in err
    spec.write_text(json.dumps({**SPEC, "trainers": {"openrlhf": {"estimator": "rloo"}}}))
    words, _, _ = _export_file(tmp_path, capsys, spec)
    args = parse_openrlhf_args([*words, "--rollout.n_samples_per_prompt", "4"])
    assert args.algo.advantage.estimator == "rloo"


def _export_file(tmp_path, capsys, spec):
    target = tmp_path / "reward_func.py"
    assert main(["export", "openrlhf", str(spec), "-o", str(target)]) == 0
    out = capsys.readouterr()
    return shlex.split(out.out), out.err, target
