"""Native (libtorch) bodies for ComfyUI's image, mask and latent nodes.

`install(mappings)` swaps the FUNCTION (V1) or `execute` (V3) of 28 built-in node classes for a
wrapper around `comfy._kernels` (cpp/kernels): the same names, inputs, defaults and results, the
tensor work in C++ with the GIL released, on whatever device the tensors are on. The class keeps
its Python body as the reference (`reference(name)`), used by the tests and as the fallback for
what the kernels do not cover (the lanczos and bislerp resamplers, which go through Pillow or
spherical interpolation in Python). Packs that subclass these nodes inherit the native bodies.

Set COMFY_NATIVE_NODES=0 (or pass --disable-native-nodes) to run the Python bodies instead.
"""
import logging
import os

try:
    import torch  # noqa: F401  (loads libtorch before the extension that links it)
    from comfy import _kernels as K
except ImportError as e:  # a build without torch at configure time, or a broken torch
    K = None
    _IMPORT_ERROR = e

_REFERENCE = {}


def available():
    return K is not None


def reference(name):
    """The Python body a native one replaced (a plain function taking self or cls first)."""
    return _REFERENCE[name]


def _latent(samples, tensor, **extra):
    s = samples.copy()
    s["samples"] = tensor
    s.update(extra)
    return (s,)


# ---- image nodes (nodes.py) ----------------------------------------------------------------------

def _image_scale(self, image, upscale_method, width, height, crop):
    if not K.upscale_method_is_native(upscale_method):
        return _REFERENCE["ImageScale"](self, image, upscale_method, width, height, crop)
    return (K.image_scale(image, upscale_method, width, height, crop),)


def _image_scale_by(self, image, upscale_method, scale_by):
    if not K.upscale_method_is_native(upscale_method):
        return _REFERENCE["ImageScaleBy"](self, image, upscale_method, scale_by)
    return (K.image_scale_by(image, upscale_method, scale_by),)


def _image_invert(self, image):
    return (K.image_invert(image),)


def _image_pad_for_outpaint(self, image, left, top, right, bottom, feathering):
    return K.image_pad_for_outpaint(image, left, top, right, bottom, feathering)


def _image_batch(self, image1, image2):
    return (K.image_batch(image1, image2),)


def _empty_image(self, width, height, batch_size=1, color=0):
    return (K.empty_image(width, height, batch_size, color),)


# ---- comfy_extras image and mask nodes ----------------------------------------------------------

def _image_blend(cls, image1, image2, blend_factor, blend_mode):
    from comfy_api.latest import io
    return io.NodeOutput(K.image_blend(image1, image2, blend_factor, blend_mode))


def _image_composite_masked(self, destination, source, x, y, resize_source, mask=None):
    return (K.image_composite_masked(destination, source, x, y, resize_source, mask),)


def _image_crop(self, image, width, height, x, y):
    return (K.image_crop(image, width, height, x, y),)


def _solid_mask(self, value, width, height):
    return (K.solid_mask(value, width, height),)


def _invert_mask(self, mask):
    return (K.invert_mask(mask),)


def _mask_to_image(self, mask):
    return (K.mask_to_image(mask),)


def _image_to_mask(self, image, channel):
    return (K.image_to_mask(image, channel),)


def _grow_mask(self, mask, expand, tapered_corners):
    return (K.grow_mask(mask, expand, tapered_corners),)


def _threshold_mask(self, mask, value):
    return (K.threshold_mask(mask, value),)


def _mask_composite(self, destination, source, x, y, operation):
    return (K.mask_composite(destination, source, x, y, operation),)


def _crop_mask(self, mask, x, y, width, height):
    return (K.crop_mask(mask, x, y, width, height),)


def _feather_mask(self, mask, left, top, right, bottom):
    return (K.feather_mask(mask, left, top, right, bottom),)


# ---- latent nodes (nodes.py) -----------------------------------------------------------------------

def _empty_latent_image(self, width, height, batch_size=1):
    return ({"samples": K.empty_latent_image(width, height, batch_size).to(self.device)},)


def _latent_upscale(self, samples, upscale_method, width, height, crop):
    if not K.upscale_method_is_native(upscale_method):
        return _REFERENCE["LatentUpscale"](self, samples, upscale_method, width, height, crop)
    if width == 0 and height == 0:
        return (samples,)
    return _latent(samples, K.latent_upscale(samples["samples"], upscale_method, width, height, crop))


