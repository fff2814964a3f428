"""ComfyUI 0.3.64's comfy_extras image and mask nodes (comfy._nodes_extras): definitions as ComfyUI
declares them, and exact results on small hand-made inputs (values chosen so that every float32
intermediate is exact unless a test is about rounding)."""
import json
import random

import numpy as np
import pytest
import torch

from comfy import _nodes_extras as ne
from comfy._routes import node_info
from comfy_api.internal import is_v3


def t(values, dtype=torch.float32):
    return torch.tensor(values, dtype=dtype)


def assert_exact(actual, expected):
    assert actual.dtype == expected.dtype, (actual.dtype, expected.dtype)
    assert tuple(actual.shape) == tuple(expected.shape), (tuple(actual.shape), tuple(expected.shape))
    assert torch.equal(actual, expected), f"\n{actual}\n!=\n{expected}"


def run(name, **inputs):
    """Runs a node the way the executor does (V1: FUNCTION on an instance; V3: execute)."""
    cls = ne.NODE_CLASS_MAPPINGS[name]
    if is_v3(cls):
        return cls.execute(**inputs).args[0]
    out = getattr(cls(), cls.FUNCTION)(**inputs)
    assert isinstance(out, tuple) and len(out) == 1
    return out[0]


# ---- definitions ------------------------------------------------------------------------------

def test_registration_order_modules_and_display_names():
    assert list(ne.NODE_CLASS_MAPPINGS) == [
        "ImageBlend", "LatentCompositeMasked", "ImageCompositeMasked", "MaskToImage", "ImageToMask",
        "ImageColorToMask", "SolidMask", "InvertMask", "CropMask", "MaskComposite", "FeatherMask",
        "GrowMask", "ThresholdMask", "ImageCrop"]
    modules = {name: cls.RELATIVE_PYTHON_MODULE for name, cls in ne.NODE_CLASS_MAPPINGS.items()}
    assert modules.pop("ImageBlend") == "comfy_extras.nodes_post_processing"
    assert modules.pop("ImageCrop") == "comfy_extras.nodes_images"
    assert set(modules.values()) == {"comfy_extras.nodes_mask"}
    assert ne.NODE_DISPLAY_NAME_MAPPINGS == {"ImageToMask": "Convert Image to Mask",
                                             "MaskToImage": "Convert Mask to Image"}


def test_v1_definitions():
    expected = {
        # name: (category, RETURN_TYPES, FUNCTION)
        "LatentCompositeMasked": ("latent", ("LATENT",), "composite"),
        "ImageCompositeMasked": ("image", ("IMAGE",), "composite"),
        "MaskToImage": ("mask", ("IMAGE",), "mask_to_image"),
        "ImageToMask": ("mask", ("MASK",), "image_to_mask"),
        "ImageColorToMask": ("mask", ("MASK",), "image_to_mask"),
        "SolidMask": ("mask", ("MASK",), "solid"),
        "InvertMask": ("mask", ("MASK",), "invert"),
        "CropMask": ("mask", ("MASK",), "crop"),
        "MaskComposite": ("mask", ("MASK",), "combine"),
        "FeatherMask": ("mask", ("MASK",), "feather"),
        "GrowMask": ("mask", ("MASK",), "expand_mask"),
        "ThresholdMask": ("mask", ("MASK",), "image_to_mask"),
        "ImageCrop": ("image/transform", ("IMAGE",), "crop"),
    }
    for name, (category, returns, function) in expected.items():
        cls = ne.NODE_CLASS_MAPPINGS[name]
        assert (cls.CATEGORY, cls.RETURN_TYPES, cls.FUNCTION) == (category, returns, function), name
        assert not hasattr(cls, "OUTPUT_NODE") and not hasattr(cls, "RETURN_NAMES"), name


