"""LLM judges as rewards: rubric (pointwise), pairwise, best-of-K listwise, checklist,
principle-conditioned, reference-based verification, and reasoning judges.

All share :class:`rewardlab.judges.base.Judge`: master-key screening, explicit verdict
grammars, bounded retries on unparseable replies, and k-sample aggregation.
"""
