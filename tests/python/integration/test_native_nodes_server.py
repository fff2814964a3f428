"""Native (libtorch) node bodies inside a real server, mixed with Python nodes in one prompt, give
the same saved pixels as the Python bodies (a second server started with --disable-native-nodes)."""
import numpy as np
import pytest
from PIL import Image

from comfy_harness import queue_and_collect, running_server, unique_str, wait_history


def mixed_prompt(prefix):
    # Native: EmptyImage, ImageScale, ImageInvert, ImageBlend, ImagePadForOutpaint, MaskToImage,
    # ImageCompositeMasked, FeatherMask, ImageBatch, ImageCrop. Python: TestSlow (a pack node),
    # SaveImage.
    return {
        "1": {"class_type": "EmptyImage", "inputs": {"width": 24, "height": 16, "batch_size": 1, "color": 0x3080C0}},
        "2": {"class_type": "ImageScale", "inputs": {"image": ["1", 0], "upscale_method": "bicubic",
                                                      "width": 37, "height": 0, "crop": "disabled"}},
        "3": {"class_type": "TestSlow", "inputs": {"image": ["2", 0], "seconds": 0.0}},
        "4": {"class_type": "ImageInvert", "inputs": {"image": ["3", 0]}},
        "5": {"class_type": "ImageBlend", "inputs": {"image1": ["3", 0], "image2": ["4", 0],
                                                      "blend_factor": 0.35, "blend_mode": "soft_light"}},
        "6": {"class_type": "ImagePadForOutpaint", "inputs": {"image": ["5", 0], "left": 8, "top": 0,
                                                               "right": 8, "bottom": 8, "feathering": 6}},
        "7": {"class_type": "FeatherMask", "inputs": {"mask": ["6", 1], "left": 3, "top": 2, "right": 4, "bottom": 1}},
        "8": {"class_type": "MaskToImage", "inputs": {"mask": ["7", 0]}},
        "9": {"class_type": "ImageCompositeMasked", "inputs": {"destination": ["6", 0], "source": ["8", 0],
                                                                "x": 5, "y": 3, "resize_source": False,
                                                                "mask": ["7", 0]}},
        "10": {"class_type": "ImageBatch", "inputs": {"image1": ["9", 0], "image2": ["1", 0]}},
        "11": {"class_type": "ImageCrop", "inputs": {"image": ["10", 0], "width": 40, "height": 20, "x": 2, "y": 1}},
        "12": {"class_type": "SaveImage", "inputs": {"images": ["11", 0], "filename_prefix": prefix}},
    }


def run_and_read(srv, prefix):
    run = queue_and_collect(srv, mixed_prompt(prefix))
    assert not run.of("execution_error"), run.of("execution_error")
    history = wait_history(srv, run.prompt_id)
    assert history["status"]["status_str"] == "success", history["status"]
    images = history["outputs"]["12"]["images"]
    assert [i["filename"] for i in images] == [f"{prefix}_00001_.png", f"{prefix}_00002_.png"]
    out = []
    for i in images:
        with Image.open(srv.output_dir / i["filename"]) as img:
            out.append(np.asarray(img).copy())
    return out


@pytest.fixture(scope="module")
def python_bodies_server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("python_bodies"), ["--disable-native-nodes"], "classic") as srv:
        yield srv


def test_native_and_python_bodies_save_identical_pixels(server, python_bodies_server):
    assert "Native node kernels: 28 nodes" in server.log_tail(400)
    assert "Native node kernels" not in python_bodies_server.log_tail(400)
    native = run_and_read(server, unique_str("native"))
    python = run_and_read(python_bodies_server, unique_str("python"))
    assert [a.shape for a in native] == [(20, 40, 3), (20, 40, 3)]
    for a, b in zip(native, python):
        assert np.array_equal(a, b)
    # Not a trivially uniform result: the feathered paste leaves many distinct values.
    assert len(np.unique(native[0].reshape(-1, 3), axis=0)) >= 15
    # The second batch entry is EmptyImage's colour 0x3080C0, resized to the first (ImageBatch) and cropped.
    assert np.abs(native[1].astype(int) - np.array([0x30, 0x80, 0xC0])).max() <= 1
