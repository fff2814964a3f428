"""ComfyUI 0.3.64's model-free image and mask nodes from `comfy_extras`: ImageBlend
(nodes_post_processing.py, a V3 node in 0.3.64), the mask and compositing nodes of nodes_mask.py and
ImageCrop (nodes_images.py), both V1 modules in 0.3.64. Node ids, inputs, defaults, categories,
display names, python_module and results are ComfyUI's.

Each node's arithmetic lives in a module-level function that takes and returns tensors (plus the
widget values); the node classes only unpack their inputs and call it. Those functions are the
reference for native kernels: they reproduce ComfyUI bit for bit on float32 input, including its
quirks (see FeatherMask's right/bottom edges and MaskComposite's rounding of logical operands), so
a native replacement can be checked against them with exact comparisons.
"""
import torch
import torch.nn.functional as F

import comfy._compat.comfy_api  # noqa: F401  (registers the public `comfy_api` name)
import comfy.utils
from comfy._compat import node_helpers
from comfy_api.latest import io

MAX_RESOLUTION = 16384


# ---- reference kernels ------------------------------------------------------------------------

def composite(destination, source, x, y, mask=None, multiplier=8, resize_source=False):
    """Pastes `source` [B, C, (T,) H, W] into `destination` (same layout; written in place and
    returned) at pixel (x, y), with `x // multiplier`, `y // multiplier` as the element offset (8 for
    latents, 1 for images). The source is optionally resized bilinearly to the destination's size,
    then cut or tiled to the destination's batch. The optional mask ([H, W] or [B, H, W], any size)
    is resized bilinearly to the source and weights source against destination."""
    source = source.to(destination.device)
    if resize_source:
        source = F.interpolate(source, size=(destination.shape[-2], destination.shape[-1]), mode="bilinear")
    source = comfy.utils.repeat_to_batch_size(source, destination.shape[0])

    src_h, src_w = source.shape[-2], source.shape[-1]
    dst_h, dst_w = destination.shape[-2], destination.shape[-1]
    # Offsets are clamped to [-source size, destination size] in pixels, then floored to elements.
    x = max(-src_w * multiplier, min(x, dst_w * multiplier))
    y = max(-src_h * multiplier, min(y, dst_h * multiplier))
    left, top = x // multiplier, y // multiplier
    right, bottom = left + src_w, top + src_h

    if mask is None:
        mask = torch.ones_like(source)
    else:
        mask = mask.to(destination.device, copy=True)
        mask = mask.reshape((-1, 1, mask.shape[-2], mask.shape[-1]))
        mask = F.interpolate(mask, size=(src_h, src_w), mode="bilinear")
        mask = comfy.utils.repeat_to_batch_size(mask, source.shape[0])

    # Only the part of the source that lands inside the destination is used.
    visible_w = dst_w - left + min(0, x)
    visible_h = dst_h - top + min(0, y)
    mask = mask[:, :, :visible_h, :visible_w]
    if mask.ndim < source.ndim:  # video latents [B, C, T, H, W]: one mask for every frame
        mask = mask.unsqueeze(1)
    keep = torch.ones_like(mask) - mask
    pasted = mask * source[..., :visible_h, :visible_w]
    kept = keep * destination[..., top:bottom, left:right]
    destination[..., top:bottom, left:right] = pasted + kept
    return destination


def image_composite_masked(destination, source, x, y, resize_source=False, mask=None):
    """ImageCompositeMasked: IMAGEs [B, H, W, C]; an RGB/RGBA mismatch is resolved first (the source
    drops its alpha, or the destination gains an opaque one)."""
    destination, source = node_helpers.image_alpha_fix(destination, source)
    destination = destination.clone().movedim(-1, 1)
    return composite(destination, source.movedim(-1, 1), x, y, mask, 1, resize_source).movedim(1, -1)


def latent_composite_masked(destination, source, x, y, resize_source=False, mask=None):
    """LatentCompositeMasked: LATENT dicts in, a copy of `destination` with new samples out."""
    output = destination.copy()
    samples = destination["samples"].clone()
    output["samples"] = composite(samples, source["samples"], x, y, mask, 8, resize_source)
    return output


def mask_to_image(mask):
    """MASK [H, W] or [B, H, W] -> IMAGE [B, H, W, 3] (a broadcast view, as in ComfyUI)."""
    return mask.reshape((-1, 1, mask.shape[-2], mask.shape[-1])).movedim(1, -1).expand(-1, -1, -1, 3)


IMAGE_TO_MASK_CHANNELS = ["red", "green", "blue", "alpha"]


