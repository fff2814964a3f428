"""comfy.utils: ProgressBar and its global hook (spec section 6.9), plus the tensor and state-dict
helpers packs call (spec section 9.3): load/save of checkpoints, common_upscale with ComfyUI's
methods (nearest-exact, bilinear, area, bicubic, bislerp, lanczos), tiled_scale, batch resizing,
attribute paths. The helpers give ComfyUI's results for the same inputs.

Safetensors files are read and written with the `safetensors` package when it is installed, and
otherwise by the small reader/writer below (the format is a JSON header and raw little-endian
tensor bytes); other checkpoint files go through torch.load(weights_only=True)."""
import itertools
import json
import math
import os
import struct

PROGRESS_BAR_ENABLED = True
PROGRESS_BAR_HOOK = None


def set_progress_bar_enabled(enabled):
    global PROGRESS_BAR_ENABLED
    PROGRESS_BAR_ENABLED = enabled


def set_progress_bar_global_hook(function):
    global PROGRESS_BAR_HOOK
    PROGRESS_BAR_HOOK = function


class ProgressBar:
    def __init__(self, total, node_id=None):
        self.total = total
        self.current = 0
        self.hook = PROGRESS_BAR_HOOK
        self.node_id = node_id

    def update_absolute(self, value, total=None, preview=None):
        if total is not None:
            self.total = total
        if value > self.total:
            value = self.total
        self.current = value
        if self.hook is not None:
            self.hook(self.current, self.total, preview, node_id=self.node_id)

    def update(self, value):
        self.update_absolute(self.current + value)


def encode_preview(preview):
    """(format, PIL image, max_size) -> (1 JPEG | 2 PNG, bytes), as ComfyUI's preview encoder: Pillow
    resizes (bilinear, aspect kept), the encoding is native (PNG level 1, JPEG quality 95)."""
    from PIL import Image, ImageOps
    from comfy import _media
    image_type, image, max_size = preview
    if max_size is not None:
        image = ImageOps.contain(image, (max_size, max_size), Image.Resampling.BILINEAR)
    if image_type == "PNG":
        return 2, _media.encode_pil(image, "PNG", compress_level=1)
    return 1, _media.encode_pil(image.convert("RGB"), "JPEG", quality=95)


def _native_hook(value, total, preview_image, prompt_id=None, node_id=None):
    """The server's global progress hook: interrupts, then progress_state/progress/preview."""
    from comfy import _core, _runtime, model_management
    if node_id is None:
        node_id = _runtime.executing_node()
    model_management.throw_exception_if_processing_interrupted()
    fmt, data = (0, b"") if preview_image is None else encode_preview(preview_image)
    _core.report_progress(node_id, value, total, fmt, data)


def install_native_hook():
    set_progress_bar_global_hook(_native_hook)


# -- checkpoints and state dicts -------------------------------------------------------------------

_ST_DTYPES = {
    "F64": "float64", "F32": "float32", "F16": "float16", "BF16": "bfloat16",
    "I64": "int64", "I32": "int32", "I16": "int16", "I8": "int8", "U8": "uint8", "BOOL": "bool",
    "U16": "uint16", "U32": "uint32", "U64": "uint64",
    "F8_E4M3": "float8_e4m3fn", "F8_E5M2": "float8_e5m2",
}


def _torch():
    import torch
    return torch


def _has_safetensors():
    try:
        import safetensors  # noqa: F401
    except ImportError:
        return False
    return True


def _is_safetensors_name(path):
    lower = str(path).lower()
    return lower.endswith(".safetensors") or lower.endswith(".sft")


class _SafetensorsFileError(ValueError):
    """A safetensors file we could not read, with ComfyUI's explanation attached."""


def _safetensors_error(message, path):
    """ComfyUI's explanation for the two common corrupt-file errors (older safetensors releases
    name them HeaderTooLarge / MetadataIncompleteBuffer, newer ones spell them out)."""
    lower = message.lower()
    if "HeaderTooLarge" in message or "header too large" in lower:
        return _SafetensorsFileError(
            "{}\n\nFile path: {}\n\nThe safetensors file is corrupt or invalid. Make sure this is actually a "
            "safetensors file and not a ckpt or pt or other filetype.".format(message, path))
    if "MetadataIncompleteBuffer" in message or "incomplete metadata" in lower:
        return _SafetensorsFileError(
            "{}\n\nFile path: {}\n\nThe safetensors file is corrupt/incomplete. Check the file size and make sure "
            "you have copied/downloaded it correctly.".format(message, path))
    return None


