"""A PRM served by a rewardlab server: step scores come back in the outcomes' details.

The server runs a ``prm`` reward (any backend); this side sends the steps it split (in
``metadata["steps"]``, so both sides agree on them) and aggregates the returned step scores
locally, so the client may choose its own aggregation and threshold.
"""

from __future__ import annotations

from collections.abc import Sequence

from rewardlab.prm.reward import StepItem
from rewardlab.prm.scorers import SCORERS
from rewardlab.types import Sample


class RemoteScorer:
    """Step scores from a ``prm`` reward on a rewardlab server.

    Args:
        urls: Server base URL(s).
        reward: The alias of the PRM reward on the server (``None``: its default reward).
        token: Bearer token, if the server needs one.
        timeout: Per-request deadline in seconds.
    """

    def __init__(
        self,
        urls: str | Sequence[str],
        *,
        reward: str | None = None,
        token: str | None = None,
        timeout: float = 120.0,
    ) -> None:
        from rewardlab.serve.client import Client

        self.client = Client(urls, token=token, reward=reward, timeout=timeout)

    async def score_steps(self, items: list[StepItem]) -> list[list[float] | BaseException]:
        samples = [
            Sample(
                response=s.response, prompt=s.prompt, reference=s.reference,
                metadata={**dict(s.metadata), "steps": steps}, group=s.group, id=s.id,
            )
            for s, steps in items
        ]
        outcomes = await self.client.ascore(samples)
        results: list[list[float] | BaseException] = []
        for outcome in outcomes:
            scores = outcome.details.get("step_scores") if outcome.is_ok else None
            if outcome.is_ok and scores is None:
                results.append(
                    ValueError("the server's reward returned no details.step_scores (not a PRM?)")
                )
            elif scores is None:
                results.append(RuntimeError(f"server: {outcome.status}: {outcome.reason}"))
            else:
                results.append([float(x) for x in scores])
        return results

    def close(self) -> None:
        self.client.close()


@SCORERS.register("remote")
def remote(
    url: str | list[str],
    remote_reward: str | None = None,
    token: str | None = None,
    timeout: float = 120.0,
) -> RemoteScorer:
    """A ``prm`` reward on a rewardlab server; step scores come back in the details and are
    aggregated here.

    Args:
        url: The rewardlab server URL(s).
        remote_reward: The PRM's alias on the server.
        token: Bearer token.
        timeout: Per-request deadline in seconds.
    """
    if not url:
        raise ValueError("backend 'remote' needs 'url' (the rewardlab server)")
    return RemoteScorer(url, reward=remote_reward, token=token, timeout=timeout)
