"""The TRL adapter: TRL's calling convention, pickling into a spawned process, and a real
``GRPOTrainer`` running two optimization steps on CPU with rewardlab rewards."""

from __future__ import annotations

import concurrent.futures
import inspect
import multiprocessing
import pickle

import pytest

from rewardlab.integrations.trl import (
    AsyncTrlReward,
    TrlReward,
    grpo_config_kwargs,
    rloo_config_kwargs,
    trl_reward_funcs,
)

SPEC = """
reward:
  name: group_advantage
  method: gdpo
  rewards:
    strict: exact_match
    loose: {name: exact_match, ignore_case: true}
  weights: {strict: 1.0, loose: 0.5}
"""


class Recorder:
    def __init__(self):
        self.metrics, self.extra = {}, {}

    def log_metric(self, name, value):
        self.metrics[name] = value

    def log_extra(self, column, values):
        self.extra[column] = values


def test_called_like_trl_with_columns_none_and_status_metrics():
    reward = TrlReward(SPEC, component="loose")
    rec = Recorder()
    out = reward(prompts=["Capital?"] * 3, completions=["Paris", "paris", "Rome"],
                 completion_ids=[[1], [2], [3]], answer=["Paris", "Paris", {"bad": 1}],
                 task=["geo"] * 3, trainer_state=None, log_metric=rec.log_metric,
                 log_extra=rec.log_extra)
    assert out == [1.0, 1.0, None]
    assert rec.metrics["rewardlab/loose/ok"] == 2.0
    assert rec.metrics["rewardlab/loose/bad_reference"] == 1.0
    assert rec.metrics["rewardlab/loose/timeout"] == 0.0  # every status, every call
    assert rec.extra["loose/status"] == ["ok", "ok", "bad_reference"]


def test_conversational_completions_and_column_mapping():
    reward = TrlReward(SPEC, component="strict", columns={"reference": "gold"})
    prompts = [[{"role": "user", "content": "Capital?"}]] * 2
    completions = [[{"role": "assistant", "content": "Paris"}],
                   [{"role": "assistant", "content": [{"type": "text", "text": "Rome"}]}]]
    assert reward(prompts, completions, gold=["Paris", "Paris"], answer=["x", "x"]) == [1.0, 0.0]
    with pytest.raises(KeyError, match="gold"):
        reward(prompts, completions, answer=["x", "x"])
    with pytest.raises(ValueError, match="component"):
        TrlReward(SPEC, component="nope")


def test_funcs_and_config_follow_the_spec():
    funcs = trl_reward_funcs(SPEC)
    assert [f.__name__ for f in funcs] == ["strict", "loose"]
    assert grpo_config_kwargs(SPEC) == {"multi_objective_aggregation": "normalize_then_sum",
                                        "scale_rewards": "group", "reward_weights": [1.0, 0.5]}
    rloo = SPEC.replace("method: gdpo", "method: pairwise")
    [only] = trl_reward_funcs(rloo)
    assert only.advantages and grpo_config_kwargs(rloo) == {"scale_rewards": "none"}
    out = only(["p", "p", "q", "q"], ["Paris", "x", "Paris", "Paris"], answer=["Paris"] * 4)
    assert out[0] > out[1] and out[2] == out[3] == 0.0


def test_async_form_is_detected_as_a_coroutine_function():
    import asyncio

    reward = AsyncTrlReward(SPEC, component="strict")
    assert inspect.iscoroutinefunction(reward)
    assert not inspect.iscoroutinefunction(TrlReward(SPEC, component="strict"))
    assert asyncio.run(reward(["p"], ["Paris"], answer=["Paris"])) == [1.0]


def test_survives_pickling_into_a_spawned_process():
    sync_reward = TrlReward(SPEC, component="loose")
    async_reward = AsyncTrlReward(SPEC, component="loose")
    clone = pickle.loads(pickle.dumps(async_reward))
    assert clone.__name__ == "loose" and inspect.iscoroutinefunction(clone)
    ctx = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=ctx) as pool:
        out = pool.submit(sync_reward, ["p", "p"], ["PARIS", "Rome"], answer=["Paris"] * 2)
        is_async = pool.submit(inspect.iscoroutinefunction, async_reward)
        assert out.result(timeout=120) == [1.0, 0.0]
        assert is_async.result(timeout=60) is True