def image_to_mask(image, channel):
    """One channel of IMAGE [B, H, W, C] as MASK [B, H, W] (alpha needs an RGBA image)."""
    return image[:, :, :, IMAGE_TO_MASK_CHANNELS.index(channel)]


def image_color_to_mask(image, color):
    """1.0 where the pixel's 8-bit RGB (clamped, x255, rounded half to even) equals 0xRRGGBB `color`."""
    levels = (torch.clamp(image, 0, 1.0) * 255.0).round().to(torch.int)
    packed = (torch.bitwise_left_shift(levels[:, :, :, 0], 16)
              + torch.bitwise_left_shift(levels[:, :, :, 1], 8) + levels[:, :, :, 2])
    return torch.where(packed == color, 1.0, 0).float()


def solid_mask(value, width, height):
    return torch.full((1, height, width), value, dtype=torch.float32, device="cpu")


def invert_mask(mask):
    return 1.0 - mask


def crop_mask(mask, x, y, width, height):
    mask = mask.reshape((-1, mask.shape[-2], mask.shape[-1]))
    return mask[:, y:y + height, x:x + width]


MASK_COMPOSITE_OPERATIONS = ["multiply", "add", "subtract", "and", "or", "xor"]


def mask_composite(destination, source, x, y, operation):
    """MaskComposite: combines `source` into `destination` at (x, y) over the overlap, then clamps
    the whole result to [0, 1]. The logical operations round both operands (half to even) first."""
    output = destination.reshape((-1, destination.shape[-2], destination.shape[-1])).clone()
    source = source.reshape((-1, source.shape[-2], source.shape[-1])).to(output.device)
    right = min(x + source.shape[-1], destination.shape[-1])
    bottom = min(y + source.shape[-2], destination.shape[-2])
    src = source[:, :bottom - y, :right - x]
    dst = output[:, y:bottom, x:right]
    if operation == "multiply":
        result = dst * src
    elif operation == "add":
        result = dst + src
    elif operation == "subtract":
        result = dst - src
    elif operation in ("and", "or", "xor"):
        logical = {"and": torch.bitwise_and, "or": torch.bitwise_or, "xor": torch.bitwise_xor}[operation]
        result = logical(dst.round().bool(), src.round().bool()).float()
    else:
        result = None  # unknown operation: the overlap is left as it is (ComfyUI does the same)
    if result is not None:
        output[:, y:bottom, x:right] = result
    return torch.clamp(output, 0.0, 1.0)


def _edge_weights(length, count, from_end):
    """Per-index factors of one feather loop (1.0 elsewhere). ComfyUI 0.3.64 ramps the far edges
    with index -i for i in 0..count-1: index 0 (the near edge) gets 1/count and the last index
    2/count, while the ramp's full-strength end sits at -(count-1)."""
    weights = [1.0] * length
    for i in range(count):
        weights[-i if from_end else i] = (i + 1) / count
    return weights


def _scale_along(t, weights, dim):
    """t * weights along `dim`, rounded as PyTorch's in-place `t[..] *= python_float` is: the factor
    is cast to the op-math type (float32 for float32/float16/bfloat16 tensors), the product is
    computed there and rounded to t's dtype."""
    math_dtype = torch.float64 if t.dtype == torch.float64 else torch.float32
    w = torch.tensor(weights, dtype=math_dtype, device=t.device)
    shape = [1] * t.ndim
    shape[dim] = -1
    return (t.to(math_dtype) * w.reshape(shape)).to(t.dtype)


def feather_mask(mask, left, top, right, bottom):
    """FeatherMask, ComfyUI 0.3.64 arithmetic: linear ramps (i + 1) / n over the first `left`
    columns and `top` rows, and over the last `right` columns and `bottom` rows with 0.3.64's index
    formula (see _edge_weights). Factors apply in ComfyUI's order (left, right, top, bottom), each
    product rounded to float32, so corners match bit for bit."""
    output = mask.reshape((-1, mask.shape[-2], mask.shape[-1])).clone()
    height, width = output.shape[-2], output.shape[-1]
    left, right = min(left, width), min(right, width)
    top, bottom = min(top, height), min(bottom, height)
    if left:
        output = _scale_along(output, _edge_weights(width, left, False), 2)
    if right:
        output = _scale_along(output, _edge_weights(width, right, True), 2)
    if top:
        output = _scale_along(output, _edge_weights(height, top, False), 1)
    if bottom:
        output = _scale_along(output, _edge_weights(height, bottom, True), 1)
    return output


