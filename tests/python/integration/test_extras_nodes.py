"""ComfyUI 0.3.64's comfy_extras image and mask nodes over HTTP: their /object_info entries and a
prompt through ImageToMask -> GrowMask -> MaskToImage -> SaveImage whose PNGs are checked pixel by
pixel."""
import numpy as np
from PIL import Image

from comfy_harness import queue_and_collect, unique_str

RES = ["INT", {"default": 0, "min": 0, "max": 16384, "step": 1}]


def test_object_info_entries(server):
    assert server.get_json("/object_info/GrowMask") == {"GrowMask": {
        "input": {"required": {
            "mask": ["MASK"],
            "expand": ["INT", {"default": 0, "min": -16384, "max": 16384, "step": 1}],
            "tapered_corners": ["BOOLEAN", {"default": True}]}},
        "input_order": {"required": ["mask", "expand", "tapered_corners"]},
        "output": ["MASK"], "output_is_list": [False], "output_name": ["MASK"],
        "name": "GrowMask", "display_name": "GrowMask", "description": "",
        "python_module": "comfy_extras.nodes_mask", "category": "mask", "output_node": False}}
    assert server.get_json("/object_info/ImageCompositeMasked") == {"ImageCompositeMasked": {
        "input": {
            "required": {"destination": ["IMAGE"], "source": ["IMAGE"], "x": RES, "y": RES,
                         "resize_source": ["BOOLEAN", {"default": False}]},
            "optional": {"mask": ["MASK"]}},
        "input_order": {"required": ["destination", "source", "x", "y", "resize_source"],
                        "optional": ["mask"]},
        "output": ["IMAGE"], "output_is_list": [False], "output_name": ["IMAGE"],
        "name": "ImageCompositeMasked", "display_name": "ImageCompositeMasked", "description": "",
        "python_module": "comfy_extras.nodes_mask", "category": "image", "output_node": False}}
    everything = server.get_json("/object_info")
    modules = {name: everything[name]["python_module"] for name in (
        "ImageBlend", "ImageToMask", "MaskToImage", "FeatherMask", "LatentCompositeMasked", "ImageCrop")}
    assert modules == {
        "ImageBlend": "comfy_extras.nodes_post_processing", "ImageToMask": "comfy_extras.nodes_mask",
        "MaskToImage": "comfy_extras.nodes_mask", "FeatherMask": "comfy_extras.nodes_mask",
        "LatentCompositeMasked": "comfy_extras.nodes_mask", "ImageCrop": "comfy_extras.nodes_images"}
    assert everything["ImageToMask"]["display_name"] == "Convert Image to Mask"
    assert everything["ImageBlend"]["display_name"] is None  # a V3 schema without display_name


def saved_pixels(srv, prefix):
    with Image.open(srv.output_dir / f"{prefix}_00001_.png") as img:
        assert img.format == "PNG" and img.mode == "RGB"
        return np.asarray(img).copy()


def test_mask_chain_saves_exact_pixels(server):
    plain, shaped = unique_str("grow"), unique_str("cross")
    prompt = {
        # EmptyImage -> ImageToMask -> GrowMask -> MaskToImage -> SaveImage (a uniform image stays uniform)
        "1": {"class_type": "EmptyImage", "inputs": {"width": 4, "height": 3, "batch_size": 1, "color": 0x80FF00}},
        "2": {"class_type": "ImageToMask", "inputs": {"image": ["1", 0], "channel": "red"}},
        "3": {"class_type": "GrowMask", "inputs": {"mask": ["2", 0], "expand": -2, "tapered_corners": False}},
        "4": {"class_type": "MaskToImage", "inputs": {"mask": ["3", 0]}},
        "5": {"class_type": "SaveImage", "inputs": {"images": ["4", 0], "filename_prefix": plain}},
        # A white pixel pasted at (2, 2) of a 5x5 0x414345 image, grown into a cross, then inverted.
        "11": {"class_type": "EmptyImage", "inputs": {"width": 5, "height": 5, "batch_size": 1, "color": 0x414345}},
        "12": {"class_type": "EmptyImage", "inputs": {"width": 1, "height": 1, "batch_size": 1, "color": 0xFFFFFF}},
        "13": {"class_type": "ImageCompositeMasked", "inputs": {
            "destination": ["11", 0], "source": ["12", 0], "x": 2, "y": 2, "resize_source": False}},
        "14": {"class_type": "ImageToMask", "inputs": {"image": ["13", 0], "channel": "red"}},
        "15": {"class_type": "GrowMask", "inputs": {"mask": ["14", 0], "expand": 1, "tapered_corners": True}},
        "16": {"class_type": "InvertMask", "inputs": {"mask": ["15", 0]}},
        "17": {"class_type": "MaskToImage", "inputs": {"mask": ["16", 0]}},
        "18": {"class_type": "SaveImage", "inputs": {"images": ["17", 0], "filename_prefix": shaped}},
    }
    run = queue_and_collect(server, prompt)
    assert run.one("execution_success").data["prompt_id"] == run.prompt_id
    assert sorted(m.node for m in run.of("executed")) == ["18", "5"]

    px = saved_pixels(server, plain)
    assert px.shape == (3, 4, 3)
    assert (px == 128).all(), np.unique(px)

    px = saved_pixels(server, shaped)
    # Background: 1 - 0x41/255 = 0.74509805 in float32; x255 = 189.99998, saved truncated as 189.
    expected = np.full((5, 5), 189, dtype=np.uint8)
    for y, x in [(1, 2), (2, 1), (2, 2), (2, 3), (3, 2)]:
        expected[y, x] = 0
    assert px.shape == (5, 5, 3)
    for channel in range(3):
        assert (px[:, :, channel] == expected).all(), px[:, :, channel]
