"""comfy_execution.validation: link type compatibility, as ComfyUI decides it."""
from __future__ import annotations

_MATCHTYPE = "COMFY_MATCHTYPE_V3"


def validate_node_input(received_type, input_type, strict: bool = False) -> bool:
    """True when an output of `received_type` may feed an input of `input_type`.

    First Python's `!=` on the objects themselves (so `__ne__` overrides such as IO.ANY or
    "any type" str subclasses decide); then, for plain strings, comma-separated type sets:
    any overlap, or with `strict` every received type must be accepted."""
    if not received_type != input_type:
        return True
    if received_type == _MATCHTYPE or input_type == _MATCHTYPE:
        return True  # checked by the frontend
    if not isinstance(received_type, str) or not isinstance(input_type, str):
        return False
    received = {t.strip() for t in received_type.split(",")}
    accepted = {t.strip() for t in input_type.split(",")}
    if strict:
        return received <= accepted
    return bool(received & accepted)