def test_input_types_exact():
    res = ("INT", {"default": 0, "min": 0, "max": 16384, "step": 1})
    size = ("INT", {"default": 512, "min": 1, "max": 16384, "step": 1})
    nm = ne.NODE_CLASS_MAPPINGS
    assert nm["ImageCompositeMasked"].INPUT_TYPES() == {
        "required": {"destination": ("IMAGE",), "source": ("IMAGE",), "x": res, "y": res,
                     "resize_source": ("BOOLEAN", {"default": False})},
        "optional": {"mask": ("MASK",)}}
    latent_xy = ("INT", {"default": 0, "min": 0, "max": 16384, "step": 8})
    assert nm["LatentCompositeMasked"].INPUT_TYPES() == {
        "required": {"destination": ("LATENT",), "source": ("LATENT",), "x": latent_xy, "y": latent_xy,
                     "resize_source": ("BOOLEAN", {"default": False})},
        "optional": {"mask": ("MASK",)}}
    assert nm["GrowMask"].INPUT_TYPES() == {"required": {
        "mask": ("MASK",), "expand": ("INT", {"default": 0, "min": -16384, "max": 16384, "step": 1}),
        "tapered_corners": ("BOOLEAN", {"default": True})}}
    assert nm["ImageToMask"].INPUT_TYPES() == {"required": {
        "image": ("IMAGE",), "channel": (["red", "green", "blue", "alpha"],)}}
    assert nm["ImageColorToMask"].INPUT_TYPES() == {"required": {
        "image": ("IMAGE",),
        "color": ("INT", {"default": 0, "min": 0, "max": 0xFFFFFF, "step": 1, "display": "color"})}}
    assert nm["SolidMask"].INPUT_TYPES() == {"required": {
        "value": ("FLOAT", {"default": 1.0, "min": 0.0, "max": 1.0, "step": 0.01}),
        "width": size, "height": size}}
    assert nm["CropMask"].INPUT_TYPES() == {"required": {
        "mask": ("MASK",), "x": res, "y": res, "width": size, "height": size}}
    assert nm["MaskComposite"].INPUT_TYPES() == {"required": {
        "destination": ("MASK",), "source": ("MASK",), "x": res, "y": res,
        "operation": (["multiply", "add", "subtract", "and", "or", "xor"],)}}
    assert nm["FeatherMask"].INPUT_TYPES() == {"required": {
        "mask": ("MASK",), "left": res, "top": res, "right": res, "bottom": res}}
    assert nm["ThresholdMask"].INPUT_TYPES() == {"required": {
        "mask": ("MASK",), "value": ("FLOAT", {"default": 0.5, "min": 0.0, "max": 1.0, "step": 0.01})}}
    assert nm["ImageCrop"].INPUT_TYPES() == {"required": {
        "image": ("IMAGE",), "width": size, "height": size, "x": res, "y": res}}
    assert nm["MaskToImage"].INPUT_TYPES() == {"required": {"mask": ("MASK",)}}
    assert nm["InvertMask"].INPUT_TYPES() == {"required": {"mask": ("MASK",)}}


def test_image_blend_is_v3_with_comfyui_object_info():
    cls = ne.NODE_CLASS_MAPPINGS["ImageBlend"]
    assert is_v3(cls) and not is_v3(ne.NODE_CLASS_MAPPINGS["GrowMask"])
    info = json.loads(json.dumps(node_info("ImageBlend", cls, ne.NODE_DISPLAY_NAME_MAPPINGS)))
    assert info["input"] == {"required": {
        "image1": ["IMAGE", {}], "image2": ["IMAGE", {}],
        "blend_factor": ["FLOAT", {"default": 0.5, "min": 0.0, "max": 1.0, "step": 0.01}],
        "blend_mode": ["COMBO", {"multiselect": False, "options": [
            "normal", "multiply", "screen", "overlay", "soft_light", "difference"]}]}}
    assert info["input_order"] == {"required": ["image1", "image2", "blend_factor", "blend_mode"]}
    assert (info["name"], info["display_name"], info["category"], info["python_module"]) == (
        "ImageBlend", None, "image/postprocessing", "comfy_extras.nodes_post_processing")
    assert (info["output"], info["output_name"], info["output_node"]) == (["IMAGE"], ["IMAGE"], False)


def test_v1_object_info_entry():
    info = node_info("MaskToImage", ne.NODE_CLASS_MAPPINGS["MaskToImage"], ne.NODE_DISPLAY_NAME_MAPPINGS)
    assert info == {
        "input": {"required": {"mask": ("MASK",)}}, "input_order": {"required": ["mask"]},
        "output": ("IMAGE",), "output_is_list": [False], "output_name": ("IMAGE",), "name": "MaskToImage",
        "display_name": "Convert Mask to Image", "description": "", "python_module": "comfy_extras.nodes_mask",
        "category": "mask", "output_node": False}


# ---- ImageBlend -------------------------------------------------------------------------------