def _read_safetensors(path, device="cpu"):
    """(state dict, metadata or None) of a safetensors file, without the safetensors package."""
    torch = _torch()
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise _SafetensorsFileError(f"HeaderTooSmall\n\nFile path: {path}")
        (header_len,) = struct.unpack("<Q", head)
        if header_len > 100 * 1024 * 1024:
            raise _safetensors_error("HeaderTooLarge", path)
        if header_len > os.fstat(f.fileno()).st_size - 8:
            raise _SafetensorsFileError(f"InvalidHeaderLength\n\nFile path: {path}")
        try:
            header = json.loads(f.read(header_len))
        except ValueError as e:
            raise _SafetensorsFileError(f"InvalidHeaderDeserialization: {e}\n\nFile path: {path}") from None
        data = f.read()
    metadata = header.pop("__metadata__", None)
    sd = {}
    for name, info in header.items():
        dtype = getattr(torch, _ST_DTYPES[info["dtype"]])
        begin, end = info["data_offsets"]
        if end > len(data):
            raise _safetensors_error("MetadataIncompleteBuffer", path)
        shape = list(info["shape"])
        if end == begin:
            tensor = torch.empty(shape, dtype=dtype)
        else:
            tensor = torch.frombuffer(bytearray(data[begin:end]), dtype=dtype).reshape(shape)
        sd[name] = tensor.to(device) if str(device) != "cpu" else tensor
    return sd, metadata


