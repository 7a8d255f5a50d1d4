"""Learned reward models as rewards: sequence-classification RMs (local and remote), implicit DPO
rewards, likelihood rewards, and the model-path resolution they share (:mod:`.paths`).

Every module here is imported on first registry lookup; heavy libraries (torch, transformers)
are imported inside functions so that discovery stays fast without the extras.
"""