# Two 2x3 RGB images (same value in every channel); every expected value below is exact in float32.
A = [[0.25, 0.5625, 1.0], [0.0, 0.75, 0.125]]
B = [[0.5, 0.75, 0.25], [1.0, 0.25, 0.75]]


def rgb(rows):
    return t(rows)[None, :, :, None].expand(1, 2, 3, 3).contiguous()


@pytest.mark.parametrize("mode,factor,expected", [
    ("normal", 0.5, [[0.375, 0.65625, 0.625], [0.5, 0.5, 0.4375]]),
    ("multiply", 1.0, [[0.125, 0.421875, 0.25], [0.0, 0.1875, 0.09375]]),
    ("screen", 1.0, [[0.625, 0.890625, 1.0], [1.0, 0.8125, 0.78125]]),
    ("overlay", 1.0, [[0.25, 0.78125, 1.0], [0.0, 0.625, 0.1875]]),
    # soft_light: b <= 0.5 -> a - (1-2b)a(1-a); else a + (2b-1)(g(a) - a), with
    # g(a) = ((16a - 12)a + 4)a for a <= 0.25 (g(0.125) = 0.34375), else sqrt(a) (g(0.5625) = 0.75)
    ("soft_light", 1.0, [[0.25, 0.65625, 1.0], [0.0, 0.65625, 0.234375]]),
    ("difference", 1.0, [[0.0, 0.0, 0.75], [0.0, 0.5, 0.0]]),  # a - b, clamped at 0
    ("difference", 0.5, [[0.0, 0.1875, 0.875], [0.0, 0.625, 0.0]]),
    ("multiply", 0.0, A),
])
def test_image_blend_modes(mode, factor, expected):
    out = run("ImageBlend", image1=rgb(A), image2=rgb(B), blend_factor=factor, blend_mode=mode)
    assert_exact(out, rgb(expected))


def test_image_blend_rounds_as_comfyui_in_float32():
    # Non-dyadic values: the expected number follows ComfyUI's expressions step by step in float32
    # (a Python float factor is rounded to float32 first, as PyTorch does for a float32 tensor).
    # Rearranged but equivalent formulas (a + b - ab, a + (s - a)f) give 0.1819 here instead.
    a, b, f = np.float32(0.1), np.float32(0.13), 0.7
    screen = np.float32(1) - (np.float32(1) - a) * (np.float32(1) - b)
    expected = a * np.float32(1 - f) + screen * np.float32(f)
    assert expected == np.float32(0.18190001) and expected != np.float32(0.1819)
    out = ne.blend_images(torch.full((1, 1, 1, 3), 0.1), torch.full((1, 1, 1, 3), 0.13), f, "screen")
    assert_exact(out, torch.full((1, 1, 1, 3), float(expected)))


def test_image_blend_helpers_keep_comfyui_names():
    assert_exact(ne.Blend.g(t([0.125, 0.25, 0.5625])), t([0.34375, 0.5, 0.75]))
    assert_exact(ne.Blend.blend_mode(t([0.5]), t([0.25]), "multiply"), t([0.125]))
    with pytest.raises(ValueError):
        ne.blend_images(rgb(A), rgb(B), 0.5, "darken")


def test_image_blend_resizes_other_shapes_with_centre_crop():
    # 2x4 onto 2x2: the centre crop keeps columns 1..2, then a same-size bicubic pass is the identity.
    image2 = t([0.0, 0.25, 0.75, 1.0]).reshape(1, 1, 4, 1).expand(1, 2, 4, 3).contiguous()
    out = ne.blend_images(torch.zeros(1, 2, 2, 3), image2, 1.0, "normal")
    assert_exact(out, t([0.25, 0.75]).reshape(1, 1, 2, 1).expand(1, 2, 2, 3).contiguous())


def test_image_blend_drops_image2_alpha():
    image2 = torch.cat([rgb(B), torch.full((1, 2, 3, 1), 0.5)], dim=-1)
    out = ne.blend_images(rgb(A), image2, 1.0, "multiply")
    assert_exact(out, rgb([[0.125, 0.421875, 0.25], [0.0, 0.1875, 0.09375]]))


# ---- ImageCompositeMasked / composite() / LatentCompositeMasked --------------------------------

def test_image_composite_masked_places_source_without_mask():
    dest = torch.zeros(1, 3, 4, 3)
    out = run("ImageCompositeMasked", destination=dest, source=torch.ones(1, 2, 2, 3), x=1, y=1,
              resize_source=False)
    expected = torch.zeros(1, 3, 4, 3)
    expected[:, 1:3, 1:3] = 1.0
    assert_exact(out, expected)
    assert_exact(dest, torch.zeros(1, 3, 4, 3))  # the input is not modified