def _dilate(m, tapered_corners):
    """One grey dilation of [B, H, W] with a 3x3 footprint (a cross when tapered_corners, else the
    full square). Out-of-range neighbours are ignored, which for a 3x3 max is what scipy's default
    'reflect' mode gives (the reflected neighbour is always another in-range neighbour)."""
    if not tapered_corners:
        return F.max_pool2d(m.unsqueeze(1), kernel_size=3, stride=1, padding=1).squeeze(1)
    p = F.pad(m, (1, 1, 1, 1), value=float("-inf"))
    out = torch.maximum(p[:, 1:-1, 1:-1], p[:, :-2, 1:-1])
    out = torch.maximum(out, p[:, 2:, 1:-1])
    out = torch.maximum(out, p[:, 1:-1, :-2])
    return torch.maximum(out, p[:, 1:-1, 2:])


def _erode(m, tapered_corners):
    if not tapered_corners:
        return -F.max_pool2d(-m.unsqueeze(1), kernel_size=3, stride=1, padding=1).squeeze(1)
    p = F.pad(m, (1, 1, 1, 1), value=float("inf"))
    out = torch.minimum(p[:, 1:-1, 1:-1], p[:, :-2, 1:-1])
    out = torch.minimum(out, p[:, 2:, 1:-1])
    out = torch.minimum(out, p[:, 1:-1, :-2])
    return torch.minimum(out, p[:, 1:-1, 2:])


def grow_mask(mask, expand, tapered_corners=True):
    """GrowMask: |expand| grey dilations (expand > 0) or erosions (expand < 0), as ComfyUI's
    scipy.ndimage.grey_dilation / grey_erosion loop. Returns [B, H, W]."""
    output = mask.reshape((-1, mask.shape[-2], mask.shape[-1])).clone()
    step = _erode if expand < 0 else _dilate
    for _ in range(abs(expand)):
        output = step(output, tapered_corners)
    return output


def threshold_mask(mask, value):
    return (mask > value).float()


def image_crop(image, width, height, x, y):
    """ImageCrop: the offset is clamped so that at least one pixel remains; the size is not."""
    x = min(x, image.shape[2] - 1)
    y = min(y, image.shape[1] - 1)
    return image[:, y:y + height, x:x + width, :]


BLEND_MODES = ["normal", "multiply", "screen", "overlay", "soft_light", "difference"]


def _soft_light_g(x):
    return torch.where(x <= 0.25, ((16 * x - 12) * x + 4) * x, torch.sqrt(x))


def blend_mode(img1, img2, mode):
    if mode == "normal":
        return img2
    if mode == "multiply":
        return img1 * img2
    if mode == "screen":
        return 1 - (1 - img1) * (1 - img2)
    if mode == "overlay":
        return torch.where(img1 <= 0.5, 2 * img1 * img2, 1 - 2 * (1 - img1) * (1 - img2))
    if mode == "soft_light":
        return torch.where(img2 <= 0.5, img1 - (1 - 2 * img2) * img1 * (1 - img1),
                           img1 + (2 * img2 - 1) * (_soft_light_g(img1) - img1))
    if mode == "difference":
        return img1 - img2
    raise ValueError(f"Unsupported blend mode: {mode}")


def blend_images(image1, image2, blend_factor, blend_mode_name):
    """ImageBlend: image1 * (1 - f) + mode(image1, image2) * f, clamped to [0, 1]. An image2 of
    another shape is first resized (bicubic, centre crop) to image1's height and width."""
    image1, image2 = node_helpers.image_alpha_fix(image1, image2)
    image2 = image2.to(image1.device)
    if image1.shape != image2.shape:
        image2 = image2.permute(0, 3, 1, 2)
        image2 = comfy.utils.common_upscale(image2, image1.shape[2], image1.shape[1],
                                            upscale_method="bicubic", crop="center")
        image2 = image2.permute(0, 2, 3, 1)
    blended = blend_mode(image1, image2, blend_mode_name)
    blended = image1 * (1 - blend_factor) + blended * blend_factor
    return torch.clamp(blended, 0, 1)


# ---- comfy_extras/nodes_post_processing.py (V3 in 0.3.64) --------------------------------------

