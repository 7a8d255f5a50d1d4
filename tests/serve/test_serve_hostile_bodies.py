"""Property: any request body gets either outcomes for every sample or a clear 4xx naming the
problem; never a 5xx, a dropped connection or a dead server (issue 16)."""

from __future__ import annotations

import json

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

_text = st.text(max_size=20) | st.sampled_from(["\ud800", "a\udfffb", "\x00", "\r\n", "\u2028"])
_numbers = (st.integers(min_value=-(10 ** 40), max_value=10 ** 40)
            | st.floats(allow_nan=True, allow_infinity=True))
_json = st.recursive(st.none() | st.booleans() | _numbers | _text,
                     lambda kids: st.lists(kids, max_size=3)
                     | st.dictionaries(_text, kids, max_size=3), max_leaves=10)
_sample = st.fixed_dictionaries({"response": _text | _json}, optional={
    "prompt": _text | _json, "reference": _json, "metadata": _json, "id": _json,
    "group": _json})
_score_body = st.fixed_dictionaries({"samples": st.lists(_sample, max_size=4) | _json},
                                    optional={"timeout": _numbers | _json,
                                              "reward": _text | st.just("exact")})


def _encode(body: object, ascii_only: bool) -> bytes:
    text = json.dumps(body, ensure_ascii=ascii_only, allow_nan=True)
    return text.encode("utf-8", "surrogatepass")  # lone surrogates become invalid UTF-8


def _deep(depth: int) -> bytes:
    return b'{"samples": [' + b"[" * depth + b"]" * depth + b"]}"


_bodies = st.one_of(
    st.builds(_encode, _score_body, st.booleans()),
    st.builds(_deep, st.sampled_from([100, 1000, 5000, 50_000])),
    st.binary(max_size=64),
    st.sampled_from([b'{"samples": [{"response": "x"}], "timeout": NaN}',
                     b'{"samples": [{"response": "x"}], "timeout": Infinity}',
                     b'{"samples": [{"response": "x"}], "timeout": 1e999}',
                     b'{"samples": [{"response": "x", "id": ' + b"9" * 5000 + b"}]}",
                     b'{"samples": [{"response": "\\ud800"}]}', b"", b"null"]),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=_bodies)
def test_any_score_body_gets_outcomes_or_a_clear_4xx(server, body):
    reply = httpx.post(server.url + "/v1/score", content=body, timeout=60,
                       headers={"content-type": "application/json"})
    assert reply.status_code in (200, 400, 404, 413, 422), (reply.status_code, reply.text)
    data = reply.json()
    if reply.status_code == 200:
        sent = json.loads(body.decode("utf-8", "replace"))["samples"]
        assert len(data["outcomes"]) == len(sent)
        assert all(o["status"] in ("ok", "error", "timeout", "unparseable", "bad_reference",
                                   "skipped") for o in data["outcomes"])
    else:
        assert data["error"]["type"] and data["error"]["message"]
        assert data["error"]["field"]


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.one_of(
    st.fixed_dictionaries({"query": st.lists(_text, max_size=3) | _json},
                          optional={"prompts": st.lists(_text, max_size=3) | _json,
                                    "labels": st.lists(_json, max_size=3) | _json}),
).map(lambda b: _encode(b, False)))
def test_any_get_reward_body_gets_rewards_or_a_clear_4xx(server, body):
    reply = httpx.post(server.url + "/get_reward", content=body, timeout=60)
    assert reply.status_code in (200, 400, 413, 422), (reply.status_code, reply.text)
    data = reply.json()
    if reply.status_code == 200:
        assert len(data["rewards"]) == len(json.loads(body.decode("utf-8", "replace"))["query"])
    else:
        assert data["error"]["type"] and data["error"]["field"]
    assert httpx.get(server.url + "/health", timeout=10).status_code == 200
