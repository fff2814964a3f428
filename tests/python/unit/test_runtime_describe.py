"""comfy._runtime.describe: INPUT_TYPES is called on every describe (ComfyUI calls it on every
validation); the description object is the same one while INPUT_TYPES answers the same, so the
native side keeps the definition it built from it, and a new one whenever the answer changes."""
import numpy as np
import pytest

from comfy import _runtime

STATE = {"required": {"choice": (["a"],), "n": ("INT", {"default": 1})}}


class Counting:
    calls = 0

    @classmethod
    def INPUT_TYPES(cls):
        cls.calls += 1
        return STATE  # the same dict every time, mutated in place by the tests

    RETURN_TYPES = ("STRING",)
    FUNCTION = "run"

    def run(self, choice, n):
        return (choice,)


@pytest.fixture
def registered(monkeypatch):
    monkeypatch.setitem(_runtime.MAPPINGS, "UnitCounting", Counting)
    monkeypatch.setattr(_runtime, "_descriptions", {})
    STATE["required"]["choice"] = (["a"],)
    Counting.calls = 0
    yield


def test_same_answer_same_description_object(registered):
    first = _runtime.describe("UnitCounting")
    second = _runtime.describe("UnitCounting")
    assert second is first
    assert Counting.calls == 2  # asked both times
    assert first["inputs"][0]["type"] == ["a"]


def test_answer_mutated_in_place_is_a_new_description(registered):
    first = _runtime.describe("UnitCounting")
    STATE["required"]["choice"][0].append("b")  # the very list the last answer held
    second = _runtime.describe("UnitCounting")
    assert second is not first
    assert second["inputs"][0]["type"] == ["a", "b"]
    assert _runtime.describe("UnitCounting") is second


def test_class_attribute_change_is_a_new_description(registered, monkeypatch):
    first = _runtime.describe("UnitCounting")
    monkeypatch.setattr(Counting, "OUTPUT_NODE", True, raising=False)
    second = _runtime.describe("UnitCounting")
    assert second is not first
    assert second["output_node"] is True and first["output_node"] is False


def test_values_without_boolean_equality_are_described_again(registered):
    STATE["required"]["n"] = ("INT", {"default": 1, "weights": np.array([1.0, 2.0])})
    try:
        first = _runtime.describe("UnitCounting")
        second = _runtime.describe("UnitCounting")  # comparing arrays raises: no reuse, no error
        assert second is not first
        assert second == first
    finally:
        STATE["required"]["n"] = ("INT", {"default": 1})


def test_unknown_class(registered):
    assert _runtime.describe("NoSuchClass") is None