def test_grpo_trainer_runs_two_steps_with_rewardlab_rewards(tiny_lm, tmp_path):
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import GRPOConfig, GRPOTrainer

    tokenizer = AutoTokenizer.from_pretrained(tiny_lm)
    tokenizer.padding_side = "left"
    rows = [{"prompt": "the capital of france is", "answer": ["paris"]},
            {"prompt": "two plus two is", "answer": ["Four"]},
            {"prompt": "one plus one is", "answer": []}]  # an empty (bad) reference
    dataset = Dataset.from_list(rows * 8)
    funcs = trl_reward_funcs(SPEC, use_async=False)
    funcs[1] = AsyncTrlReward(SPEC, component="loose")  # one sync, one async function
    args = GRPOConfig(
        output_dir=str(tmp_path), max_steps=2, per_device_train_batch_size=12,
        num_generations=4, max_completion_length=1, learning_rate=1e-3, logging_steps=1,
        report_to="none", save_strategy="no", use_cpu=True, bf16=False, seed=0,
        **grpo_config_kwargs(SPEC))
    model = AutoModelForCausalLM.from_pretrained(tiny_lm)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    trainer = GRPOTrainer(model=model, reward_funcs=funcs, args=args, train_dataset=dataset,
                          processing_class=tokenizer)
    trainer.train()
    assert trainer.state.global_step == 2
    logged = [entry for entry in trainer.state.log_history if "rewardlab/strict/ok" in entry]
    assert len(logged) == 2
    for entry in logged:
        assert entry["rewardlab/loose/ok"] + entry["rewardlab/loose/bad_reference"] == 12
    assert sum(e["rewardlab/strict/bad_reference"] for e in logged) > 0
    # "Four" matches "four" only case-insensitively: the two components really differ
    assert any(e["rewards/loose/mean"] > e["rewards/strict/mean"] for e in logged)
    changed = any(not (model.state_dict()[k] == v).all() for k, v in before.items())
    assert changed, "two optimization steps should move the weights"


def test_async_form_with_a_process_isolated_reward_on_a_background_loop():
    # TRL awaits async reward functions on its own event loop in a background thread
    import asyncio
    import threading

    spec = {"reward": {"name": "math"}}
    reward = AsyncTrlReward(spec)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        future = asyncio.run_coroutine_threadsafe(
            reward(["p", "p", "p"], ["The answer is 72.", "It is \\boxed{71}", "no idea"],
                   answer=["#### 72", "#### 72", "#### 72"]), loop)
        assert future.result(timeout=120) == [1.0, 0.0, None]
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)


PARTIAL = """
reward:
  name: group_advantage
  method: grpo
  rewards:
    correct: exact_match
    short: {name: soft_overlong, max_length: 100, cache_length: 10, unit: words}
"""


def test_a_failed_sample_is_none_in_every_component_function():
    # `short` never fails, `correct` fails on a bad reference: the whole reward failed, so TRL
    # must see the sample as unscorable (None everywhere), not as correct=0 plus short
    funcs = trl_reward_funcs(PARTIAL)
    prompts, completions = ["p", "p"], ["paris", "paris"]
    outs = [f(prompts, completions, answer=["paris", {"bad": 1}]) for f in funcs]
    assert [o[1] for o in outs] == [None, None]
    assert outs[0][0] == 1.0 and outs[1][0] is not None


def test_config_kwargs_are_accepted_by_each_trainer_config(tmp_path):
    from trl import GRPOConfig, RLOOConfig

    for spec in (SPEC, SPEC.replace("method: gdpo", "method: rloo"),
                 SPEC.replace("method: gdpo", "method: dr_grpo"),
                 SPEC.replace("method: gdpo", "method: pairwise"), "reward: exact_match"):
        GRPOConfig(output_dir=str(tmp_path), report_to="none", use_cpu=True, bf16=False,
                   **grpo_config_kwargs(spec))
        RLOOConfig(output_dir=str(tmp_path), report_to="none", use_cpu=True, bf16=False,
                   **rloo_config_kwargs(spec))
    rloo = SPEC.replace("method: gdpo", "method: rloo")
    assert rloo_config_kwargs(rloo) == {"reward_weights": [1.0, 0.5]}
    assert [f.__name__ for f in trl_reward_funcs(rloo, trainer="rloo")] == ["strict", "loose"]


