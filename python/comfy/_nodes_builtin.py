"""ComfyUI's V1 built-in nodes (nodes.py), behaving as in ComfyUI 0.3.64: the image I/O nodes
(LoadImage, LoadImageOutput, SaveImage, PreviewImage, EmptyImage, ImageInvert) here, the others in
_nodes_core.

Saved PNGs decode to exactly ComfyUI's pixels and carry exactly its text chunks (clients
diff them): the same uint8 conversion (truncation), chunk layout and compress levels, encoded
natively by comfy._media (only the deflate stream differs from Pillow's, sizes within a few %).

`folder_paths` is imported by its top-level name, as packs do: the app (or the unit
test conftest) registers comfy._compat.folder_paths under that name first.
"""
import json
import os
import random

import numpy as np
import torch
from PIL import Image, ImageOps, ImageSequence
from PIL.PngImagePlugin import PngInfo

from comfy import _media
from comfy._compat import node_helpers

MAX_RESOLUTION = 16384

# Set by the app from --disable-metadata; cli_args.args.disable_metadata is honoured too.
DISABLE_METADATA = False

# ComfyUI's PreviewImage alphabet (sic: 'p' twice, no 'w'); kept so temp names look alike.
_TEMP_SUFFIX_LETTERS = "abcdefghijklmnopqrstupvxyz"


def _folder_paths():
    import folder_paths
    return folder_paths


def _metadata_disabled():
    if DISABLE_METADATA:
        return True
    try:
        from comfy.cli_args import args
    except ImportError:
        return False
    return bool(getattr(args, "disable_metadata", False))


class SaveImage:
    def __init__(self):
        self.output_dir = _folder_paths().get_output_directory()
        self.type = "output"
        self.prefix_append = ""
        self.compress_level = 4

    @classmethod
    def INPUT_TYPES(s):
        return {
            "required": {
                "images": ("IMAGE", {"tooltip": "The images to save."}),
                "filename_prefix": ("STRING", {
                    "default": "ComfyUI",
                    "tooltip": "The prefix for the file to save. This may include formatting "
                               "information such as %date:yyyy-MM-dd% or "
                               "%Empty Latent Image.width% to include values from nodes."}),
            },
            "hidden": {"prompt": "PROMPT", "extra_pnginfo": "EXTRA_PNGINFO"},
        }

    RETURN_TYPES = ()
    FUNCTION = "save_images"
    OUTPUT_NODE = True
    CATEGORY = "image"
    DESCRIPTION = "Saves the input images to your ComfyUI output directory."

    def _pnginfo(self, prompt, extra_pnginfo):
        """The PngInfo ComfyUI builds (kept for packs that call it); the native writer below takes
        the same text as entries (_media.png_text)."""
        if _metadata_disabled():
            return None
        metadata = PngInfo()
        if prompt is not None:
            metadata.add_text("prompt", json.dumps(prompt))
        if extra_pnginfo is not None:
            for key in extra_pnginfo:
                metadata.add_text(key, json.dumps(extra_pnginfo[key]))
        return metadata

    def save_images(self, images, filename_prefix="ComfyUI", prompt=None, extra_pnginfo=None):
        text = None if _metadata_disabled() else _media.png_text(prompt, extra_pnginfo)
        saved = _media.save_image_batch(images, filename_prefix + self.prefix_append, self.output_dir,
                                        self.compress_level, text)
        return {"ui": {"images": [{"filename": f, "subfolder": s, "type": self.type} for f, s in saved]}}


class PreviewImage(SaveImage):
    def __init__(self):
        self.output_dir = _folder_paths().get_temp_directory()
        self.type = "temp"
        self.prefix_append = "_temp_" + ''.join(
            random.choice(_TEMP_SUFFIX_LETTERS) for _ in range(5))
        self.compress_level = 1

    @classmethod
    def INPUT_TYPES(s):
        return {"required": {"images": ("IMAGE",)},
                "hidden": {"prompt": "PROMPT", "extra_pnginfo": "EXTRA_PNGINFO"}}


def _frame_to_tensors(frame):
    """One Pillow frame -> (IMAGE [1,H,W,3] float32, MASK [H,W] = 1 - alpha)."""
    if frame.mode == 'I':
        # 16-bit greyscale PNGs load as mode I; ComfyUI scales them down to 8-bit range.
        frame = frame.point(lambda v: v * (1 / 255))
    rgb = frame.convert("RGB")
    image = torch.from_numpy(np.array(rgb).astype(np.float32) / 255.0)[None,]
    if 'A' in frame.getbands():
        alpha = np.array(frame.getchannel('A')).astype(np.float32) / 255.0
        mask = 1. - torch.from_numpy(alpha)
    elif frame.mode == 'P' and 'transparency' in frame.info:
        alpha = np.array(frame.convert('RGBA').getchannel('A')).astype(np.float32) / 255.0
        mask = 1. - torch.from_numpy(alpha)
    else:
        mask = torch.zeros((64, 64), dtype=torch.float32, device="cpu")
    return image, mask