def test_image_composite_masked_clips_at_the_destination_edge():
    out = ne.image_composite_masked(torch.zeros(1, 3, 4, 3), torch.ones(1, 2, 2, 3), 3, 2)
    expected = torch.zeros(1, 3, 4, 3)
    expected[:, 2:3, 3:4] = 1.0
    assert_exact(out, expected)


def test_image_composite_masked_blends_with_mask():
    dest = torch.full((1, 2, 2, 3), 0.5)
    src = torch.ones(1, 2, 2, 3)
    mask = t([[1.0, 0.0], [0.5, 0.25]])
    out = ne.image_composite_masked(dest, src, 0, 0, False, mask)
    # mask * 1 + (1 - mask) * 0.5
    assert_exact(out, t([[1.0, 0.5], [0.75, 0.625]])[None, :, :, None].expand(1, 2, 2, 3).contiguous())


def test_image_composite_masked_resize_source_and_batch_repeat():
    src = t([[0.0, 1.0], [0.0, 1.0]])[None, :, :, None].expand(1, 2, 2, 3).contiguous()
    out = ne.image_composite_masked(torch.zeros(2, 4, 4, 3), src, 0, 0, True)
    # bilinear 2 -> 4 (half-pixel centres): source x = -0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped)
    row = t([0.0, 0.25, 0.75, 1.0])
    assert_exact(out, row.reshape(1, 1, 4, 1).expand(2, 4, 4, 3).contiguous())


def test_image_composite_masked_rgba_source_on_rgb_destination():
    src = torch.cat([torch.ones(1, 1, 1, 3), torch.zeros(1, 1, 1, 1)], dim=-1)
    out = ne.image_composite_masked(torch.zeros(1, 1, 2, 3), src, 1, 0)
    assert_exact(out, t([[[[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]]]]))


def test_latent_composite_masked_offsets_are_in_pixels():
    dest = {"samples": torch.zeros(1, 4, 4, 4), "batch_index": [3]}
    src = {"samples": torch.ones(1, 4, 2, 2)}
    out = run("LatentCompositeMasked", destination=dest, source=src, x=15, y=16, resize_source=False)
    expected = torch.zeros(1, 4, 4, 4)
    expected[:, :, 2:4, 1:3] = 1.0  # x 15 // 8 = 1, y 16 // 8 = 2
    assert_exact(out["samples"], expected)
    assert out["batch_index"] == [3]
    assert_exact(dest["samples"], torch.zeros(1, 4, 4, 4))


def test_latent_composite_masked_mask_and_video_latents():
    dest = {"samples": torch.zeros(1, 2, 3, 2, 2)}
    src = {"samples": torch.ones(1, 2, 3, 2, 2)}
    out = ne.latent_composite_masked(dest, src, 0, 0, False, t([[1.0, 0.0], [0.25, 0.5]]))
    expected = t([[1.0, 0.0], [0.25, 0.5]]).expand(1, 2, 3, 2, 2).contiguous()
    assert_exact(out["samples"], expected)


def test_latent_composite_masked_video_latents_mask_per_batch_entry():
    dest = {"samples": torch.zeros(2, 2, 3, 1, 2)}
    src = {"samples": torch.ones(2, 2, 3, 1, 2)}
    masks = t([[[1.0, 0.0]], [[0.0, 0.5]]])
    out = ne.latent_composite_masked(dest, src, 0, 0, False, masks)
    expected = masks[:, None, None].expand(2, 2, 3, 1, 2).contiguous()
    assert_exact(out["samples"], expected)


def test_composite_cuts_or_tiles_the_source_batch():
    src = t([1.0, 2.0]).reshape(2, 1, 1, 1)
    out = ne.composite(torch.zeros(3, 1, 1, 1), src, 0, 0, None, 1)
    assert_exact(out, t([1.0, 2.0, 1.0]).reshape(3, 1, 1, 1))
    out = ne.composite(torch.zeros(1, 1, 1, 1), src, 0, 0, None, 1)
    assert_exact(out, t([1.0]).reshape(1, 1, 1, 1))


