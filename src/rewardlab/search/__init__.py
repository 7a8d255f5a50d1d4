"""Inference-time use of rewards: best-of-N and voting, PRM-guided step search, CARDS.

Modules here are imported by the registry's discovery, so they keep heavy imports inside
functions.
"""

from rewardlab.search.best_of_n import best_of_n, vote_index
from rewardlab.search.cards import cards_search
from rewardlab.search.generators import (
    Generator,
    LlamaCppGenerator,
    OpenAICompletionsGenerator,
    TokenBudget,
)
from rewardlab.search.step_search import (
    SearchResult,
    StepSearch,
    beam_search,
    early_rejection_search,
    greedy_search,
)

__all__ = [
    "Generator",
    "LlamaCppGenerator",
    "OpenAICompletionsGenerator",
    "SearchResult",
    "StepSearch",
    "TokenBudget",
    "beam_search",
    "best_of_n",
    "cards_search",
    "early_rejection_search",
    "greedy_search",
    "vote_index",
]
