"""comfy.model_management: the parts custom nodes use without models (spec section 9.4).

The interrupt flag lives in the native executor so that /interrupt (a native route) and Python nodes
share one flag without the GIL.
"""
import logging

try:
    import torch
except ImportError:  # torch is optional for the server itself
    torch = None

from comfy import _core


class InterruptProcessingException(Exception):
    pass


def interrupt_current_processing(value=True):
    _core.set_interrupt(bool(value))


def processing_interrupted():
    return _core.interrupt_requested()


def throw_exception_if_processing_interrupted():
    # Consumes the flag, as ComfyUI does.
    if _core.take_interrupt():
        raise InterruptProcessingException()


def get_torch_device():
    from comfy.cli_args import args
    if torch is not None and not args.cpu and torch.cuda.is_available():
        return torch.device("cuda", torch.cuda.current_device())
    return "cpu" if torch is None else torch.device("cpu")


def intermediate_device():
    return "cpu" if torch is None else torch.device("cpu")


def unload_all_models():
    logging.debug("unload_all_models: no models are loaded")


def soft_empty_cache(force=False):
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()
