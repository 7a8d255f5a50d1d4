"""Named extension registries: built-ins discovered from a package, clear unknown-name errors."""

from __future__ import annotations

import pytest

from rewardlab.extensions import NamedRegistry, UnknownExtension
from rewardlab.integrations.exports import EXPORTS, Export, ExportOptions


def test_builtin_trainer_exports_are_discovered():
    assert {"verl", "trl", "openrlhf"} <= set(EXPORTS.names())
    assert EXPORTS.import_errors == {}


def test_unknown_name_lists_the_known_ones_with_a_suggestion():
    with pytest.raises(UnknownExtension) as info:
        EXPORTS.get("verll")
    message = str(info.value)
    assert "did you mean 'verl'?" in message and "openrlhf" in message
    assert isinstance(info.value, KeyError)  # existing `except KeyError` code keeps working


def test_a_registered_member_is_found_and_used(tmp_path):
    registry: NamedRegistry = NamedRegistry("trainer export", "rewardlab.integrations.exports",
                                            "rewardlab.tests-none")

    @registry.register("toy")
    def export_toy(spec, options):
        return Export(f"toy {spec.name} {options.failure_score}")

    assert "toy" in registry.names() and "verl" not in registry.names()
    result = registry.get("toy")(tmp_path / "s.yaml", ExportOptions(failure_score=-1.0))
    assert result.text == "toy s.yaml -1.0" and result.notes == []
