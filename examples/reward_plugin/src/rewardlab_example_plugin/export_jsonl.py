"""A trainer export registered through the ``rewardlab.exports`` entry point.

``rewardlab export spec-json SPEC`` prints the spec's rewards as one JSON line: a stand-in for a
trainer whose config takes the reward spec inline. Adding a trainer is adding a module like this.
"""

from __future__ import annotations

import json
from pathlib import Path

from rewardlab import load_spec
from rewardlab.integrations.exports import EXPORTS, Export, ExportOptions


@EXPORTS.register("spec-json")
def export_spec_json(spec: Path, options: ExportOptions) -> Export:
    """The spec as compact JSON (the failure score travels with it)."""
    return Export(json.dumps({"spec": load_spec(spec), "failure_score": options.failure_score},
                             sort_keys=True),
                  notes=["spec-json is an example export from rewardlab-example-plugin"])