def test_composite_clamps_far_offsets_to_the_destination_size():
    # x beyond the destination is clamped to its width: nothing is pasted, nothing fails
    dest = torch.zeros(1, 1, 2, 3)
    out = ne.composite(dest, torch.ones(1, 1, 2, 2), 100, 0, None, 1)
    assert_exact(out, torch.zeros(1, 1, 2, 3))


# ---- mask conversions ---------------------------------------------------------------------------

def test_mask_to_image_shapes_and_values():
    out = run("MaskToImage", mask=t([[0.0, 0.25], [0.5, 1.0]]))
    assert_exact(out, t([[[[0.0] * 3, [0.25] * 3], [[0.5] * 3, [1.0] * 3]]]))
    batch = ne.mask_to_image(torch.stack([torch.zeros(2, 2), torch.ones(2, 2)]))
    assert tuple(batch.shape) == (2, 2, 2, 3) and batch[1].min() == 1.0 and batch[0].max() == 0.0


@pytest.mark.parametrize("channel,index", [("red", 0), ("green", 1), ("blue", 2), ("alpha", 3)])
def test_image_to_mask_channels(channel, index):
    image = torch.zeros(2, 2, 3, 4)
    image[..., index] = t([[0.125, 0.25, 0.5], [0.75, 1.0, 0.0]])
    out = run("ImageToMask", image=image, channel=channel)
    assert_exact(out, t([[0.125, 0.25, 0.5], [0.75, 1.0, 0.0]]).expand(2, 2, 3).contiguous())


def test_image_to_mask_alpha_of_rgb_image_fails():
    with pytest.raises(IndexError):
        ne.image_to_mask(torch.zeros(1, 1, 1, 3), "alpha")


def test_image_color_to_mask_matches_rounded_8bit_rgb():
    px = [[255, 0, 0], [254, 0, 0], [255, 0, 1], [300, -20, 0]]  # the last is clamped to (255, 0, 0)
    image = (t(px) / 255).reshape(1, 1, 4, 3)
    out = run("ImageColorToMask", image=image, color=0xFF0000)
    assert_exact(out, t([[[1.0, 0.0, 0.0, 1.0]]]))
    # 127.4 rounds to 127, 127.6 to 128
    image = (t([[127.4, 0, 0], [127.6, 0, 0]]) / 255).reshape(1, 1, 2, 3)
    assert_exact(ne.image_color_to_mask(image, 0x7F0000), t([[[1.0, 0.0]]]))


def test_solid_and_invert_mask():
    assert_exact(run("SolidMask", value=0.25, width=3, height=2), torch.full((1, 2, 3), 0.25))
    assert_exact(ne.solid_mask(0.3, 1, 1), t([[[0.3]]]))
    assert_exact(run("InvertMask", mask=t([[0.0, 0.25], [1.0, 0.75]])), t([[1.0, 0.75], [0.0, 0.25]]))


def test_crop_mask():
    mask = torch.arange(20, dtype=torch.float32).reshape(4, 5)
    out = run("CropMask", mask=mask, x=1, y=2, width=3, height=5)
    assert_exact(out, t([[[11.0, 12.0, 13.0], [16.0, 17.0, 18.0]]]))


def test_threshold_mask_is_strictly_greater():
    out = run("ThresholdMask", mask=t([[0.49, 0.5, 0.51]]), value=0.5)
    assert_exact(out, t([[0.0, 0.0, 1.0]]))


# ---- MaskComposite --------------------------------------------------------------------------------

DST = [[0.5, 0.5, 0.5], [0.5, 0.75, 1.0]]
SRC = [[0.25, 1.0], [0.5, 0.75]]


@pytest.mark.parametrize("operation,expected", [
    ("multiply", [[0.5, 0.125, 0.5], [0.5, 0.375, 0.75]]),
    ("add", [[0.5, 0.75, 1.0], [0.5, 1.0, 1.0]]),        # clamped at 1
    ("subtract", [[0.5, 0.25, 0.0], [0.5, 0.25, 0.25]]),  # clamped at 0
    # logical: operands rounded half to even first (0.5 -> 0, 0.75 -> 1, 0.25 -> 0)
    ("and", [[0.5, 0.0, 0.0], [0.5, 0.0, 1.0]]),
    ("or", [[0.5, 0.0, 1.0], [0.5, 1.0, 1.0]]),
    ("xor", [[0.5, 0.0, 1.0], [0.5, 1.0, 0.0]]),
])
def test_mask_composite_operations(operation, expected):
    out = run("MaskComposite", destination=t(DST), source=t(SRC), x=1, y=0, operation=operation)
    assert_exact(out, t([expected]))