def _latent_upscale_by(self, samples, upscale_method, scale_by):
    if not K.upscale_method_is_native(upscale_method):
        return _REFERENCE["LatentUpscaleBy"](self, samples, upscale_method, scale_by)
    return _latent(samples, K.latent_upscale_by(samples["samples"], upscale_method, scale_by))


def _latent_composite(self, samples_to, samples_from, x, y, composite_method="normal", feather=0):
    return _latent(samples_to, K.latent_composite(samples_to["samples"], samples_from["samples"], x, y, feather))


def _latent_blend(self, samples1, samples2, blend_factor, blend_mode="normal"):
    if blend_mode != "normal":
        return _REFERENCE["LatentBlend"](self, samples1, samples2, blend_factor, blend_mode)
    return _latent(samples1, K.latent_blend(samples1["samples"], samples2["samples"], blend_factor))


def _latent_from_batch(self, samples, batch_index, length):
    tensor, mask, batch_index, length = K.latent_from_batch(
        samples["samples"], samples.get("noise_mask"), batch_index, length)
    s = samples.copy()
    s["samples"] = tensor
    if mask is not None:
        s["noise_mask"] = mask
    if "batch_index" not in s:
        s["batch_index"] = list(range(batch_index, batch_index + length))
    else:
        s["batch_index"] = samples["batch_index"][batch_index:batch_index + length]
    return (s,)


def _repeat_latent_batch(self, samples, amount):
    tensor, mask = K.repeat_latent_batch(samples["samples"], samples.get("noise_mask"), amount)
    s = samples.copy()
    s["samples"] = tensor
    if mask is not None:
        s["noise_mask"] = mask
    if "batch_index" in s:
        offset = max(s["batch_index"]) - min(s["batch_index"]) + 1
        s["batch_index"] = s["batch_index"] + [x + (i * offset) for i in range(1, amount) for x in s["batch_index"]]
    return (s,)


def _latent_crop(self, samples, width, height, x, y):
    return _latent(samples, K.latent_crop(samples["samples"], width, height, x, y))


def _latent_flip(self, samples, flip_method):
    return _latent(samples, K.latent_flip(samples["samples"], flip_method))


def _latent_rotate(self, samples, rotation):
    return _latent(samples, K.latent_rotate(samples["samples"], rotation))


NATIVE = {
    "ImageScale": _image_scale, "ImageScaleBy": _image_scale_by, "ImageInvert": _image_invert,
    "ImageBlend": _image_blend, "ImageCompositeMasked": _image_composite_masked, "ImageCrop": _image_crop,
    "ImagePadForOutpaint": _image_pad_for_outpaint, "ImageBatch": _image_batch, "EmptyImage": _empty_image,
    "SolidMask": _solid_mask, "InvertMask": _invert_mask, "MaskToImage": _mask_to_image,
    "ImageToMask": _image_to_mask, "GrowMask": _grow_mask, "ThresholdMask": _threshold_mask,
    "MaskComposite": _mask_composite, "CropMask": _crop_mask, "FeatherMask": _feather_mask,
    "EmptyLatentImage": _empty_latent_image, "LatentUpscale": _latent_upscale,
    "LatentUpscaleBy": _latent_upscale_by, "LatentComposite": _latent_composite, "LatentBlend": _latent_blend,
    "LatentFromBatch": _latent_from_batch, "RepeatLatentBatch": _repeat_latent_batch,
    "LatentCrop": _latent_crop, "LatentFlip": _latent_flip, "LatentRotate": _latent_rotate,
}


def _body_name(cls):
    return "execute" if hasattr(cls, "define_schema") else cls.FUNCTION


def install(mappings, enabled=None):
    """Swaps the native bodies into the classes of `mappings` (name -> class) that NATIVE names.
    Returns the names swapped; nothing when disabled or when comfy._kernels is missing."""
    if enabled is None:
        enabled = os.environ.get("COMFY_NATIVE_NODES", "1") != "0"
    if not enabled:
        return []
    if K is None:
        logging.warning("native node kernels unavailable (%s); using the Python bodies", _IMPORT_ERROR)
        return []
    done = []
    for name, fn in NATIVE.items():
        cls = mappings.get(name)
        if cls is None or name in _REFERENCE:
            continue
        attr = _body_name(cls)
        body = cls.__dict__.get(attr)
        if body is None:
            continue
        if isinstance(body, classmethod):
            _REFERENCE[name] = body.__func__
            setattr(cls, attr, classmethod(fn))
        else:
            _REFERENCE[name] = body
            setattr(cls, attr, fn)
        done.append(name)
    logging.info("Native node kernels: %d nodes (CUDA kernels built: %s)", len(done), K.built_with_cuda())
    return done
