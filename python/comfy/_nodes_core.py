"""The rest of ComfyUI 0.3.64's `nodes.py` node classes (besides the image I/O ones in
_nodes_builtin): latent, image, mask and conditioning nodes, loaders and samplers, with ComfyUI's
INPUT_TYPES, RETURN_TYPES, RETURN_NAMES, FUNCTION, CATEGORY, OUTPUT_NODE and DESCRIPTION, because
packs import and subclass them (`from nodes import KSampler, CLIPTextEncode`, `class
MyLoader(nodes.LoraLoader)`).

The node bodies follow ComfyUI's behaviour. Nodes that only move tensors (EmptyLatentImage,
LatentUpscale, LatentComposite, ImageScale, ImagePadForOutpaint, the conditioning transforms, ...)
really work and give ComfyUI's results. Nodes that load or run a model reach a comfy.sd /
comfy.sample / comfy.controlnet / comfy.clip_vision function that raises a RuntimeError naming what
is missing (ComfyUI's model library), so a workflow using them fails with a clear execution_error.
"""
import hashlib
import json
import math
import os

import numpy as np
import torch
from PIL import Image, ImageOps

import comfy.clip_vision
import comfy.controlnet
import comfy.model_management
import comfy.sample
import comfy.samplers
import comfy.sd
import comfy.utils
from comfy._compat import latent_preview, node_helpers
from comfy._missing import model_library_error
from comfy.comfy_types import IO, ComfyNodeABC, InputTypeDict

MAX_RESOLUTION = 16384


def _folder_paths():
    import folder_paths
    return folder_paths


def _metadata_disabled():
    from comfy import _nodes_builtin
    return _nodes_builtin._metadata_disabled()


def _file_sha256(path):
    m = hashlib.sha256()
    with open(path, "rb") as f:
        m.update(f.read())
    return m.digest().hex()


# -- conditioning ----------------------------------------------------------------------------------------

class CLIPTextEncode(ComfyNodeABC):
    @classmethod
    def INPUT_TYPES(s) -> InputTypeDict:
        return {
            "required": {
                "text": (IO.STRING, {"multiline": True, "dynamicPrompts": True, "tooltip": "The text to be encoded."}),
                "clip": (IO.CLIP, {"tooltip": "The CLIP model used for encoding the text."}),
            }
        }

    RETURN_TYPES = (IO.CONDITIONING,)
    OUTPUT_TOOLTIPS = ("A conditioning containing the embedded text used to guide the diffusion model.",)
    FUNCTION = "encode"
    CATEGORY = "conditioning"
    DESCRIPTION = ("Encodes a text prompt using a CLIP model into an embedding that can be used to guide the "
                   "diffusion model towards generating specific images.")

    def encode(self, clip, text):
        if clip is None:
            raise RuntimeError("ERROR: clip input is invalid: None\n\nIf the clip is from a checkpoint loader node "
                               "your checkpoint does not contain a valid clip or text encoder model.")
        tokens = clip.tokenize(text)
        return (clip.encode_from_tokens_scheduled(tokens),)


class ConditioningCombine:
    @classmethod
    def INPUT_TYPES(s):
        return {"required": {"conditioning_1": ("CONDITIONING",), "conditioning_2": ("CONDITIONING",)}}

    RETURN_TYPES = ("CONDITIONING",)
    FUNCTION = "combine"
    CATEGORY = "conditioning"

    def combine(self, conditioning_1, conditioning_2):
        return (conditioning_1 + conditioning_2,)


class ConditioningAverage:
    @classmethod
    def INPUT_TYPES(s):
        return {"required": {"conditioning_to": ("CONDITIONING",), "conditioning_from": ("CONDITIONING",),
                             "conditioning_to_strength": ("FLOAT", {"default": 1.0, "min": 0.0, "max": 1.0,
                                                                    "step": 0.01})}}

    RETURN_TYPES = ("CONDITIONING",)
    FUNCTION = "addWeighted"
    CATEGORY = "conditioning"

    def addWeighted(self, conditioning_to, conditioning_from, conditioning_to_strength):
        import logging
        if len(conditioning_from) > 1:
            logging.warning("Warning: ConditioningAverage conditioning_from contains more than 1 cond, only the "
                            "first one will actually be applied to conditioning_to.")
        cond_from = conditioning_from[0][0]
        pooled_from = conditioning_from[0][1].get("pooled_output", None)
        w = conditioning_to_strength
        out = []
        for cond_to, options in conditioning_to:
            pooled_to = options.get("pooled_output", pooled_from)
            t0 = cond_from[:, :cond_to.shape[1]]
            if t0.shape[1] < cond_to.shape[1]:
                pad = torch.zeros((1, cond_to.shape[1] - t0.shape[1], cond_to.shape[2]))
                t0 = torch.cat([t0, pad], dim=1)
            mixed = torch.mul(cond_to, w) + torch.mul(t0, (1.0 - w))
            options = options.copy()
            if pooled_from is not None and pooled_to is not None:
                options["pooled_output"] = torch.mul(pooled_to, w) + torch.mul(pooled_from, (1.0 - w))
            elif pooled_from is not None:
                options["pooled_output"] = pooled_from
            out.append([mixed, options])
        return (out,)


class ConditioningConcat:
    @classmethod
    def INPUT_TYPES(s):
        return {"required": {"conditioning_to": ("CONDITIONING",), "conditioning_from": ("CONDITIONING",)}}

    RETURN_TYPES = ("CONDITIONING",)
    FUNCTION = "concat"
    CATEGORY = "conditioning"

    def concat(self, conditioning_to, conditioning_from):
        import logging
        if len(conditioning_from) > 1:
            logging.warning("Warning: ConditioningConcat conditioning_from contains more than 1 cond, only the "
                            "first one will actually be applied to conditioning_to.")
        cond_from = conditioning_from[0][0]
        return ([[torch.cat((cond, cond_from), 1), options.copy()] for cond, options in conditioning_to],)


def _area_inputs(kind):
    if kind == "pixels":
        dim = lambda default: ("INT", {"default": default, "min": 64, "max": MAX_RESOLUTION, "step": 8})  # noqa: E731
        pos = lambda: ("INT", {"default": 0, "min": 0, "max": MAX_RESOLUTION, "step": 8})  # noqa: E731
    else:
        dim = lambda default: ("FLOAT", {"default": default, "min": 0, "max": 1.0, "step": 0.01})  # noqa: E731
        pos = lambda: ("FLOAT", {"default": 0, "min": 0, "max": 1.0, "step": 0.01})  # noqa: E731
    return {"conditioning": ("CONDITIONING",),
            "width": dim(64 if kind == "pixels" else 1.0), "height": dim(64 if kind == "pixels" else 1.0),
            "x": pos(), "y": pos(),
            "strength": ("FLOAT", {"default": 1.0, "min": 0.0, "max": 10.0, "step": 0.01})}