def test_mask_composite_clips_source_and_clamps_whole_result():
    dst = t([[2.0, -1.0], [0.5, 0.5]])
    out = ne.mask_composite(dst, t([[0.25, 0.25], [0.25, 0.25]]), 1, 1, "add")
    assert_exact(out, t([[[1.0, 0.0], [0.5, 0.75]]]))


def test_mask_composite_broadcasts_a_single_source_over_a_batch():
    dst = torch.stack([torch.full((2, 2), 0.5), torch.full((2, 2), 1.0)])
    out = ne.mask_composite(dst, t([[0.5]]), 0, 0, "multiply")
    assert_exact(out, t([[[0.25, 0.5], [0.5, 0.5]], [[0.5, 1.0], [1.0, 1.0]]]))


# ---- FeatherMask ----------------------------------------------------------------------------------

def f32(x):
    return np.float32(x)


def test_feather_mask_ramps_with_comfyui_0_3_64_edge_indices():
    out = run("FeatherMask", mask=torch.ones(4, 6), left=2, top=0, right=3, bottom=0)
    # left: col0 * 1/2, col1 * 2/2; right (index -i): col0 * 1/3, col5 * 2/3, col4 * 3/3
    third = float(f32(1 / 3))
    col0 = float(f32(f32(0.5) * f32(1 / 3)))
    row = [col0, 1.0, 1.0, 1.0, 1.0, float(f32(2 / 3))]
    assert third != col0
    assert_exact(out, t([row] * 4)[None])


def test_feather_mask_rows_and_corner_rounding_order():
    out = ne.feather_mask(torch.ones(1, 4, 3), 0, 2, 0, 3)
    # top: row0 * 1/2; bottom (index -i): row0 * 1/3, row3 * 2/3, row2 * 1
    r0 = float(f32(f32(0.5) * f32(1 / 3)))
    assert_exact(out, t([[[r0] * 3, [1.0] * 3, [1.0] * 3, [float(f32(2 / 3))] * 3]]))
    # all four edges on one pixel: each factor applied in turn, rounded to float32 each time
    v = t([[[0.7]]])
    got = ne.feather_mask(v, 5, 5, 5, 5)  # clamped to 1: every factor is 1/1
    assert_exact(got, v)
    m = torch.full((1, 2, 2), 0.7)
    got = ne.feather_mask(m, 2, 2, 2, 2)
    p = f32(0.7)
    p00 = f32(f32(f32(f32(p * f32(0.5)) * f32(0.5)) * f32(0.5)) * f32(0.5))
    p01 = f32(p * f32(0.5))  # col1: left 2/2, right (i=1 -> -1) 2/2; row0: top 1/2, bottom (i=0) 1/2
    p01 = f32(f32(p01) * f32(0.5))
    assert got[0, 0, 0].item() == float(p00)
    assert got[0, 0, 1].item() == float(p01)
    assert got[0, 1, 1].item() == float(p)


def _comfy_feather_loop(mask, left, top, right, bottom):
    """ComfyUI 0.3.64's FeatherMask loop, literally: the spec the vectorised version must match."""
    output = mask.reshape((-1, mask.shape[-2], mask.shape[-1])).clone()
    left, right = min(left, output.shape[-1]), min(right, output.shape[-1])
    top, bottom = min(top, output.shape[-2]), min(bottom, output.shape[-2])
    for x in range(left):
        output[:, :, x] *= (x + 1.0) / left
    for x in range(right):
        output[:, :, -x] *= (x + 1) / right
    for y in range(top):
        output[:, y, :] *= (y + 1) / top
    for y in range(bottom):
        output[:, -y, :] *= (y + 1) / bottom
    return output


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.float64])
def test_feather_mask_equals_the_loop_on_random_masks(dtype):
    gen = torch.Generator().manual_seed(7)
    rng = random.Random(7)
    for _ in range(20):
        h, w = rng.randint(1, 9), rng.randint(1, 9)
        mask = torch.rand(rng.randint(1, 3), h, w, generator=gen).to(dtype)
        edges = [rng.randint(0, 11) for _ in range(4)]
        assert_exact(ne.feather_mask(mask, *edges), _comfy_feather_loop(mask, *edges))


# ---- GrowMask -------------------------------------------------------------------------------------

def dot(h, w, points, value=1.0):
    m = torch.zeros(h, w)
    for y, x in points:
        m[y, x] = value
    return m