class Blend(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return io.Schema(
            node_id="ImageBlend",
            category="image/postprocessing",
            inputs=[
                io.Image.Input("image1"),
                io.Image.Input("image2"),
                io.Float.Input("blend_factor", default=0.5, min=0.0, max=1.0, step=0.01),
                io.Combo.Input("blend_mode", options=list(BLEND_MODES)),
            ],
            outputs=[io.Image.Output()],
        )

    @classmethod
    def execute(cls, image1, image2, blend_factor, blend_mode) -> io.NodeOutput:
        return io.NodeOutput(blend_images(image1, image2, blend_factor, blend_mode))

    @classmethod
    def blend_mode(cls, img1, img2, mode):
        return blend_mode(img1, img2, mode)

    @classmethod
    def g(cls, x):
        return _soft_light_g(x)


# ---- comfy_extras/nodes_mask.py (V1 in 0.3.64) -------------------------------------------------

def _int(default, lo, hi, step=1):
    return ("INT", {"default": default, "min": lo, "max": hi, "step": step})


class LatentCompositeMasked:
    @classmethod
    def INPUT_TYPES(s):
        return {
            "required": {
                "destination": ("LATENT",),
                "source": ("LATENT",),
                "x": _int(0, 0, MAX_RESOLUTION, 8),
                "y": _int(0, 0, MAX_RESOLUTION, 8),
                "resize_source": ("BOOLEAN", {"default": False}),
            },
            "optional": {"mask": ("MASK",)},
        }

    RETURN_TYPES = ("LATENT",)
    FUNCTION = "composite"
    CATEGORY = "latent"

    def composite(self, destination, source, x, y, resize_source, mask=None):
        return (latent_composite_masked(destination, source, x, y, resize_source, mask),)


class ImageCompositeMasked:
    @classmethod
    def INPUT_TYPES(s):
        return {
            "required": {
                "destination": ("IMAGE",),
                "source": ("IMAGE",),
                "x": _int(0, 0, MAX_RESOLUTION),
                "y": _int(0, 0, MAX_RESOLUTION),
                "resize_source": ("BOOLEAN", {"default": False}),
            },
            "optional": {"mask": ("MASK",)},
        }

    RETURN_TYPES = ("IMAGE",)
    FUNCTION = "composite"
    CATEGORY = "image"

    def composite(self, destination, source, x, y, resize_source, mask=None):
        return (image_composite_masked(destination, source, x, y, resize_source, mask),)


class MaskToImage:
    @classmethod
    def INPUT_TYPES(s):
        return {"required": {"mask": ("MASK",)}}

    CATEGORY = "mask"
    RETURN_TYPES = ("IMAGE",)
    FUNCTION = "mask_to_image"

    def mask_to_image(self, mask):
        return (mask_to_image(mask),)


class ImageToMask:
    @classmethod
    def INPUT_TYPES(s):
        return {"required": {"image": ("IMAGE",), "channel": (list(IMAGE_TO_MASK_CHANNELS),)}}

    CATEGORY = "mask"
    RETURN_TYPES = ("MASK",)
    FUNCTION = "image_to_mask"

    def image_to_mask(self, image, channel):
        return (image_to_mask(image, channel),)


class ImageColorToMask:
    @classmethod
    def INPUT_TYPES(s):
        return {"required": {
            "image": ("IMAGE",),
            "color": ("INT", {"default": 0, "min": 0, "max": 0xFFFFFF, "step": 1, "display": "color"}),
        }}

    CATEGORY = "mask"
    RETURN_TYPES = ("MASK",)
    FUNCTION = "image_to_mask"

    def image_to_mask(self, image, color):
        return (image_color_to_mask(image, color),)


class SolidMask:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "value": ("FLOAT", {"default": 1.0, "min": 0.0, "max": 1.0, "step": 0.01}),
            "width": _int(512, 1, MAX_RESOLUTION),
            "height": _int(512, 1, MAX_RESOLUTION),
        }}

    CATEGORY = "mask"
    RETURN_TYPES = ("MASK",)
    FUNCTION = "solid"

    def solid(self, value, width, height):
        return (solid_mask(value, width, height),)


class InvertMask:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"mask": ("MASK",)}}

    CATEGORY = "mask"
    RETURN_TYPES = ("MASK",)
    FUNCTION = "invert"

    def invert(self, mask):
        return (invert_mask(mask),)


class CropMask:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "mask": ("MASK",),
            "x": _int(0, 0, MAX_RESOLUTION),
            "y": _int(0, 0, MAX_RESOLUTION),
            "width": _int(512, 1, MAX_RESOLUTION),
            "height": _int(512, 1, MAX_RESOLUTION),
        }}

    CATEGORY = "mask"
    RETURN_TYPES = ("MASK",)
    FUNCTION = "crop"

    def crop(self, mask, x, y, width, height):
        return (crop_mask(mask, x, y, width, height),)


