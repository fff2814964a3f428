"""The top-level `node_helpers` module (ComfyUI 0.3.64): small helpers node code shares."""
import hashlib

from PIL import ImageFile, UnidentifiedImageError


def conditioning_set_values(conditioning, values={}, append=False):
    """A copy of a CONDITIONING list whose option dicts get `values` set (with append: added to an
    existing value, e.g. list concatenation), leaving the input untouched."""
    out = []
    for cond, options in conditioning:
        options = options.copy()
        for key, value in values.items():
            if append:
                previous = options.get(key, None)
                if previous is not None:
                    value = previous + value
            options[key] = value
        out.append([cond, options])
    return out


def pillow(fn, arg):
    """fn(arg), retried once with truncated images allowed when Pillow rejects the file (many
    real-world images are slightly truncated)."""
    previous = None
    try:
        return fn(arg)
    except (OSError, UnidentifiedImageError, ValueError):
        previous = ImageFile.LOAD_TRUNCATED_IMAGES
        ImageFile.LOAD_TRUNCATED_IMAGES = True
        return fn(arg)
    finally:
        if previous is not None:
            ImageFile.LOAD_TRUNCATED_IMAGES = previous


_HASHERS = {"md5": hashlib.md5, "sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha512": hashlib.sha512}


def hasher():
    """The hashlib constructor chosen by --default-hashing-function (sha256 by default)."""
    from comfy.cli_args import args
    return _HASHERS[getattr(args, "default_hashing_function", "sha256")]


def string_to_torch_dtype(string):
    import torch
    return {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}.get(string)


def image_alpha_fix(destination, source):
    """Makes two IMAGE tensors agree on an alpha channel: the source loses its extra channel, or
    the destination gains an opaque one."""
    import torch
    if destination.shape[-1] < source.shape[-1]:
        source = source[..., :destination.shape[-1]]
    elif destination.shape[-1] > source.shape[-1]:
        destination = torch.nn.functional.pad(destination, (0, 1))
        destination[..., -1] = 1.0
    return destination, source