class LoadImage:
    @classmethod
    def INPUT_TYPES(s):
        fp = _folder_paths()
        input_dir = fp.get_input_directory()
        try:
            names = os.listdir(input_dir)
        except FileNotFoundError:
            names = []
        files = [f for f in names if os.path.isfile(os.path.join(input_dir, f))]
        files = fp.filter_files_content_types(files, ["image"])
        return {"required": {"image": (sorted(files), {"image_upload": True})}}

    CATEGORY = "image"
    RETURN_TYPES = ("IMAGE", "MASK")
    FUNCTION = "load_image"

    def load_image(self, image):
        image_path = _folder_paths().get_annotated_filepath(image)
        img = node_helpers.pillow(Image.open, image_path)
        images, masks = [], []
        size = None
        for frame in ImageSequence.Iterator(img):
            frame = node_helpers.pillow(ImageOps.exif_transpose, frame)
            if size is None:
                size = frame.size
            elif frame.size != size:
                # Frames of another size cannot be batched; ComfyUI skips them.
                continue
            frame_image, frame_mask = _frame_to_tensors(frame)
            images.append(frame_image)
            masks.append(frame_mask.unsqueeze(0))
        # MPO (camera multi-picture JPEGs) carry previews, not animation frames.
        if len(images) > 1 and img.format not in ('MPO',):
            return (torch.cat(images, dim=0), torch.cat(masks, dim=0))
        return (images[0], masks[0])

    @classmethod
    def IS_CHANGED(s, image):
        return _file_sha256(_folder_paths().get_annotated_filepath(image))

    @classmethod
    def VALIDATE_INPUTS(s, image):
        if not _folder_paths().exists_annotated_filepath(image):
            return "Invalid image file: {}".format(image)
        return True


class EmptyImage:
    def __init__(self, device="cpu"):
        self.device = device

    @classmethod
    def INPUT_TYPES(s):
        return {"required": {
            "width": ("INT", {"default": 512, "min": 1, "max": MAX_RESOLUTION, "step": 1}),
            "height": ("INT", {"default": 512, "min": 1, "max": MAX_RESOLUTION, "step": 1}),
            "batch_size": ("INT", {"default": 1, "min": 1, "max": 4096}),
            "color": ("INT", {"default": 0, "min": 0, "max": 0xFFFFFF, "step": 1,
                              "display": "color"}),
        }}

    RETURN_TYPES = ("IMAGE",)
    FUNCTION = "generate"
    CATEGORY = "image"

    def generate(self, width, height, batch_size=1, color=0):
        shape = [batch_size, height, width, 1]
        # Channel value computed in Python double, then stored as float32 (as ComfyUI).
        r = torch.full(shape, ((color >> 16) & 0xFF) / 0xFF)
        g = torch.full(shape, ((color >> 8) & 0xFF) / 0xFF)
        b = torch.full(shape, (color & 0xFF) / 0xFF)
        return (torch.cat((r, g, b), dim=-1),)


class ImageInvert:
    @classmethod
    def INPUT_TYPES(s):
        return {"required": {"image": ("IMAGE",)}}

    RETURN_TYPES = ("IMAGE",)
    FUNCTION = "invert"
    CATEGORY = "image"

    def invert(self, image):
        return (1.0 - image,)


class LoadImageOutput(LoadImage):
    @classmethod
    def INPUT_TYPES(s):
        return {"required": {"image": ("COMBO", {
            "image_upload": True,
            "image_folder": "output",
            "remote": {"route": "/internal/files/output", "refresh_button": True, "control_after_refresh": "first"},
        })}}

    DESCRIPTION = ("Load an image from the output folder. When the refresh button is clicked, the node will update "
                   "the image list and automatically select the first image, allowing for easy iteration.")
    EXPERIMENTAL = True
    FUNCTION = "load_image"


# The rest of ComfyUI's nodes.py classes (latent, image, conditioning, loaders, samplers).
from comfy._nodes_core import *  # noqa: E402,F401,F403
from comfy._nodes_core import (  # noqa: E402
    NODE_CLASS_MAPPINGS as _CORE_MAPPINGS, NODE_DISPLAY_NAME_MAPPINGS as _CORE_NAMES, _file_sha256, common_ksampler)

_IMAGE_IO = {
    "SaveImage": SaveImage,
    "PreviewImage": PreviewImage,
    "LoadImage": LoadImage,
    "LoadImageOutput": LoadImageOutput,
    "ImageInvert": ImageInvert,
    "EmptyImage": EmptyImage,
}

# ComfyUI 0.3.64's order (the order /object_info lists them in). Every class is registered: the
# model-free ones work; loaders and samplers validate like ComfyUI's and fail at run time with an
# execution_error naming the missing model library.
_ORDER = ["KSampler", "CheckpointLoaderSimple", "CLIPTextEncode", "CLIPSetLastLayer", "VAEDecode", "VAEEncode",
          "VAEEncodeForInpaint", "VAELoader", "EmptyLatentImage", "LatentUpscale", "LatentUpscaleBy",
          "LatentFromBatch", "RepeatLatentBatch", "SaveImage", "PreviewImage", "LoadImage", "LoadImageMask",
          "LoadImageOutput", "ImageScale", "ImageScaleBy", "ImageInvert", "ImageBatch", "ImagePadForOutpaint",
          "EmptyImage"]
NODE_CLASS_MAPPINGS = {}
for _name in _ORDER:
    NODE_CLASS_MAPPINGS[_name] = _IMAGE_IO.get(_name) or _CORE_MAPPINGS[_name]
for _name, _cls in _CORE_MAPPINGS.items():
    NODE_CLASS_MAPPINGS.setdefault(_name, _cls)
del _name, _cls

# 0.3.64 has no display name for EmptyImage; the frontend then shows the class name.
NODE_DISPLAY_NAME_MAPPINGS = dict(_CORE_NAMES)
NODE_DISPLAY_NAME_MAPPINGS.update({
    "SaveImage": "Save Image",
    "PreviewImage": "Preview Image",
    "LoadImage": "Load Image",
    "LoadImageOutput": "Load Image (from Outputs)",
    "ImageInvert": "Invert Image",
})