def test_grow_mask_cross_and_square():
    m = dot(5, 5, [(2, 2)])
    cross = dot(5, 5, [(1, 2), (2, 1), (2, 2), (2, 3), (3, 2)])
    assert_exact(run("GrowMask", mask=m, expand=1, tapered_corners=True), cross[None])
    square = dot(5, 5, [(y, x) for y in (1, 2, 3) for x in (1, 2, 3)])
    assert_exact(run("GrowMask", mask=m, expand=1, tapered_corners=False), square[None])
    diamond = dot(5, 5, [(y, x) for y in range(5) for x in range(5) if abs(y - 2) + abs(x - 2) <= 2])
    assert_exact(ne.grow_mask(m, 2, True), diamond[None])
    assert_exact(ne.grow_mask(diamond, -1, True), cross[None])
    assert_exact(ne.grow_mask(square, -1, False), m[None])


def test_grow_mask_edges_follow_scipy_reflect_mode():
    # Out-of-range neighbours do not count (not zero-padded): a full mask does not erode at its border.
    assert_exact(ne.grow_mask(torch.ones(3, 4), -2, False), torch.ones(1, 3, 4))
    hole = torch.ones(3, 4)
    hole[0, 0] = 0.25
    expected = torch.ones(1, 3, 4)
    expected[0, 0, 0] = expected[0, 0, 1] = expected[0, 1, 0] = 0.25
    assert_exact(ne.grow_mask(hole, -1, True), expected)


def test_grow_mask_zero_returns_a_batched_copy():
    m = t([[0.25, 0.5]])
    out = ne.grow_mask(m, 0, True)
    assert_exact(out, t([[[0.25, 0.5]]]))
    out[0, 0, 0] = 1.0
    assert m[0, 0].item() == 0.25


def _reflect(i, n):
    """scipy.ndimage 'reflect' (half-sample symmetric) index for one step outside [0, n)."""
    if i < 0:
        return -i - 1
    if i >= n:
        return 2 * n - i - 1
    return i


def _slow_grey(m, tapered_corners, erode):
    """One scipy.ndimage.grey_dilation / grey_erosion with a 3x3 footprint, mode 'reflect', as an
    explicit loop over pixels."""
    h, w = m.shape
    offsets = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)
               if not (tapered_corners and dy != 0 and dx != 0)]
    out = np.empty((h, w), dtype=np.float32)
    pick = min if erode else max
    for y in range(h):
        for x in range(w):
            out[y, x] = pick(m[_reflect(y + dy, h), _reflect(x + dx, w)] for dy, dx in offsets)
    return out


def _slow_grow(mask, expand, tapered_corners):
    out = []
    for m in mask.reshape(-1, mask.shape[-2], mask.shape[-1]).numpy():
        for _ in range(abs(expand)):
            m = _slow_grey(m, tapered_corners, expand < 0)
        out.append(torch.from_numpy(np.array(m, dtype=np.float32)))
    return torch.stack(out)


@pytest.mark.parametrize("expand", [-3, -1, 0, 1, 2])
@pytest.mark.parametrize("tapered_corners", [True, False])
def test_grow_mask_equals_slow_scipy_loop_on_random_masks(expand, tapered_corners):
    gen = torch.Generator().manual_seed(1000 + expand)
    for shape in [(2, 7, 9), (1, 1, 6), (5, 1), (3, 4, 4), (8, 8)]:
        mask = torch.rand(shape, generator=gen)
        mask[mask < 0.6] = 0.0  # sparse, so that growth and shrinkage both show
        assert_exact(ne.grow_mask(mask, expand, tapered_corners), _slow_grow(mask, expand, tapered_corners))
        mask = mask - 0.5  # negative values: an out-of-range neighbour must not count as 0
        assert_exact(ne.grow_mask(mask, expand, tapered_corners), _slow_grow(mask, expand, tapered_corners))


# ---- ImageCrop ------------------------------------------------------------------------------------

def test_image_crop():
    image = torch.arange(2 * 3 * 4 * 3, dtype=torch.float32).reshape(2, 3, 4, 3)
    out = run("ImageCrop", image=image, width=2, height=5, x=1, y=1)
    assert_exact(out, image[:, 1:3, 1:3, :].clone())
    # x past the right edge is clamped to the last column
    assert_exact(ne.image_crop(image, 512, 512, 100, 0), image[:, :, 3:4, :].clone())