class ConditioningSetArea:
    @classmethod
    def INPUT_TYPES(s):
        return {"required": _area_inputs("pixels")}

    RETURN_TYPES = ("CONDITIONING",)
    FUNCTION = "append"
    CATEGORY = "conditioning"

    def append(self, conditioning, width, height, x, y, strength):
        return (node_helpers.conditioning_set_values(conditioning, {
            "area": (height // 8, width // 8, y // 8, x // 8), "strength": strength, "set_area_to_bounds": False}),)


class ConditioningSetAreaPercentage:
    @classmethod
    def INPUT_TYPES(s):
        return {"required": _area_inputs("percentage")}

    RETURN_TYPES = ("CONDITIONING",)
    FUNCTION = "append"
    CATEGORY = "conditioning"

    def append(self, conditioning, width, height, x, y, strength):
        return (node_helpers.conditioning_set_values(conditioning, {
            "area": ("percentage", height, width, y, x), "strength": strength, "set_area_to_bounds": False}),)


class ConditioningSetAreaStrength:
    @classmethod
    def INPUT_TYPES(s):
        return {"required": {"conditioning": ("CONDITIONING",),
                             "strength": ("FLOAT", {"default": 1.0, "min": 0.0, "max": 10.0, "step": 0.01})}}

    RETURN_TYPES = ("CONDITIONING",)
    FUNCTION = "append"
    CATEGORY = "conditioning"

    def append(self, conditioning, strength):
        return (node_helpers.conditioning_set_values(conditioning, {"strength": strength}),)


class ConditioningSetMask:
    @classmethod
    def INPUT_TYPES(s):
        return {"required": {"conditioning": ("CONDITIONING",),
                             "mask": ("MASK",),
                             "strength": ("FLOAT", {"default": 1.0, "min": 0.0, "max": 10.0, "step": 0.01}),
                             "set_cond_area": (["default", "mask bounds"],)}}

    RETURN_TYPES = ("CONDITIONING",)
    FUNCTION = "append"
    CATEGORY = "conditioning"

    def append(self, conditioning, mask, set_cond_area, strength):
        if len(mask.shape) < 3:
            mask = mask.unsqueeze(0)
        return (node_helpers.conditioning_set_values(conditioning, {
            "mask": mask, "set_area_to_bounds": set_cond_area != "default", "mask_strength": strength}),)


class ConditioningZeroOut:
    @classmethod
    def INPUT_TYPES(s):
        return {"required": {"conditioning": ("CONDITIONING",)}}

    RETURN_TYPES = ("CONDITIONING",)
    FUNCTION = "zero_out"
    CATEGORY = "advanced/conditioning"

    def zero_out(self, conditioning):
        out = []
        for cond, options in conditioning:
            options = options.copy()
            for key in ("pooled_output", "conditioning_lyrics"):
                value = options.get(key, None)
                if value is not None:
                    options[key] = torch.zeros_like(value)
            out.append([torch.zeros_like(cond), options])
        return (out,)


class ConditioningSetTimestepRange:
    @classmethod
    def INPUT_TYPES(s):
        return {"required": {"conditioning": ("CONDITIONING",),
                             "start": ("FLOAT", {"default": 0.0, "min": 0.0, "max": 1.0, "step": 0.001}),
                             "end": ("FLOAT", {"default": 1.0, "min": 0.0, "max": 1.0, "step": 0.001})}}

    RETURN_TYPES = ("CONDITIONING",)
    FUNCTION = "set_range"
    CATEGORY = "advanced/conditioning"

    def set_range(self, conditioning, start, end):
        return (node_helpers.conditioning_set_values(conditioning, {"start_percent": start, "end_percent": end}),)


class unCLIPConditioning:
    @classmethod
    def INPUT_TYPES(s):
        return {"required": {"conditioning": ("CONDITIONING",),
                             "clip_vision_output": ("CLIP_VISION_OUTPUT",),
                             "strength": ("FLOAT", {"default": 1.0, "min": -10.0, "max": 10.0, "step": 0.01}),
                             "noise_augmentation": ("FLOAT", {"default": 0.0, "min": 0.0, "max": 1.0, "step": 0.01})}}

    RETURN_TYPES = ("CONDITIONING",)
    FUNCTION = "apply_adm"
    CATEGORY = "conditioning"

    def apply_adm(self, conditioning, clip_vision_output, strength, noise_augmentation):
        if strength == 0:
            return (conditioning,)
        entry = {"clip_vision_output": clip_vision_output, "strength": strength,
                 "noise_augmentation": noise_augmentation}
        return (node_helpers.conditioning_set_values(conditioning, {"unclip_conditioning": [entry]}, append=True),)


class CLIPSetLastLayer:
    @classmethod
    def INPUT_TYPES(s):
        return {"required": {"clip": ("CLIP",),
                             "stop_at_clip_layer": ("INT", {"default": -1, "min": -24, "max": -1, "step": 1})}}

    RETURN_TYPES = ("CLIP",)
    FUNCTION = "set_last_layer"
    CATEGORY = "conditioning"

    def set_last_layer(self, clip, stop_at_clip_layer):
        clip = clip.clone()
        clip.clip_layer(stop_at_clip_layer)
        return (clip,)


class CLIPVisionEncode:
    @classmethod
    def INPUT_TYPES(s):
        return {"required": {"clip_vision": ("CLIP_VISION",), "image": ("IMAGE",), "crop": (["center", "none"],)}}

    RETURN_TYPES = ("CLIP_VISION_OUTPUT",)
    FUNCTION = "encode"
    CATEGORY = "conditioning"

    def encode(self, clip_vision, image, crop):
        return (clip_vision.encode_image(image, crop=crop == "center"),)


class StyleModelApply:
    @classmethod
    def INPUT_TYPES(s):
        return {"required": {"conditioning": ("CONDITIONING",),
                             "style_model": ("STYLE_MODEL",),
                             "clip_vision_output": ("CLIP_VISION_OUTPUT",),
                             "strength": ("FLOAT", {"default": 1.0, "min": 0.0, "max": 10.0, "step": 0.001}),
                             "strength_type": (["multiply", "attn_bias"],)}}

    RETURN_TYPES = ("CONDITIONING",)
    FUNCTION = "apply_stylemodel"
    CATEGORY = "conditioning/style_model"

    def apply_stylemodel(self, conditioning, style_model, clip_vision_output, strength, strength_type):
        cond = style_model.get_cond(clip_vision_output).flatten(start_dim=0, end_dim=1).unsqueeze(dim=0)
        if strength_type == "multiply":
            cond *= strength
        n = cond.shape[1]
        out = []
        for txt, keys in conditioning:
            keys = keys.copy()
            if "attention_mask" in keys or (strength_type == "attn_bias" and strength != 1.0):
                # log(0) = -inf is wanted here: torch.log, not math.log.
                bias = torch.log(torch.Tensor([strength if strength_type == "attn_bias" else 1.0]))
                ref_size = keys.get("attention_mask_img_shape", (1, 1))
                n_ref = ref_size[0] * ref_size[1]
                n_txt = txt.shape[1]
                mask = keys.get("attention_mask", None)
                if mask is None:
                    mask = torch.zeros((txt.shape[0], n_txt + n_ref, n_txt + n_ref), dtype=torch.float16)
                if mask.dtype == torch.bool:
                    mask = torch.log(mask.to(dtype=torch.float16))
                grown = torch.zeros((txt.shape[0], n_txt + n + n_ref, n_txt + n + n_ref), dtype=torch.float16)
                grown[:, :n_txt, :n_txt] = mask[:, :n_txt, :n_txt]
                grown[:, :n_txt, n_txt + n:] = mask[:, :n_txt, n_txt:]
                grown[:, n_txt + n:, :n_txt] = mask[:, n_txt:, :n_txt]
                grown[:, n_txt + n:, n_txt + n:] = mask[:, n_txt:, n_txt:]
                grown[:, :n_txt, n_txt:n_txt + n] = bias
                grown[:, n_txt + n:, n_txt:n_txt + n] = bias
                keys["attention_mask"] = grown.to(txt.device)
                keys["attention_mask_img_shape"] = ref_size
            out.append([torch.cat((txt, cond), dim=1), keys])
        return (out,)


class GLIGENTextBoxApply:
    @classmethod
    def INPUT_TYPES(s):
        return {"required": {"conditioning_to": ("CONDITIONING",),
                             "clip": ("CLIP",),
                             "gligen_textbox_model": ("GLIGEN",),
                             "text": ("STRING", {"multiline": True, "dynamicPrompts": True}),
                             "width": ("INT", {"default": 64, "min": 8, "max": MAX_RESOLUTION, "step": 8}),
                             "height": ("INT", {"default": 64, "min": 8, "max": MAX_RESOLUTION, "step": 8}),
                             "x": ("INT", {"default": 0, "min": 0, "max": MAX_RESOLUTION, "step": 8}),
                             "y": ("INT", {"default": 0, "min": 0, "max": MAX_RESOLUTION, "step": 8})}}

    RETURN_TYPES = ("CONDITIONING",)
    FUNCTION = "append"
    CATEGORY = "conditioning/gligen"

    def append(self, conditioning_to, clip, gligen_textbox_model, text, width, height, x, y):
        _, cond_pooled = clip.encode_from_tokens(clip.tokenize(text), return_pooled="unprojected")
        out = []
        for cond, options in conditioning_to:
            options = options.copy()
            position = [(cond_pooled, height // 8, width // 8, y // 8, x // 8)]
            previous = options["gligen"][2] if "gligen" in options else []
            options["gligen"] = ("position", gligen_textbox_model, previous + position)
            out.append([cond, options])
        return (out,)


# -- controlnet ------------------------------------------------------------------------------------------

class ControlNetApply:
    @classmethod
    def INPUT_TYPES(s):
        return {"required": {"conditioning": ("CONDITIONING",),
                             "control_net": ("CONTROL_NET",),
                             "image": ("IMAGE",),
                             "strength": ("FLOAT", {"default": 1.0, "min": 0.0, "max": 10.0, "step": 0.01})}}

    RETURN_TYPES = ("CONDITIONING",)
    FUNCTION = "apply_controlnet"
    DEPRECATED = True
    CATEGORY = "conditioning/controlnet"

    def apply_controlnet(self, conditioning, control_net, image, strength):
        if strength == 0:
            return (conditioning,)
        hint = image.movedim(-1, 1)
        out = []
        for cond, options in conditioning:
            options = options.copy()
            c_net = control_net.copy().set_cond_hint(hint, strength)
            if "control" in options:
                c_net.set_previous_controlnet(options["control"])
            options["control"] = c_net
            options["control_apply_to_uncond"] = True
            out.append([cond, options])
        return (out,)


class ControlNetApplyAdvanced:
    @classmethod
    def INPUT_TYPES(s):
        return {"required": {"positive": ("CONDITIONING",),
                             "negative": ("CONDITIONING",),
                             "control_net": ("CONTROL_NET",),
                             "image": ("IMAGE",),
                             "strength": ("FLOAT", {"default": 1.0, "min": 0.0, "max": 10.0, "step": 0.01}),
                             "start_percent": ("FLOAT", {"default": 0.0, "min": 0.0, "max": 1.0, "step": 0.001}),
                             "end_percent": ("FLOAT", {"default": 1.0, "min": 0.0, "max": 1.0, "step": 0.001})},
                "optional": {"vae": ("VAE",)}}

    RETURN_TYPES = ("CONDITIONING", "CONDITIONING")
    RETURN_NAMES = ("positive", "negative")
    FUNCTION = "apply_controlnet"
    CATEGORY = "conditioning/controlnet"

    def apply_controlnet(self, positive, negative, control_net, image, strength, start_percent, end_percent,
                         vae=None, extra_concat=[]):
        if strength == 0:
            return (positive, negative)
        hint = image.movedim(-1, 1)
        made = {}  # one controlnet copy per previous controlnet, shared by positive and negative
        out = []
        for conditioning in (positive, negative):
            converted = []
            for cond, options in conditioning:
                options = options.copy()
                previous = options.get("control", None)
                if previous in made:
                    c_net = made[previous]
                else:
                    c_net = control_net.copy().set_cond_hint(hint, strength, (start_percent, end_percent), vae=vae,
                                                             extra_concat=extra_concat)
                    c_net.set_previous_controlnet(previous)
                    made[previous] = c_net
                options["control"] = c_net
                options["control_apply_to_uncond"] = False
                converted.append([cond, options])
            out.append(converted)
        return (out[0], out[1])


# -- VAE ---------------------------------------------------------------------------------------------------

class VAEDecode:
    @classmethod
    def INPUT_TYPES(s):
        return {"required": {"samples": ("LATENT", {"tooltip": "The latent to be decoded."}),
                             "vae": ("VAE", {"tooltip": "The VAE model used for decoding the latent."})}}

    RETURN_TYPES = ("IMAGE",)
    OUTPUT_TOOLTIPS = ("The decoded image.",)
    FUNCTION = "decode"
    CATEGORY = "latent"
    DESCRIPTION = "Decodes latent images back into pixel space images."

    def decode(self, vae, samples):
        images = vae.decode(samples["samples"])
        if len(images.shape) == 5:  # video: batches of frames -> frames
            images = images.reshape(-1, images.shape[-3], images.shape[-2], images.shape[-1])
        return (images,)


class VAEDecodeTiled:
    @classmethod
    def INPUT_TYPES(s):
        return {"required": {"samples": ("LATENT",), "vae": ("VAE",),
                             "tile_size": ("INT", {"default": 512, "min": 64, "max": 4096, "step": 32}),
                             "overlap": ("INT", {"default": 64, "min": 0, "max": 4096, "step": 32}),
                             "temporal_size": ("INT", {"default": 64, "min": 8, "max": 4096, "step": 4,
                                                       "tooltip": "Only used for video VAEs: Amount of frames to "
                                                                  "decode at a time."}),
                             "temporal_overlap": ("INT", {"default": 8, "min": 4, "max": 4096, "step": 4,
                                                          "tooltip": "Only used for video VAEs: Amount of frames to "
                                                                     "overlap."})}}

    RETURN_TYPES = ("IMAGE",)
    FUNCTION = "decode"
    CATEGORY = "_for_testing"

    def decode(self, vae, samples, tile_size, overlap=64, temporal_size=64, temporal_overlap=8):
        if tile_size < overlap * 4:
            overlap = tile_size // 4
        if temporal_size < temporal_overlap * 2:
            temporal_overlap = temporal_overlap // 2
        temporal_compression = vae.temporal_compression_decode()
        if temporal_compression is not None:
            temporal_size = max(2, temporal_size // temporal_compression)
            temporal_overlap = max(1, min(temporal_size // 2, temporal_overlap // temporal_compression))
        else:
            temporal_size = temporal_overlap = None
        compression = vae.spacial_compression_decode()
        images = vae.decode_tiled(samples["samples"], tile_x=tile_size // compression, tile_y=tile_size // compression,
                                  overlap=overlap // compression, tile_t=temporal_size, overlap_t=temporal_overlap)
        if len(images.shape) == 5:
            images = images.reshape(-1, images.shape[-3], images.shape[-2], images.shape[-1])
        return (images,)


class VAEEncode:
    @classmethod
    def INPUT_TYPES(s):
        return {"required": {"pixels": ("IMAGE",), "vae": ("VAE",)}}

    RETURN_TYPES = ("LATENT",)
    FUNCTION = "encode"
    CATEGORY = "latent"

    def encode(self, vae, pixels):
        return ({"samples": vae.encode(pixels[:, :, :, :3])},)


class VAEEncodeTiled:
    @classmethod
    def INPUT_TYPES(s):
        return {"required": {"pixels": ("IMAGE",), "vae": ("VAE",),
                             "tile_size": ("INT", {"default": 512, "min": 64, "max": 4096, "step": 64}),
                             "overlap": ("INT", {"default": 64, "min": 0, "max": 4096, "step": 32}),
                             "temporal_size": ("INT", {"default": 64, "min": 8, "max": 4096, "step": 4,
                                                       "tooltip": "Only used for video VAEs: Amount of frames to "
                                                                  "encode at a time."}),
                             "temporal_overlap": ("INT", {"default": 8, "min": 4, "max": 4096, "step": 4,
                                                          "tooltip": "Only used for video VAEs: Amount of frames to "
                                                                     "overlap."})}}

    RETURN_TYPES = ("LATENT",)
    FUNCTION = "encode"
    CATEGORY = "_for_testing"

    def encode(self, vae, pixels, tile_size, overlap, temporal_size=64, temporal_overlap=8):
        t = vae.encode_tiled(pixels[:, :, :, :3], tile_x=tile_size, tile_y=tile_size, overlap=overlap,
                             tile_t=temporal_size, overlap_t=temporal_overlap)
        return ({"samples": t},)


def _inpaint_crop(pixels, mask, multiple):
    """Pixels and an interpolated [B, 1, H, W] mask, both center-cropped to a multiple of `multiple`."""
    x = (pixels.shape[1] // multiple) * multiple
    y = (pixels.shape[2] // multiple) * multiple
    mask = torch.nn.functional.interpolate(mask.reshape((-1, 1, mask.shape[-2], mask.shape[-1])),
                                           size=(pixels.shape[1], pixels.shape[2]), mode="bilinear")
    if pixels.shape[1] != x or pixels.shape[2] != y:
        x_offset = (pixels.shape[1] % multiple) // 2
        y_offset = (pixels.shape[2] % multiple) // 2
        pixels = pixels[:, x_offset:x + x_offset, y_offset:y + y_offset, :]
        mask = mask[:, :, x_offset:x + x_offset, y_offset:y + y_offset]
    return pixels, mask, x, y


def _grey_out_masked(pixels, mask):
    keep = (1.0 - mask.round()).squeeze(1)
    for i in range(3):
        pixels[:, :, :, i] -= 0.5
        pixels[:, :, :, i] *= keep
        pixels[:, :, :, i] += 0.5
    return pixels


class VAEEncodeForInpaint:
    @classmethod
    def INPUT_TYPES(s):
        return {"required": {"pixels": ("IMAGE",), "vae": ("VAE",), "mask": ("MASK",),
                             "grow_mask_by": ("INT", {"default": 6, "min": 0, "max": 64, "step": 1})}}

    RETURN_TYPES = ("LATENT",)
    FUNCTION = "encode"
    CATEGORY = "latent/inpaint"

    def encode(self, vae, pixels, mask, grow_mask_by=6):
        pixels, mask, x, y = _inpaint_crop(pixels.clone(), mask, getattr(vae, "downscale_ratio", 8))
        if grow_mask_by == 0:
            grown = mask
        else:
            kernel = torch.ones((1, 1, grow_mask_by, grow_mask_by))
            padding = math.ceil((grow_mask_by - 1) / 2)
            grown = torch.clamp(torch.nn.functional.conv2d(mask.round(), kernel, padding=padding), 0, 1)
        t = vae.encode(_grey_out_masked(pixels, mask))
        return ({"samples": t, "noise_mask": (grown[:, :, :x, :y].round())},)


class InpaintModelConditioning:
    @classmethod
    def INPUT_TYPES(s):
        return {"required": {"positive": ("CONDITIONING",),
                             "negative": ("CONDITIONING",),
                             "vae": ("VAE",),
                             "pixels": ("IMAGE",),
                             "mask": ("MASK",),
                             "noise_mask": ("BOOLEAN", {"default": True,
                                                        "tooltip": "Add a noise mask to the latent so sampling will "
                                                                   "only happen within the mask. Might improve "
                                                                   "results or completely break things depending on "
                                                                   "the model."})}}

    RETURN_TYPES = ("CONDITIONING", "CONDITIONING", "LATENT")
    RETURN_NAMES = ("positive", "negative", "latent")
    FUNCTION = "encode"
    CATEGORY = "conditioning/inpaint"

    def encode(self, positive, negative, pixels, vae, mask, noise_mask=True):
        original = pixels
        pixels, mask, _, _ = _inpaint_crop(original.clone(), mask, 8)
        concat_latent = vae.encode(_grey_out_masked(pixels, mask))
        orig_latent = vae.encode(original)
        out_latent = {"samples": orig_latent}
        if noise_mask:
            out_latent["noise_mask"] = mask
        out = [node_helpers.conditioning_set_values(c, {"concat_latent_image": concat_latent, "concat_mask": mask})
               for c in (positive, negative)]
        return (out[0], out[1], out_latent)


# -- latents -----------------------------------------------------------------------------------------------

class SaveLatent:
    def __init__(self):
        self.output_dir = _folder_paths().get_output_directory()

    @classmethod
    def INPUT_TYPES(s):
        return {"required": {"samples": ("LATENT",),
                             "filename_prefix": ("STRING", {"default": "latents/ComfyUI"})},
                "hidden": {"prompt": "PROMPT", "extra_pnginfo": "EXTRA_PNGINFO"}}

    RETURN_TYPES = ()
    FUNCTION = "save"
    OUTPUT_NODE = True
    CATEGORY = "_for_testing"

    def save(self, samples, filename_prefix="ComfyUI", prompt=None, extra_pnginfo=None):
        full_output_folder, filename, counter, subfolder, filename_prefix = \
            _folder_paths().get_save_image_path(filename_prefix, self.output_dir)
        metadata = None
        if not _metadata_disabled():
            metadata = {"prompt": json.dumps(prompt) if prompt is not None else ""}
            if extra_pnginfo is not None:
                for key in extra_pnginfo:
                    metadata[key] = json.dumps(extra_pnginfo[key])
        file = f"{filename}_{counter:05}_.latent"
        results = [{"filename": file, "subfolder": subfolder, "type": "output"}]
        output = {"latent_tensor": samples["samples"].contiguous(), "latent_format_version_0": torch.tensor([])}
        comfy.utils.save_torch_file(output, os.path.join(full_output_folder, file), metadata=metadata)
        return {"ui": {"latents": results}}


class LoadLatent:
    @classmethod
    def INPUT_TYPES(s):
        input_dir = _folder_paths().get_input_directory()
        try:
            names = os.listdir(input_dir)
        except FileNotFoundError:
            names = []
        files = [f for f in names if os.path.isfile(os.path.join(input_dir, f)) and f.endswith(".latent")]
        return {"required": {"latent": [sorted(files), ]}, }

    CATEGORY = "_for_testing"
    RETURN_TYPES = ("LATENT",)
    FUNCTION = "load"

    def load(self, latent):
        latent_path = _folder_paths().get_annotated_filepath(latent)
        data = comfy.utils.load_safetensors(latent_path, device="cpu")
        # Files without the version marker predate ComfyUI storing unscaled latents.
        multiplier = 1.0 if "latent_format_version_0" in data else 1.0 / 0.18215
        return ({"samples": data["latent_tensor"].float() * multiplier},)

    @classmethod
    def IS_CHANGED(s, latent):
        return _file_sha256(_folder_paths().get_annotated_filepath(latent))

    @classmethod
    def VALIDATE_INPUTS(s, latent):
        if not _folder_paths().exists_annotated_filepath(latent):
            return "Invalid latent file: {}".format(latent)
        return True


class EmptyLatentImage:
    def __init__(self):
        self.device = comfy.model_management.intermediate_device()

    @classmethod
    def INPUT_TYPES(s):
        return {"required": {
            "width": ("INT", {"default": 512, "min": 16, "max": MAX_RESOLUTION, "step": 8,
                              "tooltip": "The width of the latent images in pixels."}),
            "height": ("INT", {"default": 512, "min": 16, "max": MAX_RESOLUTION, "step": 8,
                               "tooltip": "The height of the latent images in pixels."}),
            "batch_size": ("INT", {"default": 1, "min": 1, "max": 4096,
                                   "tooltip": "The number of latent images in the batch."}),
        }}

    RETURN_TYPES = ("LATENT",)
    OUTPUT_TOOLTIPS = ("The empty latent image batch.",)
    FUNCTION = "generate"
    CATEGORY = "latent"
    DESCRIPTION = "Create a new batch of empty latent images to be denoised via sampling."

    def generate(self, width, height, batch_size=1):
        return ({"samples": torch.zeros([batch_size, 4, height // 8, width // 8], device=self.device)},)


class LatentFromBatch:
    @classmethod
    def INPUT_TYPES(s):
        return {"required": {"samples": ("LATENT",),
                             "batch_index": ("INT", {"default": 0, "min": 0, "max": 63}),
                             "length": ("INT", {"default": 1, "min": 1, "max": 64})}}

    RETURN_TYPES = ("LATENT",)
    FUNCTION = "frombatch"
    CATEGORY = "latent/batch"

    def frombatch(self, samples, batch_index, length):
        s = samples.copy()
        s_in = samples["samples"]
        batch_index = min(s_in.shape[0] - 1, batch_index)
        length = min(s_in.shape[0] - batch_index, length)
        s["samples"] = s_in[batch_index:batch_index + length].clone()
        if "noise_mask" in samples:
            masks = samples["noise_mask"]
            if masks.shape[0] == 1:
                s["noise_mask"] = masks.clone()
            else:
                if masks.shape[0] < s_in.shape[0]:
                    masks = masks.repeat(math.ceil(s_in.shape[0] / masks.shape[0]), 1, 1, 1)[:s_in.shape[0]]
                s["noise_mask"] = masks[batch_index:batch_index + length].clone()
        if "batch_index" not in s:
            s["batch_index"] = list(range(batch_index, batch_index + length))
        else:
            s["batch_index"] = samples["batch_index"][batch_index:batch_index + length]
        return (s,)


class RepeatLatentBatch:
    @classmethod
    def INPUT_TYPES(s):
        return {"required": {"samples": ("LATENT",),
                             "amount": ("INT", {"default": 1, "min": 1, "max": 64})}}

    RETURN_TYPES = ("LATENT",)
    FUNCTION = "repeat"
    CATEGORY = "latent/batch"

    def repeat(self, samples, amount):
        s = samples.copy()
        s_in = samples["samples"]
        s["samples"] = s_in.repeat((amount,) + (1,) * (s_in.ndim - 1))
        if "noise_mask" in samples and samples["noise_mask"].shape[0] > 1:
            masks = samples["noise_mask"]
            s["noise_mask"] = masks.repeat((amount,) + (1,) * (masks.ndim - 1))
        if "batch_index" in s:
            offset = max(s["batch_index"]) - min(s["batch_index"]) + 1
            s["batch_index"] = s["batch_index"] + [x + (i * offset) for i in range(1, amount) for x in s["batch_index"]]
        return (s,)


class LatentUpscale:
    upscale_methods = ["nearest-exact", "bilinear", "area", "bicubic", "bislerp"]
    crop_methods = ["disabled", "center"]

    @classmethod
    def INPUT_TYPES(s):
        return {"required": {"samples": ("LATENT",), "upscale_method": (s.upscale_methods,),
                             "width": ("INT", {"default": 512, "min": 0, "max": MAX_RESOLUTION, "step": 8}),
                             "height": ("INT", {"default": 512, "min": 0, "max": MAX_RESOLUTION, "step": 8}),
                             "crop": (s.crop_methods,)}}

    RETURN_TYPES = ("LATENT",)
    FUNCTION = "upscale"
    CATEGORY = "latent"

    def upscale(self, samples, upscale_method, width, height, crop):
        if width == 0 and height == 0:
            return (samples,)
        s = samples.copy()
        latent = samples["samples"]
        if width == 0:
            height = max(64, height)
            width = max(64, round(latent.shape[-1] * height / latent.shape[-2]))
        elif height == 0:
            width = max(64, width)
            height = max(64, round(latent.shape[-2] * width / latent.shape[-1]))
        else:
            width, height = max(64, width), max(64, height)
        s["samples"] = comfy.utils.common_upscale(latent, width // 8, height // 8, upscale_method, crop)
        return (s,)


class LatentUpscaleBy:
    upscale_methods = ["nearest-exact", "bilinear", "area", "bicubic", "bislerp"]

    @classmethod
    def INPUT_TYPES(s):
        return {"required": {"samples": ("LATENT",), "upscale_method": (s.upscale_methods,),
                             "scale_by": ("FLOAT", {"default": 1.5, "min": 0.01, "max": 8.0, "step": 0.01})}}

    RETURN_TYPES = ("LATENT",)
    FUNCTION = "upscale"
    CATEGORY = "latent"

    def upscale(self, samples, upscale_method, scale_by):
        s = samples.copy()
        latent = samples["samples"]
        width = round(latent.shape[-1] * scale_by)
        height = round(latent.shape[-2] * scale_by)
        s["samples"] = comfy.utils.common_upscale(latent, width, height, upscale_method, "disabled")
        return (s,)


class LatentRotate:
    @classmethod
    def INPUT_TYPES(s):
        return {"required": {"samples": ("LATENT",),
                             "rotation": (["none", "90 degrees", "180 degrees", "270 degrees"],)}}

    RETURN_TYPES = ("LATENT",)
    FUNCTION = "rotate"
    CATEGORY = "latent/transform"

    def rotate(self, samples, rotation):
        turns = {"90": 1, "180": 2, "270": 3}.get(rotation.split(" ")[0], 0)
        s = samples.copy()
        s["samples"] = torch.rot90(samples["samples"], k=turns, dims=[3, 2])
        return (s,)


class LatentFlip:
    @classmethod
    def INPUT_TYPES(s):
        return {"required": {"samples": ("LATENT",),
                             "flip_method": (["x-axis: vertically", "y-axis: horizontally"],)}}

    RETURN_TYPES = ("LATENT",)
    FUNCTION = "flip"
    CATEGORY = "latent/transform"

    def flip(self, samples, flip_method):
        s = samples.copy()
        if flip_method.startswith("x"):
            s["samples"] = torch.flip(samples["samples"], dims=[2])
        elif flip_method.startswith("y"):
            s["samples"] = torch.flip(samples["samples"], dims=[3])
        return (s,)


class LatentComposite:
    @classmethod
    def INPUT_TYPES(s):
        return {"required": {"samples_to": ("LATENT",),
                             "samples_from": ("LATENT",),
                             "x": ("INT", {"default": 0, "min": 0, "max": MAX_RESOLUTION, "step": 8}),
                             "y": ("INT", {"default": 0, "min": 0, "max": MAX_RESOLUTION, "step": 8}),
                             "feather": ("INT", {"default": 0, "min": 0, "max": MAX_RESOLUTION, "step": 8})}}

    RETURN_TYPES = ("LATENT",)
    FUNCTION = "composite"
    CATEGORY = "latent"

    def composite(self, samples_to, samples_from, x, y, composite_method="normal", feather=0):
        x, y, feather = x // 8, y // 8, feather // 8
        out = samples_to.copy()
        dest = samples_to["samples"]
        s = dest.clone()
        src = samples_from["samples"][:, :, :dest.shape[2] - y, :dest.shape[3] - x]
        region = (slice(None), slice(None), slice(y, y + src.shape[2]), slice(x, x + src.shape[3]))
        if feather == 0:
            s[region] = src
        else:
            mask = torch.ones_like(src)
            for t in range(feather):
                ramp = (1.0 / feather) * (t + 1)
                if y != 0:
                    mask[:, :, t:1 + t, :] *= ramp
                if y + src.shape[2] < dest.shape[2]:
                    mask[:, :, mask.shape[2] - 1 - t:mask.shape[2] - t, :] *= ramp
                if x != 0:
                    mask[:, :, :, t:1 + t] *= ramp
                if x + src.shape[3] < dest.shape[3]:
                    mask[:, :, :, mask.shape[3] - 1 - t:mask.shape[3] - t] *= ramp
            s[region] = src * mask + s[region] * (torch.ones_like(mask) - mask)
        out["samples"] = s
        return (out,)


class LatentBlend:
    @classmethod
    def INPUT_TYPES(s):
        return {"required": {"samples1": ("LATENT",),
                             "samples2": ("LATENT",),
                             "blend_factor": ("FLOAT", {"default": 0.5, "min": 0, "max": 1, "step": 0.01})}}

    RETURN_TYPES = ("LATENT",)
    FUNCTION = "blend"
    CATEGORY = "_for_testing"

    def blend(self, samples1, samples2, blend_factor: float, blend_mode: str = "normal"):
        out = samples1.copy()
        a = samples1["samples"]
        b = samples2["samples"]
        if a.shape != b.shape:
            b = comfy.utils.common_upscale(b, a.shape[3], a.shape[2], "bicubic", crop="center")
        blended = self.blend_mode(a, b, blend_mode)
        out["samples"] = a * blend_factor + blended * (1 - blend_factor)
        return (out,)

    def blend_mode(self, img1, img2, mode):
        if mode == "normal":
            return img2
        raise ValueError(f"Unsupported blend mode: {mode}")


class LatentCrop:
    @classmethod
    def INPUT_TYPES(s):
        return {"required": {"samples": ("LATENT",),
                             "width": ("INT", {"default": 512, "min": 64, "max": MAX_RESOLUTION, "step": 8}),
                             "height": ("INT", {"default": 512, "min": 64, "max": MAX_RESOLUTION, "step": 8}),
                             "x": ("INT", {"default": 0, "min": 0, "max": MAX_RESOLUTION, "step": 8}),
                             "y": ("INT", {"default": 0, "min": 0, "max": MAX_RESOLUTION, "step": 8})}}

    RETURN_TYPES = ("LATENT",)
    FUNCTION = "crop"
    CATEGORY = "latent/transform"

    def crop(self, samples, width, height, x, y):
        s = samples.copy()
        latent = samples["samples"]
        x, y = x // 8, y // 8
        # Keep at least 8 latent pixels (64 image pixels) to crop from.
        x = min(x, latent.shape[3] - 8)
        y = min(y, latent.shape[2] - 8)
        s["samples"] = latent[:, :, y:y + height // 8, x:x + width // 8]
        return (s,)


class SetLatentNoiseMask:
    @classmethod
    def INPUT_TYPES(s):
        return {"required": {"samples": ("LATENT",), "mask": ("MASK",)}}

    RETURN_TYPES = ("LATENT",)
    FUNCTION = "set_mask"
    CATEGORY = "latent/inpaint"

    def set_mask(self, samples, mask):
        s = samples.copy()
        s["noise_mask"] = mask.reshape((-1, 1, mask.shape[-2], mask.shape[-1]))
        return (s,)


# -- loaders (need the model library) ----------------------------------------------------------------------

class CheckpointLoader:
    @classmethod
    def INPUT_TYPES(s):
        fp = _folder_paths()
        return {"required": {"config_name": (fp.get_filename_list("configs"),),
                             "ckpt_name": (fp.get_filename_list("checkpoints"),)}}

    RETURN_TYPES = ("MODEL", "CLIP", "VAE")
    FUNCTION = "load_checkpoint"
    CATEGORY = "advanced/loaders"
    DEPRECATED = True

    def load_checkpoint(self, config_name, ckpt_name):
        fp = _folder_paths()
        config_path = fp.get_full_path("configs", config_name)
        ckpt_path = fp.get_full_path_or_raise("checkpoints", ckpt_name)
        return comfy.sd.load_checkpoint(config_path, ckpt_path, output_vae=True, output_clip=True,
                                        embedding_directory=fp.get_folder_paths("embeddings"))


class CheckpointLoaderSimple:
    @classmethod
    def INPUT_TYPES(s):
        return {"required": {"ckpt_name": (_folder_paths().get_filename_list("checkpoints"),
                                           {"tooltip": "The name of the checkpoint (model) to load."})}}

    RETURN_TYPES = ("MODEL", "CLIP", "VAE")
    OUTPUT_TOOLTIPS = ("The model used for denoising latents.",
                       "The CLIP model used for encoding text prompts.",
                       "The VAE model used for encoding and decoding images to and from latent space.")
    FUNCTION = "load_checkpoint"
    CATEGORY = "loaders"
    DESCRIPTION = "Loads a diffusion model checkpoint, diffusion models are used to denoise latents."

    def load_checkpoint(self, ckpt_name):
        fp = _folder_paths()
        ckpt_path = fp.get_full_path_or_raise("checkpoints", ckpt_name)
        out = comfy.sd.load_checkpoint_guess_config(ckpt_path, output_vae=True, output_clip=True,
                                                    embedding_directory=fp.get_folder_paths("embeddings"))
        return out[:3]


class DiffusersLoader:
    @classmethod
    def INPUT_TYPES(cls):
        paths = []
        for search_path in _folder_paths().get_folder_paths("diffusers"):
            if os.path.exists(search_path):
                for root, _, files in os.walk(search_path, followlinks=True):
                    if "model_index.json" in files:
                        paths.append(os.path.relpath(root, start=search_path))
        return {"required": {"model_path": (paths,), }}

    RETURN_TYPES = ("MODEL", "CLIP", "VAE")
    FUNCTION = "load_checkpoint"
    CATEGORY = "advanced/loaders/deprecated"

    def load_checkpoint(self, model_path, output_vae=True, output_clip=True):
        raise model_library_error("DiffusersLoader (comfy.diffusers_load.load_diffusers)")


class unCLIPCheckpointLoader:
    @classmethod
    def INPUT_TYPES(s):
        return {"required": {"ckpt_name": (_folder_paths().get_filename_list("checkpoints"),)}}

    RETURN_TYPES = ("MODEL", "CLIP", "VAE", "CLIP_VISION")
    FUNCTION = "load_checkpoint"
    CATEGORY = "loaders"

    def load_checkpoint(self, ckpt_name, output_vae=True, output_clip=True):
        fp = _folder_paths()
        ckpt_path = fp.get_full_path_or_raise("checkpoints", ckpt_name)
        return comfy.sd.load_checkpoint_guess_config(ckpt_path, output_vae=True, output_clip=True,
                                                     output_clipvision=True,
                                                     embedding_directory=fp.get_folder_paths("embeddings"))


class LoraLoader:
    def __init__(self):
        self.loaded_lora = None

    @classmethod
    def INPUT_TYPES(s):
        return {"required": {
            "model": ("MODEL", {"tooltip": "The diffusion model the LoRA will be applied to."}),
            "clip": ("CLIP", {"tooltip": "The CLIP model the LoRA will be applied to."}),
            "lora_name": (_folder_paths().get_filename_list("loras"), {"tooltip": "The name of the LoRA."}),
            "strength_model": ("FLOAT", {"default": 1.0, "min": -100.0, "max": 100.0, "step": 0.01,
                                         "tooltip": "How strongly to modify the diffusion model. This value can be "
                                                    "negative."}),
            "strength_clip": ("FLOAT", {"default": 1.0, "min": -100.0, "max": 100.0, "step": 0.01,
                                        "tooltip": "How strongly to modify the CLIP model. This value can be "
                                                   "negative."}),
        }}

    RETURN_TYPES = ("MODEL", "CLIP")
    OUTPUT_TOOLTIPS = ("The modified diffusion model.", "The modified CLIP model.")
    FUNCTION = "load_lora"
    CATEGORY = "loaders"
    DESCRIPTION = ("LoRAs are used to modify diffusion and CLIP models, altering the way in which latents are "
                   "denoised such as applying styles. Multiple LoRA nodes can be linked together.")

    def load_lora(self, model, clip, lora_name, strength_model, strength_clip):
        if strength_model == 0 and strength_clip == 0:
            return (model, clip)
        lora_path = _folder_paths().get_full_path_or_raise("loras", lora_name)
        lora = None
        if self.loaded_lora is not None:
            if self.loaded_lora[0] == lora_path:
                lora = self.loaded_lora[1]
            else:
                self.loaded_lora = None
        if lora is None:
            lora = comfy.utils.load_torch_file(lora_path, safe_load=True)
            self.loaded_lora = (lora_path, lora)
        model_lora, clip_lora = comfy.sd.load_lora_for_models(model, clip, lora, strength_model, strength_clip)
        return (model_lora, clip_lora)


class LoraLoaderModelOnly(LoraLoader):
    @classmethod
    def INPUT_TYPES(s):
        return {"required": {"model": ("MODEL",),
                             "lora_name": (_folder_paths().get_filename_list("loras"),),
                             "strength_model": ("FLOAT", {"default": 1.0, "min": -100.0, "max": 100.0,
                                                          "step": 0.01})}}

    RETURN_TYPES = ("MODEL",)
    FUNCTION = "load_lora_model_only"

    def load_lora_model_only(self, model, lora_name, strength_model):
        return (self.load_lora(model, None, lora_name, strength_model, 0)[0],)


_TAESD_SCALES = {"taesd": (0.18215, 0.0), "taesdxl": (0.13025, 0.0), "taesd3": (1.5305, 0.0609),
                 "taef1": (0.3611, 0.1159)}


class VAELoader:
    @staticmethod
    def vae_list():
        fp = _folder_paths()
        vaes = list(fp.get_filename_list("vae"))
        approx = fp.get_filename_list("vae_approx")
        for name in ("taesd", "taesdxl", "taesd3", "taef1"):
            if all(any(v.startswith(f"{name}_{part}.") for v in approx) for part in ("encoder", "decoder")):
                vaes.append(name)
        vaes.append("pixel_space")
        return vaes

    @staticmethod
    def load_taesd(name):
        fp = _folder_paths()
        approx = fp.get_filename_list("vae_approx")
        sd = {}
        for part in ("encoder", "decoder"):
            file = next(filter(lambda a: a.startswith("{}_{}.".format(name, part)), approx))
            weights = comfy.utils.load_torch_file(fp.get_full_path_or_raise("vae_approx", file))
            for k in weights:
                sd["taesd_{}.{}".format(part, k)] = weights[k]
        if name in _TAESD_SCALES:
            scale, shift = _TAESD_SCALES[name]
            sd["vae_scale"] = torch.tensor(scale)
            sd["vae_shift"] = torch.tensor(shift)
        return sd

    @classmethod
    def INPUT_TYPES(s):
        return {"required": {"vae_name": (s.vae_list(),)}}

    RETURN_TYPES = ("VAE",)
    FUNCTION = "load_vae"
    CATEGORY = "loaders"

    def load_vae(self, vae_name):
        if vae_name == "pixel_space":
            sd = {"pixel_space_vae": torch.tensor(1.0)}
        elif vae_name in _TAESD_SCALES:
            sd = self.load_taesd(vae_name)
        else:
            sd = comfy.utils.load_torch_file(_folder_paths().get_full_path_or_raise("vae", vae_name))
        vae = comfy.sd.VAE(sd=sd)
        vae.throw_exception_if_invalid()
        return (vae,)


class ControlNetLoader:
    @classmethod
    def INPUT_TYPES(s):
        return {"required": {"control_net_name": (_folder_paths().get_filename_list("controlnet"),)}}

    RETURN_TYPES = ("CONTROL_NET",)
    FUNCTION = "load_controlnet"
    CATEGORY = "loaders"

    def load_controlnet(self, control_net_name):
        path = _folder_paths().get_full_path_or_raise("controlnet", control_net_name)
        controlnet = comfy.controlnet.load_controlnet(path)
        if controlnet is None:
            raise RuntimeError("ERROR: controlnet file is invalid and does not contain a valid controlnet model.")
        return (controlnet,)


class DiffControlNetLoader:
    @classmethod
    def INPUT_TYPES(s):
        return {"required": {"model": ("MODEL",),
                             "control_net_name": (_folder_paths().get_filename_list("controlnet"),)}}

    RETURN_TYPES = ("CONTROL_NET",)
    FUNCTION = "load_controlnet"
    CATEGORY = "loaders"

    def load_controlnet(self, model, control_net_name):
        path = _folder_paths().get_full_path_or_raise("controlnet", control_net_name)
        return (comfy.controlnet.load_controlnet(path, model),)


class UNETLoader:
    @classmethod
    def INPUT_TYPES(s):
        return {"required": {"unet_name": (_folder_paths().get_filename_list("diffusion_models"),),
                             "weight_dtype": (["default", "fp8_e4m3fn", "fp8_e4m3fn_fast", "fp8_e5m2"],)}}

    RETURN_TYPES = ("MODEL",)
    FUNCTION = "load_unet"
    CATEGORY = "advanced/loaders"

    def load_unet(self, unet_name, weight_dtype):
        model_options = {}
        if weight_dtype == "fp8_e4m3fn":
            model_options["dtype"] = torch.float8_e4m3fn
        elif weight_dtype == "fp8_e4m3fn_fast":
            model_options["dtype"] = torch.float8_e4m3fn
            model_options["fp8_optimizations"] = True
        elif weight_dtype == "fp8_e5m2":
            model_options["dtype"] = torch.float8_e5m2
        unet_path = _folder_paths().get_full_path_or_raise("diffusion_models", unet_name)
        return (comfy.sd.load_diffusion_model(unet_path, model_options=model_options),)


def _clip_options(device):
    if device == "cpu":
        return {"load_device": torch.device("cpu"), "offload_device": torch.device("cpu")}
    return {}


class CLIPLoader:
    @classmethod
    def INPUT_TYPES(s):
        return {"required": {"clip_name": (_folder_paths().get_filename_list("text_encoders"),),
                             "type": (["stable_diffusion", "stable_cascade", "sd3", "stable_audio", "mochi", "ltxv",
                                       "pixart", "cosmos", "lumina2", "wan", "hidream", "chroma", "ace", "omnigen2",
                                       "qwen_image", "hunyuan_image"],)},
                "optional": {"device": (["default", "cpu"], {"advanced": True})}}

    RETURN_TYPES = ("CLIP",)
    FUNCTION = "load_clip"
    CATEGORY = "advanced/loaders"
    DESCRIPTION = ("[Recipes]\n\nstable_diffusion: clip-l\nstable_cascade: clip-g\nsd3: t5 xxl/ clip-g / clip-l\n"
                   "stable_audio: t5 base\nmochi: t5 xxl\ncosmos: old t5 xxl\nlumina2: gemma 2 2B\nwan: umt5 xxl\n"
                   " hidream: llama-3.1 (Recommend) or t5\nomnigen2: qwen vl 2.5 3B")

    def load_clip(self, clip_name, type="stable_diffusion", device="default"):
        clip_type = getattr(comfy.sd.CLIPType, type.upper(), comfy.sd.CLIPType.STABLE_DIFFUSION)
        fp = _folder_paths()
        clip_path = fp.get_full_path_or_raise("text_encoders", clip_name)
        clip = comfy.sd.load_clip(ckpt_paths=[clip_path], embedding_directory=fp.get_folder_paths("embeddings"),
                                  clip_type=clip_type, model_options=_clip_options(device))
        return (clip,)


class DualCLIPLoader:
    @classmethod
    def INPUT_TYPES(s):
        fp = _folder_paths()
        return {"required": {"clip_name1": (fp.get_filename_list("text_encoders"),),
                             "clip_name2": (fp.get_filename_list("text_encoders"),),
                             "type": (["sdxl", "sd3", "flux", "hunyuan_video", "hidream", "hunyuan_image"],)},
                "optional": {"device": (["default", "cpu"], {"advanced": True})}}

    RETURN_TYPES = ("CLIP",)
    FUNCTION = "load_clip"
    CATEGORY = "advanced/loaders"
    DESCRIPTION = ("[Recipes]\n\nsdxl: clip-l, clip-g\nsd3: clip-l, clip-g / clip-l, t5 / clip-g, t5\n"
                   "flux: clip-l, t5\nhidream: at least one of t5 or llama, recommended t5 and llama\n"
                   "hunyuan_image: qwen2.5vl 7b and byt5 small")

    def load_clip(self, clip_name1, clip_name2, type, device="default"):
        clip_type = getattr(comfy.sd.CLIPType, type.upper(), comfy.sd.CLIPType.STABLE_DIFFUSION)
        fp = _folder_paths()
        paths = [fp.get_full_path_or_raise("text_encoders", clip_name1),
                 fp.get_full_path_or_raise("text_encoders", clip_name2)]
        clip = comfy.sd.load_clip(ckpt_paths=paths, embedding_directory=fp.get_folder_paths("embeddings"),
                                  clip_type=clip_type, model_options=_clip_options(device))
        return (clip,)


class CLIPVisionLoader:
    @classmethod
    def INPUT_TYPES(s):
        return {"required": {"clip_name": (_folder_paths().get_filename_list("clip_vision"),)}}

    RETURN_TYPES = ("CLIP_VISION",)
    FUNCTION = "load_clip"
    CATEGORY = "loaders"

    def load_clip(self, clip_name):
        clip_vision = comfy.clip_vision.load(_folder_paths().get_full_path_or_raise("clip_vision", clip_name))
        if clip_vision is None:
            raise RuntimeError("ERROR: clip vision file is invalid and does not contain a valid vision model.")
        return (clip_vision,)


class StyleModelLoader:
    @classmethod
    def INPUT_TYPES(s):
        return {"required": {"style_model_name": (_folder_paths().get_filename_list("style_models"),)}}

    RETURN_TYPES = ("STYLE_MODEL",)
    FUNCTION = "load_style_model"
    CATEGORY = "loaders"

    def load_style_model(self, style_model_name):
        path = _folder_paths().get_full_path_or_raise("style_models", style_model_name)
        return (comfy.sd.load_style_model(path),)


class GLIGENLoader:
    @classmethod
    def INPUT_TYPES(s):
        return {"required": {"gligen_name": (_folder_paths().get_filename_list("gligen"),)}}

    RETURN_TYPES = ("GLIGEN",)
    FUNCTION = "load_gligen"
    CATEGORY = "loaders"

    def load_gligen(self, gligen_name):
        return (comfy.sd.load_gligen(_folder_paths().get_full_path_or_raise("gligen", gligen_name)),)


# -- sampling ------------------------------------------------------------------------------------------------

def common_ksampler(model, seed, steps, cfg, sampler_name, scheduler, positive, negative, latent, denoise=1.0,
                    disable_noise=False, start_step=None, last_step=None, force_full_denoise=False):
    if not hasattr(model, "get_model_object"):
        raise model_library_error("Sampling (comfy.sample.sample) with a MODEL")
    latent_image = comfy.sample.fix_empty_latent_channels(model, latent["samples"])
    if disable_noise:
        noise = torch.zeros(latent_image.size(), dtype=latent_image.dtype, layout=latent_image.layout, device="cpu")
    else:
        noise = comfy.sample.prepare_noise(latent_image, seed, latent.get("batch_index", None))
    noise_mask = latent.get("noise_mask", None)
    callback = latent_preview.prepare_callback(model, steps)
    disable_pbar = not comfy.utils.PROGRESS_BAR_ENABLED
    samples = comfy.sample.sample(model, noise, steps, cfg, sampler_name, scheduler, positive, negative, latent_image,
                                  denoise=denoise, disable_noise=disable_noise, start_step=start_step,
                                  last_step=last_step, force_full_denoise=force_full_denoise, noise_mask=noise_mask,
                                  callback=callback, disable_pbar=disable_pbar, seed=seed)
    out = latent.copy()
    out["samples"] = samples
    return (out,)


class KSampler:
    @classmethod
    def INPUT_TYPES(s):
        return {"required": {
            "model": ("MODEL", {"tooltip": "The model used for denoising the input latent."}),
            "seed": ("INT", {"default": 0, "min": 0, "max": 0xffffffffffffffff, "control_after_generate": True,
                             "tooltip": "The random seed used for creating the noise."}),
            "steps": ("INT", {"default": 20, "min": 1, "max": 10000,
                              "tooltip": "The number of steps used in the denoising process."}),
            "cfg": ("FLOAT", {"default": 8.0, "min": 0.0, "max": 100.0, "step": 0.1, "round": 0.01,
                              "tooltip": "The Classifier-Free Guidance scale balances creativity and adherence to the "
                                         "prompt. Higher values result in images more closely matching the prompt "
                                         "however too high values will negatively impact quality."}),
            "sampler_name": (comfy.samplers.KSampler.SAMPLERS,
                             {"tooltip": "The algorithm used when sampling, this can affect the quality, speed, and "
                                         "style of the generated output."}),
            "scheduler": (comfy.samplers.KSampler.SCHEDULERS,
                          {"tooltip": "The scheduler controls how noise is gradually removed to form the image."}),
            "positive": ("CONDITIONING", {"tooltip": "The conditioning describing the attributes you want to include "
                                                     "in the image."}),
            "negative": ("CONDITIONING", {"tooltip": "The conditioning describing the attributes you want to exclude "
                                                     "from the image."}),
            "latent_image": ("LATENT", {"tooltip": "The latent image to denoise."}),
            "denoise": ("FLOAT", {"default": 1.0, "min": 0.0, "max": 1.0, "step": 0.01,
                                  "tooltip": "The amount of denoising applied, lower values will maintain the "
                                             "structure of the initial image allowing for image to image sampling."}),
        }}

    RETURN_TYPES = ("LATENT",)
    OUTPUT_TOOLTIPS = ("The denoised latent.",)
    FUNCTION = "sample"
    CATEGORY = "sampling"
    DESCRIPTION = "Uses the provided model, positive and negative conditioning to denoise the latent image."

    def sample(self, model, seed, steps, cfg, sampler_name, scheduler, positive, negative, latent_image, denoise=1.0):
        return common_ksampler(model, seed, steps, cfg, sampler_name, scheduler, positive, negative, latent_image,
                               denoise=denoise)


class KSamplerAdvanced:
    @classmethod
    def INPUT_TYPES(s):
        return {"required": {
            "model": ("MODEL",),
            "add_noise": (["enable", "disable"],),
            "noise_seed": ("INT", {"default": 0, "min": 0, "max": 0xffffffffffffffff, "control_after_generate": True}),
            "steps": ("INT", {"default": 20, "min": 1, "max": 10000}),
            "cfg": ("FLOAT", {"default": 8.0, "min": 0.0, "max": 100.0, "step": 0.1, "round": 0.01}),
            "sampler_name": (comfy.samplers.KSampler.SAMPLERS,),
            "scheduler": (comfy.samplers.KSampler.SCHEDULERS,),
            "positive": ("CONDITIONING",),
            "negative": ("CONDITIONING",),
            "latent_image": ("LATENT",),
            "start_at_step": ("INT", {"default": 0, "min": 0, "max": 10000}),
            "end_at_step": ("INT", {"default": 10000, "min": 0, "max": 10000}),
            "return_with_leftover_noise": (["disable", "enable"],),
        }}

    RETURN_TYPES = ("LATENT",)
    FUNCTION = "sample"
    CATEGORY = "sampling"

    def sample(self, model, add_noise, noise_seed, steps, cfg, sampler_name, scheduler, positive, negative,
               latent_image, start_at_step, end_at_step, return_with_leftover_noise, denoise=1.0):
        return common_ksampler(model, noise_seed, steps, cfg, sampler_name, scheduler, positive, negative,
                               latent_image, denoise=denoise, disable_noise=add_noise == "disable",
                               start_step=start_at_step, last_step=end_at_step,
                               force_full_denoise=return_with_leftover_noise != "enable")


# -- images and masks ----------------------------------------------------------------------------------------

class LoadImageMask:
    _color_channels = ["alpha", "red", "green", "blue"]

    @classmethod
    def INPUT_TYPES(s):
        input_dir = _folder_paths().get_input_directory()
        try:
            names = os.listdir(input_dir)
        except FileNotFoundError:
            names = []
        files = [f for f in names if os.path.isfile(os.path.join(input_dir, f))]
        return {"required": {"image": (sorted(files), {"image_upload": True}),
                             "channel": (s._color_channels,)}}

    CATEGORY = "mask"
    RETURN_TYPES = ("MASK",)
    FUNCTION = "load_image"

    def load_image(self, image, channel):
        path = _folder_paths().get_annotated_filepath(image)
        img = node_helpers.pillow(Image.open, path)
        img = node_helpers.pillow(ImageOps.exif_transpose, img)
        if img.getbands() != ("R", "G", "B", "A"):
            if img.mode == "I":
                img = img.point(lambda v: v * (1 / 255))
            img = img.convert("RGBA")
        c = channel[0].upper()
        if c in img.getbands():
            mask = torch.from_numpy(np.array(img.getchannel(c)).astype(np.float32) / 255.0)
            if c == "A":
                mask = 1. - mask
        else:
            mask = torch.zeros((64, 64), dtype=torch.float32, device="cpu")
        return (mask.unsqueeze(0),)

    @classmethod
    def IS_CHANGED(s, image, channel):
        return _file_sha256(_folder_paths().get_annotated_filepath(image))

    @classmethod
    def VALIDATE_INPUTS(s, image):
        if not _folder_paths().exists_annotated_filepath(image):
            return "Invalid image file: {}".format(image)
        return True


class ImageScale:
    upscale_methods = ["nearest-exact", "bilinear", "area", "bicubic", "lanczos"]
    crop_methods = ["disabled", "center"]

    @classmethod
    def INPUT_TYPES(s):
        return {"required": {"image": ("IMAGE",), "upscale_method": (s.upscale_methods,),
                             "width": ("INT", {"default": 512, "min": 0, "max": MAX_RESOLUTION, "step": 1}),
                             "height": ("INT", {"default": 512, "min": 0, "max": MAX_RESOLUTION, "step": 1}),
                             "crop": (s.crop_methods,)}}

    RETURN_TYPES = ("IMAGE",)
    FUNCTION = "upscale"
    CATEGORY = "image/upscaling"

    def upscale(self, image, upscale_method, width, height, crop):
        if width == 0 and height == 0:
            return (image,)
        samples = image.movedim(-1, 1)
        if width == 0:
            width = max(1, round(samples.shape[3] * height / samples.shape[2]))
        elif height == 0:
            height = max(1, round(samples.shape[2] * width / samples.shape[3]))
        return (comfy.utils.common_upscale(samples, width, height, upscale_method, crop).movedim(1, -1),)


class ImageScaleBy:
    upscale_methods = ["nearest-exact", "bilinear", "area", "bicubic", "lanczos"]

    @classmethod
    def INPUT_TYPES(s):
        return {"required": {"image": ("IMAGE",), "upscale_method": (s.upscale_methods,),
                             "scale_by": ("FLOAT", {"default": 1.0, "min": 0.01, "max": 8.0, "step": 0.01})}}

    RETURN_TYPES = ("IMAGE",)
    FUNCTION = "upscale"
    CATEGORY = "image/upscaling"

    def upscale(self, image, upscale_method, scale_by):
        samples = image.movedim(-1, 1)
        width = round(samples.shape[3] * scale_by)
        height = round(samples.shape[2] * scale_by)
        return (comfy.utils.common_upscale(samples, width, height, upscale_method, "disabled").movedim(1, -1),)


class ImageBatch:
    @classmethod
    def INPUT_TYPES(s):
        return {"required": {"image1": ("IMAGE",), "image2": ("IMAGE",)}}

    RETURN_TYPES = ("IMAGE",)
    FUNCTION = "batch"
    CATEGORY = "image"

    def batch(self, image1, image2):
        if image1.shape[-1] != image2.shape[-1]:
            # One of them has alpha: give the other an opaque alpha channel.
            if image1.shape[-1] > image2.shape[-1]:
                image2 = torch.nn.functional.pad(image2, (0, 1), mode="constant", value=1.0)
            else:
                image1 = torch.nn.functional.pad(image1, (0, 1), mode="constant", value=1.0)
        if image1.shape[1:] != image2.shape[1:]:
            image2 = comfy.utils.common_upscale(image2.movedim(-1, 1), image1.shape[2], image1.shape[1], "bilinear",
                                                "center").movedim(1, -1)
        return (torch.cat((image1, image2), dim=0),)


class ImagePadForOutpaint:
    @classmethod
    def INPUT_TYPES(s):
        side = lambda: ("INT", {"default": 0, "min": 0, "max": MAX_RESOLUTION, "step": 8})  # noqa: E731
        return {"required": {"image": ("IMAGE",), "left": side(), "top": side(), "right": side(), "bottom": side(),
                             "feathering": ("INT", {"default": 40, "min": 0, "max": MAX_RESOLUTION, "step": 1})}}

    RETURN_TYPES = ("IMAGE", "MASK")
    FUNCTION = "expand_image"
    CATEGORY = "image"

    def expand_image(self, image, left, top, right, bottom, feathering):
        d1, d2, d3, d4 = image.size()
        new_image = torch.ones((d1, d2 + top + bottom, d3 + left + right, d4), dtype=torch.float32) * 0.5
        new_image[:, top:top + d2, left:left + d3, :] = image
        mask = torch.ones((d2 + top + bottom, d3 + left + right), dtype=torch.float32)
        t = torch.zeros((d2, d3), dtype=torch.float32)
        if feathering > 0 and feathering * 2 < d2 and feathering * 2 < d3:
            # Distance of each original pixel to the nearest padded side (unpadded sides count as far).
            rows = torch.arange(d2, dtype=torch.float64).unsqueeze(1)
            cols = torch.arange(d3, dtype=torch.float64).unsqueeze(0)
            far = float(max(d2, d3))
            dist = torch.full((d2, d3), far, dtype=torch.float64)
            dist = torch.minimum(dist, (rows if top != 0 else torch.full_like(rows, d2)).expand(d2, d3))
            dist = torch.minimum(dist, ((d2 - rows) if bottom != 0 else torch.full_like(rows, d2)).expand(d2, d3))
            dist = torch.minimum(dist, (cols if left != 0 else torch.full_like(cols, d3)).expand(d2, d3))
            dist = torch.minimum(dist, ((d3 - cols) if right != 0 else torch.full_like(cols, d3)).expand(d2, d3))
            v = (feathering - dist) / feathering
            t = torch.where(dist < feathering, v * v, torch.zeros_like(v)).to(torch.float32)
        mask[top:top + d2, left:left + d3] = t
        return (new_image, mask.unsqueeze(0))


NODE_CLASS_MAPPINGS = {
    "KSampler": KSampler,
    "CheckpointLoaderSimple": CheckpointLoaderSimple,
    "CLIPTextEncode": CLIPTextEncode,
    "CLIPSetLastLayer": CLIPSetLastLayer,
    "VAEDecode": VAEDecode,
    "VAEEncode": VAEEncode,
    "VAEEncodeForInpaint": VAEEncodeForInpaint,
    "VAELoader": VAELoader,
    "EmptyLatentImage": EmptyLatentImage,
    "LatentUpscale": LatentUpscale,
    "LatentUpscaleBy": LatentUpscaleBy,
    "LatentFromBatch": LatentFromBatch,
    "RepeatLatentBatch": RepeatLatentBatch,
    "LoadImageMask": LoadImageMask,
    "ImageScale": ImageScale,
    "ImageScaleBy": ImageScaleBy,
    "ImageBatch": ImageBatch,
    "ImagePadForOutpaint": ImagePadForOutpaint,
    "ConditioningAverage": ConditioningAverage,
    "ConditioningCombine": ConditioningCombine,
    "ConditioningConcat": ConditioningConcat,
    "ConditioningSetArea": ConditioningSetArea,
    "ConditioningSetAreaPercentage": ConditioningSetAreaPercentage,
    "ConditioningSetAreaStrength": ConditioningSetAreaStrength,
    "ConditioningSetMask": ConditioningSetMask,
    "KSamplerAdvanced": KSamplerAdvanced,
    "SetLatentNoiseMask": SetLatentNoiseMask,
    "LatentComposite": LatentComposite,
    "LatentBlend": LatentBlend,
    "LatentRotate": LatentRotate,
    "LatentFlip": LatentFlip,
    "LatentCrop": LatentCrop,
    "LoraLoader": LoraLoader,
    "CLIPLoader": CLIPLoader,
    "UNETLoader": UNETLoader,
    "DualCLIPLoader": DualCLIPLoader,
    "CLIPVisionEncode": CLIPVisionEncode,
    "StyleModelApply": StyleModelApply,
    "unCLIPConditioning": unCLIPConditioning,
    "ControlNetApply": ControlNetApply,
    "ControlNetApplyAdvanced": ControlNetApplyAdvanced,
    "ControlNetLoader": ControlNetLoader,
    "DiffControlNetLoader": DiffControlNetLoader,
    "StyleModelLoader": StyleModelLoader,
    "CLIPVisionLoader": CLIPVisionLoader,
    "VAEDecodeTiled": VAEDecodeTiled,
    "VAEEncodeTiled": VAEEncodeTiled,
    "unCLIPCheckpointLoader": unCLIPCheckpointLoader,
    "GLIGENLoader": GLIGENLoader,
    "GLIGENTextBoxApply": GLIGENTextBoxApply,
    "InpaintModelConditioning": InpaintModelConditioning,
    "CheckpointLoader": CheckpointLoader,
    "DiffusersLoader": DiffusersLoader,
    "LoadLatent": LoadLatent,
    "SaveLatent": SaveLatent,
    "ConditioningZeroOut": ConditioningZeroOut,
    "ConditioningSetTimestepRange": ConditioningSetTimestepRange,
    "LoraLoaderModelOnly": LoraLoaderModelOnly,
}

# ComfyUI's display names for these classes. "ConditioningAverage " (sic, trailing space) is
# ComfyUI's own key, so ConditioningAverage shows its class name.
NODE_DISPLAY_NAME_MAPPINGS = {
    "KSampler": "KSampler",
    "KSamplerAdvanced": "KSampler (Advanced)",
    "CheckpointLoader": "Load Checkpoint With Config (DEPRECATED)",
    "CheckpointLoaderSimple": "Load Checkpoint",
    "VAELoader": "Load VAE",
    "LoraLoader": "Load LoRA",
    "CLIPLoader": "Load CLIP",
    "ControlNetLoader": "Load ControlNet Model",
    "DiffControlNetLoader": "Load ControlNet Model (diff)",
    "StyleModelLoader": "Load Style Model",
    "CLIPVisionLoader": "Load CLIP Vision",
    "UNETLoader": "Load Diffusion Model",
    "CLIPVisionEncode": "CLIP Vision Encode",
    "StyleModelApply": "Apply Style Model",
    "CLIPTextEncode": "CLIP Text Encode (Prompt)",
    "CLIPSetLastLayer": "CLIP Set Last Layer",
    "ConditioningCombine": "Conditioning (Combine)",
    "ConditioningAverage ": "Conditioning (Average)",
    "ConditioningConcat": "Conditioning (Concat)",
    "ConditioningSetArea": "Conditioning (Set Area)",
    "ConditioningSetAreaPercentage": "Conditioning (Set Area with Percentage)",
    "ConditioningSetMask": "Conditioning (Set Mask)",
    "ControlNetApply": "Apply ControlNet (OLD)",
    "ControlNetApplyAdvanced": "Apply ControlNet",
    "VAEEncodeForInpaint": "VAE Encode (for Inpainting)",
    "SetLatentNoiseMask": "Set Latent Noise Mask",
    "VAEDecode": "VAE Decode",
    "VAEEncode": "VAE Encode",
    "LatentRotate": "Rotate Latent",
    "LatentFlip": "Flip Latent",
    "LatentCrop": "Crop Latent",
    "EmptyLatentImage": "Empty Latent Image",
    "LatentUpscale": "Upscale Latent",
    "LatentUpscaleBy": "Upscale Latent By",
    "LatentComposite": "Latent Composite",
    "LatentBlend": "Latent Blend",
    "LatentFromBatch": "Latent From Batch",
    "RepeatLatentBatch": "Repeat Latent Batch",
    "LoadImageMask": "Load Image (as Mask)",
    "ImageScale": "Upscale Image",
    "ImageScaleBy": "Upscale Image By",
    "ImagePadForOutpaint": "Pad Image for Outpainting",
    "ImageBatch": "Batch Images",
    "VAEDecodeTiled": "VAE Decode (Tiled)",
    "VAEEncodeTiled": "VAE Encode (Tiled)",
}
