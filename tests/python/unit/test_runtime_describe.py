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


def test_objects_compare_by_identity(registered):
    weights = np.array([1.0, 2.0])  # == would not answer a bool
    STATE["required"]["n"] = ("INT", {"default": 1, "weights": weights})
    try:
        first = _runtime.describe("UnitCounting")
        assert _runtime.describe("UnitCounting") is first  # the same array object
        STATE["required"]["n"] = ("INT", {"default": 1, "weights": np.array([1.0, 2.0])})
        assert _runtime.describe("UnitCounting") is not first  # an equal but other object
    finally:
        STATE["required"]["n"] = ("INT", {"default": 1})


class AnyType(str):
    def __ne__(self, other):
        return False


class AlwaysEqual:
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False


@pytest.mark.parametrize("before, after", [
    (1, 1.0),                    # equal in Python, written differently
    (1, True),
    ("*", AnyType("*")),         # an "any type" str subclass: a custom type to the validator
    (AlwaysEqual(), AlwaysEqual()),
])
def test_answers_equal_only_to_python_are_described_again(registered, before, after):
    STATE["required"]["n"] = ("INT", {"default": before})
    try:
        first = _runtime.describe("UnitCounting")
        STATE["required"]["n"] = ("INT", {"default": after})
        assert _runtime.describe("UnitCounting") is not first
    finally:
        STATE["required"]["n"] = ("INT", {"default": 1})


def test_input_order_counts(registered):
    first = _runtime.describe("UnitCounting")
    STATE["required"] = {"n": STATE["required"]["n"], "choice": STATE["required"]["choice"]}
    try:
        second = _runtime.describe("UnitCounting")
        assert second is not first
        assert [i["name"] for i in second["inputs"]] == ["n", "choice"]
    finally:
        STATE["required"] = {"choice": (["a"],), "n": ("INT", {"default": 1})}


def test_class_attributes_mutated_in_place_or_equal_only_to_python(registered, monkeypatch):
    monkeypatch.setattr(Counting, "RETURN_TYPES", ["STRING"])
    first = _runtime.describe("UnitCounting")
    Counting.RETURN_TYPES.append("INT")  # the very list describe read
    second = _runtime.describe("UnitCounting")
    assert second is not first and second["return_types"] == ["STRING", "INT"]
    monkeypatch.setattr(Counting, "OUTPUT_NODE", 1, raising=False)  # == True, but not `is True`
    third = _runtime.describe("UnitCounting")
    assert third is not second and third["output_node"] is False


class WithValidation(Counting):
    @classmethod
    def VALIDATE_INPUTS(cls, choice):
        return True


def test_bound_classmethods_still_reuse(monkeypatch):
    monkeypatch.setitem(_runtime.MAPPINGS, "UnitValidated", WithValidation)
    monkeypatch.setattr(_runtime, "_descriptions", {})
    first = _runtime.describe("UnitValidated")
    assert first["has_validate"] is True
    assert _runtime.describe("UnitValidated") is first  # a new bound method each getattr, same function


def test_unknown_class(registered):
    assert _runtime.describe("NoSuchClass") is None