def test_rloo_trainer_runs_two_steps_with_rewardlab_rewards(tiny_lm, tmp_path):
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import RLOOConfig, RLOOTrainer

    rloo = SPEC.replace("method: gdpo", "method: rloo")
    tokenizer = AutoTokenizer.from_pretrained(tiny_lm)
    rows = [{"prompt": "the capital of france is", "answer": ["paris"]},
            {"prompt": "two plus two is", "answer": ["Four"]},
            {"prompt": "one plus one is", "answer": []}]
    args = RLOOConfig(
        output_dir=str(tmp_path), max_steps=2, per_device_train_batch_size=12,
        num_generations=4, max_completion_length=1, learning_rate=1e-3, logging_steps=1,
        report_to="none", save_strategy="no", use_cpu=True, bf16=False, seed=0,
        **rloo_config_kwargs(rloo))
    model = AutoModelForCausalLM.from_pretrained(tiny_lm)
    trainer = RLOOTrainer(model=model, reward_funcs=trl_reward_funcs(rloo, trainer="rloo"),
                          args=args, train_dataset=Dataset.from_list(rows * 8),
                          processing_class=tokenizer)
    trainer.train()
    assert trainer.state.global_step == 2
    logged = [e for e in trainer.state.log_history if "rewardlab/strict/ok" in e]
    assert len(logged) == 2
    assert sum(e["rewardlab/strict/bad_reference"] for e in logged) > 0


def test_reward_environment_in_grpo_trainers_environment_factory(tiny_lm, tmp_path):
    """GRPOTrainer probes the factory, exposes ``submit_answer`` as the tool and wraps
    ``get_reward`` as a reward function; that wrapper scores rollouts with rewardlab.

    A full tool-calling rollout needs a model that emits well-formed tool calls, which a random
    tiny model does not, so the rollout's tool call is made here, as TRL's tool loop would."""
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import GRPOConfig, GRPOTrainer

    from rewardlab.integrations.trl import RewardEnvironment, reward_environment_factory

    if "environment_factory" not in inspect.signature(GRPOTrainer).parameters:
        pytest.skip("this TRL predates environment_factory (the pinned trainers extra has it)")
    tokenizer = AutoTokenizer.from_pretrained(tiny_lm)
    # a template that renders tool calls (TRL checks it) and a response schema (TRL needs one
    # to parse generated tool calls; it is not used here)
    tokenizer.chat_template = (
        "{% for m in messages %}{{ m['role'] }} {{ m['content'] }}{% if m.get('tool_calls') %}"
        "{% for c in m['tool_calls'] %} call {{ c['function']['name'] }} "
        "{{ c['function']['arguments'] | tojson }}{% endfor %}{% endif %}"
        "{% if m.get('name') %} {{ m['name'] }}{% endif %}\n{% endfor %}"
        "{% if add_generation_prompt %}assistant {% endif %}")
    tokenizer.response_schema = {"type": "object", "properties": {"content": {"type": "string"}}}
    spec = "reward: {name: exact_match, ignore_case: true}"
    rows = [{"prompt": [{"role": "user", "content": "capital"}], "answer": "paris"}] * 4
    args = GRPOConfig(output_dir=str(tmp_path), max_steps=1, per_device_train_batch_size=4,
                      num_generations=4, max_completion_length=2, report_to="none",
                      use_cpu=True, bf16=False)
    trainer = GRPOTrainer(model=AutoModelForCausalLM.from_pretrained(tiny_lm), args=args,
                          train_dataset=Dataset.from_list(rows), processing_class=tokenizer,
                          environment_factory=reward_environment_factory(spec))
    assert trainer.reward_func_names == ["RewardEnvironment"]
    assert [t.__name__ for t in trainer.tools] == ["submit_answer"]
    envs = [RewardEnvironment(spec) for _ in range(4)]
    for env, answer in zip(envs, ["Paris", "rome", None, "paris"], strict=True):
        env.reset(**rows[0])
        if answer is not None:
            env.submit_answer(answer=answer)
    assert trainer.reward_funcs[0](environments=envs) == [1.0, 0.0, None, 1.0]
    envs[0].reset(prompt="q", answer={"not": "a reference"})
    envs[0].submit_answer(answer="paris")
    assert envs[0].get_reward() is None and envs[0].outcome.status == "bad_reference"