def _write_safetensors(sd, path, metadata=None):
    torch = _torch()
    names = {v: k for k, v in _ST_DTYPES.items()}
    header, blobs, offset = {}, [], 0
    if metadata is not None:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for name in sorted(sd):
        tensor = sd[name]
        if not isinstance(tensor, torch.Tensor):
            raise ValueError(f"Key `{name}` is invalid, expected torch.Tensor but received {type(tensor)}")
        tensor = tensor.detach().to("cpu").contiguous()
        raw = tensor.reshape(-1).view(torch.uint8).numpy().tobytes() if tensor.numel() else b""
        dtype = names[str(tensor.dtype).replace("torch.", "")]
        header[name] = {"dtype": dtype, "shape": list(tensor.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in blobs:
            f.write(raw)


def load_safetensors(path, device="cpu", return_metadata=False):
    """A safetensors file whatever its extension (LoadLatent reads `.latent` files this way)."""
    if _has_safetensors():
        import safetensors
        dev = device if isinstance(device, str) else device.type
        with safetensors.safe_open(path, framework="pt", device=dev) as f:
            sd = {k: f.get_tensor(k) for k in f.keys()}
            metadata = f.metadata()
    else:
        sd, metadata = _read_safetensors(path, device)
    return (sd, metadata) if return_metadata else sd


_SAFE_GLOBALS_ADDED = []


def _allow_checkpoint_globals():
    """Lets weights-only loading accept the few harmless objects old .ckpt files pickle (a
    pytorch_lightning ModelCheckpoint placeholder, numpy scalars and dtypes), as ComfyUI does."""
    if _SAFE_GLOBALS_ADDED:
        return
    _SAFE_GLOBALS_ADDED.append(True)
    torch = _torch()
    if not hasattr(torch.serialization, "add_safe_globals"):
        return
    import codecs

    import numpy as np

    class ModelCheckpoint:
        pass
    ModelCheckpoint.__module__ = "pytorch_lightning.callbacks.model_checkpoint"

    def scalar(*args, **kwargs):
        try:
            from numpy._core.multiarray import scalar as numpy_scalar
        except ImportError:
            from numpy.core.multiarray import scalar as numpy_scalar
        return numpy_scalar(*args, **kwargs)
    scalar.__module__ = "numpy.core.multiarray"

    extra = [ModelCheckpoint, scalar, np.dtype, codecs.encode]
    float64_dtype = getattr(getattr(np, "dtypes", None), "Float64DType", None)
    if float64_dtype is not None:
        extra.append(float64_dtype)
    torch.serialization.add_safe_globals(extra)


def load_torch_file(ckpt, safe_load=False, device=None, return_metadata=False):
    """ComfyUI's checkpoint loader: safetensors files as tensors (plus their metadata with
    return_metadata), other files through torch.load(weights_only=True) with a single
    `state_dict` (or a single wrapped dict) unwrapped."""
    torch = _torch()
    if device is None:
        device = torch.device("cpu")
    metadata = None
    if _is_safetensors_name(ckpt):
        try:
            sd, metadata = load_safetensors(ckpt, device, return_metadata=True)
        except _SafetensorsFileError:
            raise
        except Exception as e:
            better = _safetensors_error(e.args[0] if e.args and isinstance(e.args[0], str) else "", ckpt)
            if better is not None:
                raise better from e
            raise
        if not return_metadata:
            metadata = None
    else:
        _allow_checkpoint_globals()
        pl_sd = torch.load(ckpt, map_location=device, weights_only=True)
        if "state_dict" in pl_sd:
            sd = pl_sd["state_dict"]
        elif len(pl_sd) == 1:
            only = next(iter(pl_sd.values()))
            sd = only if isinstance(only, dict) else pl_sd
        else:
            sd = pl_sd
    return (sd, metadata) if return_metadata else sd


def save_torch_file(sd, ckpt, metadata=None):
    """Writes `sd` as a safetensors file (with string metadata when given)."""
    if _has_safetensors():
        import safetensors.torch
        if metadata is not None:
            safetensors.torch.save_file(sd, ckpt, metadata=metadata)
        else:
            safetensors.torch.save_file(sd, ckpt)
        return
    _write_safetensors(sd, ckpt, metadata)


def safetensors_header(safetensors_path, max_size=100 * 1024 * 1024):
    """The raw JSON header bytes of a safetensors file, or None when it is larger than max_size.
    A file too short for its declared header raises ValueError (struct.error when even the
    8-byte length is missing)."""
    with open(safetensors_path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        if length > max_size:
            return None
        data = f.read(length)
    if len(data) != length:
        raise ValueError(f"truncated safetensors header in {safetensors_path}")
    return data


def calculate_parameters(sd, prefix=""):
    return sum(sd[k].nelement() for k in sd.keys() if k.startswith(prefix))


def weight_dtype(sd, prefix=""):
    """The dtype holding the most elements among keys starting with `prefix` (None if none)."""
    counts = {}
    for k in sd.keys():
        if k.startswith(prefix):
            counts[sd[k].dtype] = counts.get(sd[k].dtype, 0) + sd[k].numel()
    if not counts:
        return None
    return max(counts, key=counts.get)


def state_dict_key_replace(state_dict, keys_to_replace):
    for old in keys_to_replace:
        if old in state_dict:
            state_dict[keys_to_replace[old]] = state_dict.pop(old)
    return state_dict


def state_dict_prefix_replace(state_dict, replace_prefix, filter_keys=False):
    """Renames keys starting with each prefix in `replace_prefix` ({old: new}). In place, unless
    filter_keys: then only the renamed entries are returned (and removed from `state_dict`)."""
    out = {} if filter_keys else state_dict
    for old_prefix, new_prefix in replace_prefix.items():
        matching = [k for k in state_dict.keys() if k.startswith(old_prefix)]
        for k in matching:
            out[new_prefix + k[len(old_prefix):]] = state_dict.pop(k)
    return out


def convert_sd_to(state_dict, dtype):
    for k in list(state_dict.keys()):
        state_dict[k] = state_dict[k].to(dtype)
    return state_dict


# -- attribute paths ----------------------------------------------------------------------------------

def _parent(obj, attr):
    *path, last = attr.split(".")
    for name in path:
        obj = getattr(obj, name)
    return obj, last


def set_attr(obj, attr, value):
    """Sets a dotted attribute path; returns the previous value."""
    owner, name = _parent(obj, attr)
    previous = getattr(owner, name)
    setattr(owner, name, value)
    return previous


def set_attr_param(obj, attr, value):
    torch = _torch()
    return set_attr(obj, attr, torch.nn.Parameter(value, requires_grad=False))


def copy_to_param(obj, attr, value):
    """Copies `value` into the existing tensor at a dotted path (in place)."""
    owner, name = _parent(obj, attr)
    getattr(owner, name).data.copy_(value)


def get_attr(obj, attr):
    for name in attr.split("."):
        obj = getattr(obj, name)
    return obj


# -- batches ------------------------------------------------------------------------------------------

def repeat_to_batch_size(tensor, batch_size, dim=0):
    """Cuts or tiles `tensor` along `dim` to exactly batch_size entries."""
    have = tensor.shape[dim]
    if have > batch_size:
        return tensor.narrow(dim, 0, batch_size)
    if have < batch_size:
        reps = [1] * tensor.dim()
        reps[dim] = math.ceil(batch_size / have)
        return tensor.repeat(reps).narrow(dim, 0, batch_size)
    return tensor


def _batch_indices(in_size, out_size):
    if out_size < in_size:
        scale = (in_size - 1) / (out_size - 1)
        return [min(round(i * scale), in_size - 1) for i in range(out_size)]
    scale = in_size / out_size
    return [min(math.floor((i + 0.5) * scale), in_size - 1) for i in range(out_size)]


def resize_to_batch_size(tensor, batch_size):
    """Resamples the batch to batch_size entries (evenly spaced picks, nearest neighbour)."""
    torch = _torch()
    have = tensor.shape[0]
    if have == batch_size:
        return tensor
    if batch_size <= 1:
        return tensor[:batch_size]
    out = torch.empty([batch_size] + list(tensor.shape)[1:], dtype=tensor.dtype, device=tensor.device)
    for i, src in enumerate(_batch_indices(have, batch_size)):
        out[i] = tensor[src]
    return out


def resize_list_to_batch_size(items, batch_size):
    have = len(items)
    if have == batch_size or have == 0:
        return items
    if batch_size <= 1:
        return items[:batch_size]
    return [items[src] for src in _batch_indices(have, batch_size)]


# -- scaling ------------------------------------------------------------------------------------------

def _slerp_rows(a, b, ratio):
    """Spherical interpolation between the rows of a and b ([N, C]) by ratio ([N, 1]), with the
    magnitude interpolated linearly (ComfyUI's bislerp kernel, including its edge cases)."""
    channels = a.shape[-1]
    a_norm = a.norm(dim=-1, keepdim=True)
    b_norm = b.norm(dim=-1, keepdim=True)
    a_unit = a / a_norm
    b_unit = b / b_norm
    a_unit[a_norm.expand(-1, channels) == 0.0] = 0.0
    b_unit[b_norm.expand(-1, channels) == 0.0] = 0.0
    dot = (a_unit * b_unit).sum(1)
    omega = dot.acos()
    sin_omega = omega.sin()
    r = ratio.squeeze(1)
    out = ((1.0 - r) * omega).sin().div(sin_omega).unsqueeze(1) * a_unit \
        + (r * omega).sin().div(sin_omega).unsqueeze(1) * b_unit
    out *= (a_norm * (1.0 - ratio) + b_norm * ratio).expand(-1, channels)
    same = dot > 1 - 1e-5
    out[same] = a[same]
    opposite = dot < 1e-5 - 1
    out[opposite] = (a * (1.0 - ratio) + b * ratio)[opposite]
    return out


def _bilinear_taps(old, new, device):
    """For each of `new` output positions along an axis of length `old`: the fractional weight,
    the left source index and the right source index (the last one clamped)."""
    torch = _torch()
    grid = torch.arange(old, dtype=torch.float32, device=device).reshape((1, 1, 1, -1))
    left = torch.nn.functional.interpolate(grid, size=(1, new), mode="bilinear")
    weight = left - left.floor()
    shifted = torch.arange(old, dtype=torch.float32, device=device).reshape((1, 1, 1, -1)) + 1
    shifted[:, :, :, -1] -= 1
    right = torch.nn.functional.interpolate(shifted, size=(1, new), mode="bilinear")
    return weight, left.to(torch.int64), right.to(torch.int64)


def bislerp(samples, width, height):
    """Resizes NCHW `samples` with separable spherical-linear interpolation of channel vectors."""
    dtype = samples.dtype
    x = samples.float()
    n, c, h, w = x.shape

    weight, left, right = _bilinear_taps(w, width, x.device)
    left = left.expand((n, c, h, -1))
    right = right.expand((n, c, h, -1))
    weight = weight.expand((n, 1, h, -1))
    rows = _slerp_rows(x.gather(-1, left).movedim(1, -1).reshape((-1, c)),
                       x.gather(-1, right).movedim(1, -1).reshape((-1, c)),
                       weight.movedim(1, -1).reshape((-1, 1)))
    x = rows.reshape(n, h, width, c).movedim(-1, 1)

    weight, left, right = _bilinear_taps(h, height, x.device)
    left = left.reshape((1, 1, -1, 1)).expand((n, c, -1, width))
    right = right.reshape((1, 1, -1, 1)).expand((n, c, -1, width))
    weight = weight.reshape((1, 1, -1, 1)).expand((n, 1, -1, width))
    rows = _slerp_rows(x.gather(-2, left).movedim(1, -1).reshape((-1, c)),
                       x.gather(-2, right).movedim(1, -1).reshape((-1, c)),
                       weight.movedim(1, -1).reshape((-1, 1)))
    return rows.reshape(n, height, width, c).movedim(-1, 1).to(dtype)


def lanczos(samples, width, height):
    """Resizes NCHW images in [0, 1] with Pillow's Lanczos filter (through 8-bit pixels, as ComfyUI)."""
    import numpy as np
    from PIL import Image
    torch = _torch()
    out = []
    for image in samples:
        pixels = np.clip(255. * image.movedim(0, -1).cpu().numpy(), 0, 255).astype(np.uint8)
        resized = Image.fromarray(pixels).resize((width, height), resample=Image.Resampling.LANCZOS)
        out.append(torch.from_numpy(np.array(resized).astype(np.float32) / 255.0).movedim(-1, 0))
    return torch.stack(out).to(samples.device, samples.dtype)


def common_upscale(samples, width, height, upscale_method, crop):
    """Resizes [N, C, H, W] (or [N, C, ..., H, W]) samples to height x width. crop "center"
    first cuts the source to the target aspect ratio; methods: nearest-exact, bilinear, area,
    bicubic (torch.nn.functional.interpolate), bislerp, lanczos."""
    torch = _torch()
    orig_shape = tuple(samples.shape)
    if len(orig_shape) > 4:
        samples = samples.reshape(orig_shape[0], orig_shape[1], -1, orig_shape[-2], orig_shape[-1])
        samples = samples.movedim(2, 1).reshape(-1, orig_shape[1], orig_shape[-2], orig_shape[-1])
    if crop == "center":
        old_w, old_h = samples.shape[-1], samples.shape[-2]
        old_aspect, new_aspect = old_w / old_h, width / height
        x = y = 0
        if old_aspect > new_aspect:
            x = round((old_w - old_w * (new_aspect / old_aspect)) / 2)
        elif old_aspect < new_aspect:
            y = round((old_h - old_h * (old_aspect / new_aspect)) / 2)
        src = samples.narrow(-2, y, old_h - y * 2).narrow(-1, x, old_w - x * 2)
    else:
        src = samples
    if upscale_method == "bislerp":
        out = bislerp(src, width, height)
    elif upscale_method == "lanczos":
        out = lanczos(src, width, height)
    else:
        out = torch.nn.functional.interpolate(src, size=(height, width), mode=upscale_method)
    if len(orig_shape) == 4:
        return out
    out = out.reshape((orig_shape[0], -1, orig_shape[1]) + (height, width))
    return out.movedim(2, 1).reshape(orig_shape[:-2] + (height, width))


def get_tiled_scale_steps(width, height, tile_x, tile_y, overlap):
    rows = 1 if height <= tile_y else math.ceil((height - overlap) / (tile_y - overlap))
    cols = 1 if width <= tile_x else math.ceil((width - overlap) / (tile_x - overlap))
    return rows * cols


def _per_dim(value, dims):
    return list(value) if isinstance(value, (tuple, list)) else [value] * dims


def tiled_scale_multidim(samples, function, tile=(64, 64), overlap=8, upscale_amount=4, out_channels=3,
                         output_device="cpu", downscale=False, index_formulas=None, pbar=None):
    """Applies `function` (a resampling model) to overlapping tiles of each sample and blends the
    results with linear feathering over the overlaps. upscale_amount / index_formulas: a factor or a
    callable per spatial dimension (sizes and tile positions); downscale divides instead."""
    torch = _torch()
    dims = len(tile)
    scales = _per_dim(upscale_amount, dims)
    overlap = _per_dim(overlap, dims)
    positions_scale = scales if index_formulas is None else _per_dim(index_formulas, dims)

    def apply(factors, d, value):
        f = factors[d]
        if callable(f):
            return f(value)
        return value / f if downscale else f * value

    def out_sizes(shape):
        return [round(apply(scales, d, shape[d])) for d in range(dims)]

    with torch.inference_mode():
        output = torch.empty([samples.shape[0], out_channels] + out_sizes(samples.shape[2:]), device=output_device)
        for b in range(samples.shape[0]):
            s = samples[b:b + 1]
            if all(s.shape[d + 2] <= tile[d] for d in range(dims)):
                output[b:b + 1] = function(s).to(output_device)
                if pbar is not None:
                    pbar.update(1)
                continue
            acc = torch.zeros([s.shape[0], out_channels] + out_sizes(s.shape[2:]), device=output_device)
            weight = torch.zeros_like(acc)
            starts = [range(0, s.shape[d + 2] - overlap[d], tile[d] - overlap[d]) if s.shape[d + 2] > tile[d] else [0]
                      for d in range(dims)]
            for corner in itertools.product(*starts):
                piece = s
                dest = []
                for d in range(dims):
                    pos = max(0, min(s.shape[d + 2] - overlap[d], corner[d]))
                    piece = piece.narrow(d + 2, pos, min(tile[d], s.shape[d + 2] - pos))
                    dest.append(round(apply(positions_scale, d, pos)))
                result = function(piece).to(output_device)
                mask = torch.ones_like(result)
                for d in range(2, dims + 2):
                    feather = round(apply(scales, d - 2, overlap[d - 2]))
                    if feather >= mask.shape[d]:
                        continue
                    for t in range(feather):
                        a = (t + 1) / feather
                        mask.narrow(d, t, 1).mul_(a)
                        mask.narrow(d, mask.shape[d] - 1 - t, 1).mul_(a)
                acc_view, weight_view = acc, weight
                for d in range(dims):
                    acc_view = acc_view.narrow(d + 2, dest[d], mask.shape[d + 2])
                    weight_view = weight_view.narrow(d + 2, dest[d], mask.shape[d + 2])
                acc_view.add_(result * mask)
                weight_view.add_(mask)
                if pbar is not None:
                    pbar.update(1)
            output[b:b + 1] = acc / weight
    return output


def tiled_scale(samples, function, tile_x=64, tile_y=64, overlap=8, upscale_amount=4, out_channels=3,
                output_device="cpu", pbar=None):
    return tiled_scale_multidim(samples, function, (tile_y, tile_x), overlap=overlap, upscale_amount=upscale_amount,
                                out_channels=out_channels, output_device=output_device, pbar=pbar)


def reshape_mask(input_mask, output_shape):
    """Resizes a mask to output_shape ([B, C, (T,) H, W]): interpolated spatially, channels
    repeated, batch cut or tiled."""
    torch = _torch()
    dims = len(output_shape) - 2
    if dims == 1:
        mode = "linear"
    elif dims == 2:
        input_mask = input_mask.reshape((-1, 1, input_mask.shape[-2], input_mask.shape[-1]))
        mode = "bilinear"
    elif dims == 3:
        if len(input_mask.shape) < 5:
            input_mask = input_mask.reshape((1, 1, -1, input_mask.shape[-2], input_mask.shape[-1]))
        mode = "trilinear"
    else:
        raise ValueError(f"reshape_mask: unsupported output shape {tuple(output_shape)}")
    mask = torch.nn.functional.interpolate(input_mask, size=tuple(output_shape[2:]), mode=mode)
    if mask.shape[1] < output_shape[1]:
        mask = mask.repeat((1, output_shape[1]) + (1,) * dims)[:, :output_shape[1]]
    return repeat_to_batch_size(mask, output_shape[0])


