"""The one error every model-library entry point raises.

comfy.sd, comfy.samplers, comfy.sample, comfy.model_base, comfy.clip_vision and comfy.controlnet
exist so that custom node packs import (and subclass) ComfyUI's names at start-up. The functions
that would load or run a model need ComfyUI's model library (the `comfy` package tree with
`ldm`, `model_patcher`, `k_diffusion`, ...), which this server does not ship yet: they raise a
plain RuntimeError naming what was called, so a workflow fails with a clear execution_error
instead of pretending to succeed."""

MESSAGE = "{} needs ComfyUI's model library, which this server does not include yet"


def model_library_error(what):
    """The RuntimeError for `what` (a qualified function or node name)."""
    return RuntimeError(MESSAGE.format(what))


def unavailable(qualname):
    """A stand-in function for `qualname` that accepts any arguments and raises the error."""
    def missing(*args, **kwargs):
        raise model_library_error(qualname)
    missing.__name__ = qualname.rsplit(".", 1)[-1]
    missing.__qualname__ = missing.__name__
    missing.__doc__ = MESSAGE.format(qualname) + "."
    return missing


class MissingModelLibraryMixin:
    """Base for placeholder classes packs subclass at import time (BaseModel, CFGGuider, VAE, ...):
    defining or subclassing them works, constructing one raises the error."""

    def __init__(self, *args, **kwargs):
        raise model_library_error(type(self).__module__ + "." + type(self).__qualname__)