class MaskComposite:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "destination": ("MASK",),
            "source": ("MASK",),
            "x": _int(0, 0, MAX_RESOLUTION),
            "y": _int(0, 0, MAX_RESOLUTION),
            "operation": (list(MASK_COMPOSITE_OPERATIONS),),
        }}

    CATEGORY = "mask"
    RETURN_TYPES = ("MASK",)
    FUNCTION = "combine"

    def combine(self, destination, source, x, y, operation):
        return (mask_composite(destination, source, x, y, operation),)


class FeatherMask:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "mask": ("MASK",),
            "left": _int(0, 0, MAX_RESOLUTION),
            "top": _int(0, 0, MAX_RESOLUTION),
            "right": _int(0, 0, MAX_RESOLUTION),
            "bottom": _int(0, 0, MAX_RESOLUTION),
        }}

    CATEGORY = "mask"
    RETURN_TYPES = ("MASK",)
    FUNCTION = "feather"

    def feather(self, mask, left, top, right, bottom):
        return (feather_mask(mask, left, top, right, bottom),)


class GrowMask:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "mask": ("MASK",),
            "expand": _int(0, -MAX_RESOLUTION, MAX_RESOLUTION),
            "tapered_corners": ("BOOLEAN", {"default": True}),
        }}

    CATEGORY = "mask"
    RETURN_TYPES = ("MASK",)
    FUNCTION = "expand_mask"

    def expand_mask(self, mask, expand, tapered_corners):
        return (grow_mask(mask, expand, tapered_corners),)


class ThresholdMask:
    @classmethod
    def INPUT_TYPES(s):
        return {"required": {
            "mask": ("MASK",),
            "value": ("FLOAT", {"default": 0.5, "min": 0.0, "max": 1.0, "step": 0.01}),
        }}

    CATEGORY = "mask"
    RETURN_TYPES = ("MASK",)
    FUNCTION = "image_to_mask"

    def image_to_mask(self, mask, value):
        return (threshold_mask(mask, value),)


# ---- comfy_extras/nodes_images.py (V1 in 0.3.64) -----------------------------------------------

class ImageCrop:
    @classmethod
    def INPUT_TYPES(s):
        return {"required": {
            "image": ("IMAGE",),
            "width": _int(512, 1, MAX_RESOLUTION),
            "height": _int(512, 1, MAX_RESOLUTION),
            "x": _int(0, 0, MAX_RESOLUTION),
            "y": _int(0, 0, MAX_RESOLUTION),
        }}

    RETURN_TYPES = ("IMAGE",)
    FUNCTION = "crop"
    CATEGORY = "image/transform"

    def crop(self, image, width, height, x, y):
        return (image_crop(image, width, height, x, y),)


# ---- registration ------------------------------------------------------------------------------

# (python_module, node id, class) in the order ComfyUI 0.3.64 loads them.
_NODES = [
    ("comfy_extras.nodes_post_processing", "ImageBlend", Blend),
    ("comfy_extras.nodes_mask", "LatentCompositeMasked", LatentCompositeMasked),
    ("comfy_extras.nodes_mask", "ImageCompositeMasked", ImageCompositeMasked),
    ("comfy_extras.nodes_mask", "MaskToImage", MaskToImage),
    ("comfy_extras.nodes_mask", "ImageToMask", ImageToMask),
    ("comfy_extras.nodes_mask", "ImageColorToMask", ImageColorToMask),
    ("comfy_extras.nodes_mask", "SolidMask", SolidMask),
    ("comfy_extras.nodes_mask", "InvertMask", InvertMask),
    ("comfy_extras.nodes_mask", "CropMask", CropMask),
    ("comfy_extras.nodes_mask", "MaskComposite", MaskComposite),
    ("comfy_extras.nodes_mask", "FeatherMask", FeatherMask),
    ("comfy_extras.nodes_mask", "GrowMask", GrowMask),
    ("comfy_extras.nodes_mask", "ThresholdMask", ThresholdMask),
    ("comfy_extras.nodes_images", "ImageCrop", ImageCrop),
]

NODE_CLASS_MAPPINGS = {}
for _module, _name, _cls in _NODES:
    _cls.RELATIVE_PYTHON_MODULE = _module
    NODE_CLASS_MAPPINGS[_name] = _cls
del _module, _name, _cls

# nodes_mask.py's NODE_DISPLAY_NAME_MAPPINGS; the others have none in 0.3.64 (ImageBlend's V3 schema
# has no display_name either, so /object_info reports null for it, as ComfyUI does).
NODE_DISPLAY_NAME_MAPPINGS = {
    "ImageToMask": "Convert Image to Mask",
    "MaskToImage": "Convert Mask to Image",
}
