"""Imported by engine workers before an item's deadline starts: loads the Punkt parameters and
langdetect's language profiles (about a second), so that first load is never billed to a sample.
"""

from rewardlab.verifiers.instructions import _text, constraints

_text._punkt()
_text._treebank()
_text._language_factory()
constraints.available_constraints()
