"""The `nodes` module: ComfyUI 0.3.64's node classes with their exact definitions, the model-free
nodes' results on small tensors (hand-computed), and the clear errors of the model nodes."""
import os

import pytest
import torch

import nodes
from comfy import _missing

MODEL_LIBRARY = "needs ComfyUI's model library, which this server does not include yet"

KSAMPLER_SAMPLERS = [
    "euler", "euler_cfg_pp", "euler_ancestral", "euler_ancestral_cfg_pp", "heun", "heunpp2", "dpm_2",
    "dpm_2_ancestral", "lms", "dpm_fast", "dpm_adaptive", "dpmpp_2s_ancestral", "dpmpp_2s_ancestral_cfg_pp",
    "dpmpp_sde", "dpmpp_sde_gpu", "dpmpp_2m", "dpmpp_2m_cfg_pp", "dpmpp_2m_sde", "dpmpp_2m_sde_gpu",
    "dpmpp_2m_sde_heun", "dpmpp_2m_sde_heun_gpu", "dpmpp_3m_sde", "dpmpp_3m_sde_gpu", "ddpm", "lcm", "ipndm",
    "ipndm_v", "deis", "res_multistep", "res_multistep_cfg_pp", "res_multistep_ancestral",
    "res_multistep_ancestral_cfg_pp", "gradient_estimation", "gradient_estimation_cfg_pp", "er_sde", "seeds_2",
    "seeds_3", "sa_solver", "sa_solver_pece", "ddim", "uni_pc", "uni_pc_bh2"]
SCHEDULERS = ["simple", "sgm_uniform", "karras", "exponential", "ddim_uniform", "beta", "normal", "linear_quadratic",
              "kl_optimal"]


# -- definitions --------------------------------------------------------------------------------------------

def test_ksampler_definition():
    req = nodes.KSampler.INPUT_TYPES()["required"]
    assert list(req) == ["model", "seed", "steps", "cfg", "sampler_name", "scheduler", "positive", "negative",
                         "latent_image", "denoise"]
    assert req["model"] == ("MODEL", {"tooltip": "The model used for denoising the input latent."})
    assert req["seed"] == ("INT", {"default": 0, "min": 0, "max": 0xffffffffffffffff, "control_after_generate": True,
                                   "tooltip": "The random seed used for creating the noise."})
    assert req["steps"] == ("INT", {"default": 20, "min": 1, "max": 10000,
                                    "tooltip": "The number of steps used in the denoising process."})
    assert req["cfg"][0] == "FLOAT"
    assert {k: v for k, v in req["cfg"][1].items() if k != "tooltip"} == {
        "default": 8.0, "min": 0.0, "max": 100.0, "step": 0.1, "round": 0.01}
    assert req["sampler_name"][0] == KSAMPLER_SAMPLERS
    assert req["scheduler"][0] == SCHEDULERS
    assert req["latent_image"] == ("LATENT", {"tooltip": "The latent image to denoise."})
    assert req["denoise"][1]["default"] == 1.0 and req["denoise"][1]["step"] == 0.01
    assert nodes.KSampler.RETURN_TYPES == ("LATENT",)
    assert nodes.KSampler.OUTPUT_TOOLTIPS == ("The denoised latent.",)
    assert nodes.KSampler.FUNCTION == "sample"
    assert nodes.KSampler.CATEGORY == "sampling"
    assert nodes.KSampler.DESCRIPTION == ("Uses the provided model, positive and negative conditioning to denoise "
                                          "the latent image.")
    assert not hasattr(nodes.KSampler, "OUTPUT_NODE")

    adv = nodes.KSamplerAdvanced.INPUT_TYPES()["required"]
    assert list(adv) == ["model", "add_noise", "noise_seed", "steps", "cfg", "sampler_name", "scheduler", "positive",
                         "negative", "latent_image", "start_at_step", "end_at_step", "return_with_leftover_noise"]
    assert adv["add_noise"] == (["enable", "disable"],)
    assert adv["end_at_step"] == ("INT", {"default": 10000, "min": 0, "max": 10000})
    assert adv["return_with_leftover_noise"] == (["disable", "enable"],)


def test_checkpoint_loader_definition(folder_paths):
    ckpts = os.path.join(folder_paths.models_dir, "checkpoints")
    os.makedirs(ckpts, exist_ok=True)
    for name in ("b.safetensors", "a.ckpt", "notes.txt"):
        open(os.path.join(ckpts, name), "wb").close()
    assert nodes.CheckpointLoaderSimple.INPUT_TYPES() == {
        "required": {"ckpt_name": (["a.ckpt", "b.safetensors"], {"tooltip": "The name of the checkpoint (model) to load."})}}
    assert nodes.CheckpointLoaderSimple.RETURN_TYPES == ("MODEL", "CLIP", "VAE")
    assert nodes.CheckpointLoaderSimple.FUNCTION == "load_checkpoint"
    assert nodes.CheckpointLoaderSimple.CATEGORY == "loaders"
    assert nodes.CheckpointLoaderSimple.DESCRIPTION == (
        "Loads a diffusion model checkpoint, diffusion models are used to denoise latents.")
    assert nodes.CheckpointLoaderSimple.OUTPUT_TOOLTIPS == (
        "The model used for denoising latents.", "The CLIP model used for encoding text prompts.",
        "The VAE model used for encoding and decoding images to and from latent space.")
    assert nodes.CheckpointLoader.DEPRECATED is True
    assert nodes.CheckpointLoader.CATEGORY == "advanced/loaders"
    assert list(nodes.CheckpointLoader.INPUT_TYPES()["required"]) == ["config_name", "ckpt_name"]


def test_other_definitions(folder_paths):
    assert nodes.CLIPTextEncode.INPUT_TYPES() == {"required": {
        "text": ("STRING", {"multiline": True, "dynamicPrompts": True, "tooltip": "The text to be encoded."}),
        "clip": ("CLIP", {"tooltip": "The CLIP model used for encoding the text."})}}
    assert nodes.CLIPTextEncode.RETURN_TYPES == ("CONDITIONING",) and nodes.CLIPTextEncode.FUNCTION == "encode"
    assert nodes.LoraLoader.INPUT_TYPES()["required"]["strength_model"][1]["min"] == -100.0
    assert nodes.LoraLoader.RETURN_TYPES == ("MODEL", "CLIP")
    assert nodes.LoraLoaderModelOnly.FUNCTION == "load_lora_model_only"
    assert issubclass(nodes.LoraLoaderModelOnly, nodes.LoraLoader)
    assert nodes.ControlNetApplyAdvanced.RETURN_NAMES == ("positive", "negative")
    assert nodes.ControlNetApplyAdvanced.INPUT_TYPES()["optional"] == {"vae": ("VAE",)}
    assert nodes.InpaintModelConditioning.RETURN_NAMES == ("positive", "negative", "latent")
    assert nodes.CLIPLoader.INPUT_TYPES()["required"]["type"][0][-2:] == ["qwen_image", "hunyuan_image"]
    assert nodes.CLIPLoader.INPUT_TYPES()["optional"] == {"device": (["default", "cpu"], {"advanced": True})}
    assert nodes.DualCLIPLoader.INPUT_TYPES()["required"]["type"] == (
        ["sdxl", "sd3", "flux", "hunyuan_video", "hidream", "hunyuan_image"],)
    assert nodes.UNETLoader.INPUT_TYPES()["required"]["weight_dtype"] == (
        ["default", "fp8_e4m3fn", "fp8_e4m3fn_fast", "fp8_e5m2"],)
    assert nodes.VAELoader.INPUT_TYPES() == {"required": {"vae_name": (["pixel_space"],)}}
    assert nodes.LatentUpscale.INPUT_TYPES()["required"]["upscale_method"] == (
        ["nearest-exact", "bilinear", "area", "bicubic", "bislerp"],)
    assert nodes.ImageScale.INPUT_TYPES()["required"]["upscale_method"] == (
        ["nearest-exact", "bilinear", "area", "bicubic", "lanczos"],)
    assert nodes.EmptyLatentImage.INPUT_TYPES()["required"]["width"] == (
        "INT", {"default": 512, "min": 16, "max": 16384, "step": 8, "tooltip": "The width of the latent images in pixels."})
    assert nodes.SaveLatent.OUTPUT_NODE is True and nodes.SaveLatent.RETURN_TYPES == ()
    assert nodes.LoadImageOutput.EXPERIMENTAL is True and issubclass(nodes.LoadImageOutput, nodes.LoadImage)
    assert nodes.LoadImageOutput.INPUT_TYPES()["required"]["image"][0] == "COMBO"
    assert nodes.MAX_RESOLUTION == 16384
    assert nodes.ConditioningZeroOut.CATEGORY == "advanced/conditioning"
    assert nodes.VAEDecodeTiled.CATEGORY == "_for_testing"


def test_mappings_and_display_names():
    m = nodes.NODE_CLASS_MAPPINGS
    assert len(m) >= 64
    for name in ("KSampler", "CheckpointLoaderSimple", "CLIPTextEncode", "VAEDecode", "EmptyLatentImage",
                 "LatentUpscale", "ImageScale", "ImagePadForOutpaint", "ConditioningZeroOut", "LoraLoaderModelOnly",
                 "SaveLatent", "LoadLatent", "LoadImageOutput", "DiffusersLoader", "unCLIPCheckpointLoader"):
        assert m[name] is getattr(nodes, name), name
    assert list(m)[:3] == ["KSampler", "CheckpointLoaderSimple", "CLIPTextEncode"]
    names = nodes.NODE_DISPLAY_NAME_MAPPINGS
    assert names["KSamplerAdvanced"] == "KSampler (Advanced)"
    assert names["CheckpointLoaderSimple"] == "Load Checkpoint"
    assert names["CLIPTextEncode"] == "CLIP Text Encode (Prompt)"
    assert names["EmptyLatentImage"] == "Empty Latent Image"
    assert names["ImagePadForOutpaint"] == "Pad Image for Outpainting"
    assert names["LoadImageOutput"] == "Load Image (from Outputs)"
    assert "ConditioningAverage" not in names and names["ConditioningAverage "] == "Conditioning (Average)"
    assert "LoraLoaderModelOnly" not in names


def test_packs_can_import_and_subclass():
    from nodes import KSampler, CLIPTextEncode, common_ksampler, MAX_RESOLUTION  # noqa: F401

    class MyLoader(nodes.LoraLoader):
        @classmethod
        def INPUT_TYPES(s):
            base = super().INPUT_TYPES()
            base["optional"] = {"extra": ("STRING", {})}
            return base

    assert MyLoader().loaded_lora is None
    assert "lora_name" in MyLoader.INPUT_TYPES()["required"]
    assert nodes.latent_preview.LatentPreviewMethod.Auto == "auto"
    assert nodes.comfy.samplers.KSampler.SAMPLERS == KSAMPLER_SAMPLERS
    assert callable(nodes.node_helpers.conditioning_set_values)


# -- latent nodes -----------------------------------------------------------------------------------------

def test_empty_latent_image():
    (out,) = nodes.EmptyLatentImage().generate(width=64, height=40, batch_size=2)
    assert set(out) == {"samples"}
    assert out["samples"].shape == (2, 4, 5, 8) and out["samples"].dtype == torch.float32
    assert not out["samples"].any()


def _latent(h, w, c=1, b=1):
    return {"samples": torch.arange(b * c * h * w, dtype=torch.float32).reshape(b, c, h, w)}


def test_latent_upscale():
    lat = _latent(2, 2)
    (same,) = nodes.LatentUpscale().upscale(lat, "nearest-exact", 0, 0, "disabled")
    assert same is lat
    # width 128 px, height from the aspect ratio: 16x16 latent, each value repeated 8x8.
    (up,) = nodes.LatentUpscale().upscale(lat, "nearest-exact", 128, 0, "disabled")
    assert up["samples"].shape == (1, 1, 16, 16)
    assert torch.equal(up["samples"][0, 0, ::8, ::8], torch.tensor([[0., 1.], [2., 3.]]))
    assert lat["samples"].shape == (1, 1, 2, 2)  # input untouched
    # Sizes below 64 px are raised to 64 (8 latent pixels).
    (small,) = nodes.LatentUpscale().upscale(lat, "bilinear", 16, 16, "disabled")
    assert small["samples"].shape == (1, 1, 8, 8)
    (by,) = nodes.LatentUpscaleBy().upscale(_latent(2, 4), "nearest-exact", 1.5)
    assert by["samples"].shape == (1, 1, 3, 6)
    # nearest-exact picks source floor((i + 0.5) * 4 / 6) for output column i.
    assert torch.equal(by["samples"][0, 0, 0], torch.tensor([0., 1., 1., 2., 3., 3.]))


def test_latent_upscale_bislerp_keeps_unit_vectors():
    lat = {"samples": torch.tensor([[[[1.0, 0.0]], [[0.0, 1.0]]]])}
    (up,) = nodes.LatentUpscaleBy().upscale(lat, "bislerp", 2.0)
    c = 0.9238795325112867  # cos(22.5 degrees)
    s = 0.3826834323650898
    expected = torch.tensor([[[[1.0, c, s, 0.0], [1.0, c, s, 0.0]], [[0.0, s, c, 1.0], [0.0, s, c, 1.0]]]])
    assert torch.allclose(up["samples"], expected, atol=1e-6)


def test_latent_composite():
    to = {"samples": torch.zeros(1, 1, 4, 4), "batch_index": [0]}
    frm = {"samples": torch.full((1, 1, 2, 2), 4.0)}
    (plain,) = nodes.LatentComposite().composite(to, frm, 8, 8, feather=0)
    expected = torch.zeros(1, 1, 4, 4)
    expected[0, 0, 1:3, 1:3] = 4.0
    assert torch.equal(plain["samples"], expected) and plain["batch_index"] == [0]
    assert not to["samples"].any()
    # feather 16 px = 2 latent pixels: each edge row/column of the 2x2 patch is scaled by 0.5 twice.
    (soft,) = nodes.LatentComposite().composite(to, frm, 8, 8, feather=16)
    expected[0, 0, 1:3, 1:3] = 1.0
    assert torch.equal(soft["samples"], expected)
    # Pasting at the corner clips what falls outside.
    (clip,) = nodes.LatentComposite().composite(to, {"samples": torch.ones(1, 1, 3, 3)}, 16, 16)
    assert clip["samples"][0, 0].sum() == 4 and clip["samples"][0, 0, 2:, 2:].eq(1).all()


def test_latent_batch_nodes():
    lat = _latent(1, 1, b=4)
    (picked,) = nodes.LatentFromBatch().frombatch(lat, 1, 2)
    assert picked["samples"].flatten().tolist() == [1.0, 2.0] and picked["batch_index"] == [1, 2]
    (clamped,) = nodes.LatentFromBatch().frombatch(lat, 10, 5)
    assert clamped["samples"].flatten().tolist() == [3.0] and clamped["batch_index"] == [3]
    (rep,) = nodes.RepeatLatentBatch().repeat(picked, 3)
    assert rep["samples"].flatten().tolist() == [1.0, 2.0] * 3
    assert rep["batch_index"] == [1, 2, 3, 4, 5, 6]
    masked = dict(lat, noise_mask=torch.tensor([0.0, 1.0]).reshape(2, 1, 1, 1))
    (m,) = nodes.LatentFromBatch().frombatch(masked, 2, 2)
    assert m["noise_mask"].flatten().tolist() == [0.0, 1.0]  # the mask batch is tiled to 4 first


def test_latent_transforms():
    lat = _latent(2, 3)  # [[0,1,2],[3,4,5]]
    (flip_x,) = nodes.LatentFlip().flip(lat, "x-axis: vertically")
    assert flip_x["samples"][0, 0].tolist() == [[3, 4, 5], [0, 1, 2]]
    (flip_y,) = nodes.LatentFlip().flip(lat, "y-axis: horizontally")
    assert flip_y["samples"][0, 0].tolist() == [[2, 1, 0], [5, 4, 3]]
    (rot,) = nodes.LatentRotate().rotate(lat, "90 degrees")
    assert rot["samples"][0, 0].tolist() == [[3, 0], [4, 1], [5, 2]]
    (none,) = nodes.LatentRotate().rotate(lat, "none")
    assert torch.equal(none["samples"], lat["samples"])
    (crop,) = nodes.LatentCrop().crop(_latent(16, 16), 64, 128, 16, 8)
    assert crop["samples"].shape == (1, 1, 15, 8)  # 16 rows wanted from row 1: 15 left
    assert crop["samples"][0, 0, 0, 0] == 16 * 1 + 2  # starts at latent row 1, column 2
    (near_edge,) = nodes.LatentCrop().crop(_latent(10, 10), 64, 64, 80, 80)
    assert near_edge["samples"][0, 0, 0, 0] == 2 * 10 + 2  # origin clamped to 10 - 8
    (blend,) = nodes.LatentBlend().blend({"samples": torch.full((1, 1, 2, 2), 4.0)},
                                          {"samples": torch.zeros(1, 1, 2, 2)}, 0.25)
    assert blend["samples"].eq(1.0).all()
    (mask,) = nodes.SetLatentNoiseMask().set_mask(lat, torch.ones(2, 3))
    assert mask["noise_mask"].shape == (1, 1, 2, 3) and "noise_mask" not in lat


def test_save_and_load_latent(folder_paths, monkeypatch):
    samples = torch.arange(8, dtype=torch.float32).reshape(1, 2, 2, 2)
    out = nodes.SaveLatent().save({"samples": samples}, "latents/t", prompt={"1": {}}, extra_pnginfo={"w": 1})
    assert out == {"ui": {"latents": [{"filename": "t_00001_.latent", "subfolder": "latents", "type": "output"}]}}
    path = os.path.join(folder_paths.get_output_directory(), "latents", "t_00001_.latent")
    import comfy.utils
    data, meta = comfy.utils.load_safetensors(path, return_metadata=True)
    assert meta == {"prompt": '{"1": {}}', "w": "1"}
    assert torch.equal(data["latent_tensor"], samples) and data["latent_format_version_0"].numel() == 0
    os.makedirs(folder_paths.get_input_directory(), exist_ok=True)
    os.replace(path, os.path.join(folder_paths.get_input_directory(), "t.latent"))
    assert nodes.LoadLatent.INPUT_TYPES() == {"required": {"latent": [["t.latent"]]}}
    (loaded,) = nodes.LoadLatent().load("t.latent")
    assert torch.equal(loaded["samples"], samples)
    assert nodes.LoadLatent.VALIDATE_INPUTS("nope.latent") == "Invalid latent file: nope.latent"
    # An old file without the version marker is scaled by 1 / 0.18215.
    comfy.utils.save_torch_file({"latent_tensor": torch.ones(1, 1, 1, 1)},
                                os.path.join(folder_paths.get_input_directory(), "old.latent"))
    (old,) = nodes.LoadLatent().load("old.latent")
    assert old["samples"].item() == pytest.approx(1.0 / 0.18215)


# -- image nodes --------------------------------------------------------------------------------------------

def test_image_scale():
    image = torch.tensor([[[0.0, 0.5], [1.0, 0.25]]]).unsqueeze(-1).expand(1, 2, 2, 3).contiguous()
    (up,) = nodes.ImageScale().upscale(image, "nearest-exact", 4, 0, "disabled")
    assert up.shape == (1, 4, 4, 3)
    assert up[0, :, :, 0].tolist() == [[0.0, 0.0, 0.5, 0.5], [0.0, 0.0, 0.5, 0.5],
                                       [1.0, 1.0, 0.25, 0.25], [1.0, 1.0, 0.25, 0.25]]
    (same,) = nodes.ImageScale().upscale(image, "bilinear", 0, 0, "disabled")
    assert same is image
    (area,) = nodes.ImageScaleBy().upscale(image, "area", 0.5)
    assert area.shape == (1, 1, 1, 3) and area[0, 0, 0, 0].item() == pytest.approx(0.4375)
    # center crop to a square before scaling: a 2x4 image keeps its middle two columns.
    wide = torch.arange(8, dtype=torch.float32).reshape(1, 2, 4, 1).expand(1, 2, 4, 3).contiguous()
    (sq,) = nodes.ImageScale().upscale(wide, "nearest-exact", 2, 2, "center")
    assert sq[0, :, :, 0].tolist() == [[1.0, 2.0], [5.0, 6.0]]
    # lanczos goes through 8-bit pixels: a flat colour stays (quantised) flat.
    flat = torch.full((1, 3, 3, 3), 0.5)
    (lz,) = nodes.ImageScale().upscale(flat, "lanczos", 6, 6, "disabled")
    assert lz.shape == (1, 6, 6, 3) and torch.allclose(lz, torch.full_like(lz, 127 / 255))


def test_image_batch_and_pad():
    a = torch.zeros(1, 2, 2, 3)
    b = torch.ones(1, 4, 4, 4)
    (batch,) = nodes.ImageBatch().batch(a, b)
    assert batch.shape == (2, 2, 2, 4)
    assert batch[0, ..., 3].eq(1.0).all() and batch[0, ..., :3].eq(0.0).all()  # alpha added to image1
    assert batch[1].eq(1.0).all()

    image = torch.rand(1, 5, 6, 3)
    new, mask = nodes.ImagePadForOutpaint().expand_image(image, 2, 0, 0, 0, 2)
    assert new.shape == (1, 5, 8, 3) and mask.shape == (1, 5, 8)
    assert new[:, :, :2].eq(0.5).all() and torch.equal(new[:, :, 2:], image)
    # Distance d to the padded (left) side: ((2 - d) / 2)^2 -> column 0: 1.0, column 1: 0.25, others 0.
    for row in range(5):
        assert mask[0, row].tolist() == [1.0, 1.0, 1.0, 0.25, 0.0, 0.0, 0.0, 0.0]
    # Top and left padded: the nearer side counts.
    _, corner = nodes.ImagePadForOutpaint().expand_image(image, 8, 8, 0, 0, 2)
    assert corner[0, 8:, 8:].tolist()[:2] == [[1.0] * 6, [1.0, 0.25, 0.25, 0.25, 0.25, 0.25]]
    # Feathering too large for the image (2 * 2 is not < 4): the original area is all zeros.
    _, plain = nodes.ImagePadForOutpaint().expand_image(torch.rand(1, 4, 4, 3), 0, 8, 0, 0, 2)
    assert plain[0, :8].eq(1.0).all() and plain[0, 8:].eq(0.0).all()


def test_load_image_mask(folder_paths):
    from PIL import Image
    os.makedirs(folder_paths.get_input_directory(), exist_ok=True)
    img = Image.new("RGBA", (2, 1))
    img.putpixel((0, 0), (255, 0, 0, 0))
    img.putpixel((1, 0), (0, 51, 0, 255))
    img.save(os.path.join(folder_paths.get_input_directory(), "m.png"))
    (alpha,) = nodes.LoadImageMask().load_image("m.png", "alpha")
    assert alpha.tolist() == [[[1.0, 0.0]]]
    (green,) = nodes.LoadImageMask().load_image("m.png", "green")
    assert green.tolist() == [[[0.0, pytest.approx(0.2)]]]
    assert nodes.LoadImageMask.INPUT_TYPES()["required"]["image"] == (["m.png"], {"image_upload": True})


# -- conditioning nodes -----------------------------------------------------------------------------------

def _cond():
    return [[torch.ones(1, 2, 3), {"pooled_output": torch.ones(1, 3), "keep": 1}]]


def test_conditioning_nodes():
    cond = _cond()
    (area,) = nodes.ConditioningSetArea().append(cond, 64, 128, 8, 16, 0.5)
    assert area[0][1]["area"] == (16, 8, 2, 1) and area[0][1]["strength"] == 0.5
    assert area[0][1]["set_area_to_bounds"] is False and area[0][1]["keep"] == 1
    assert "area" not in cond[0][1]
    (pct,) = nodes.ConditioningSetAreaPercentage().append(cond, 0.5, 0.25, 0.1, 0.2, 1.0)
    assert pct[0][1]["area"] == ("percentage", 0.25, 0.5, 0.2, 0.1)
    (both,) = nodes.ConditioningCombine().combine(cond, area)
    assert len(both) == 2 and both[0] is cond[0]
    (zero,) = nodes.ConditioningZeroOut().zero_out(cond)
    assert not zero[0][0].any() and not zero[0][1]["pooled_output"].any() and cond[0][0].all()
    (rng,) = nodes.ConditioningSetTimestepRange().set_range(cond, 0.2, 0.8)
    assert rng[0][1]["start_percent"] == 0.2 and rng[0][1]["end_percent"] == 0.8
    (masked,) = nodes.ConditioningSetMask().append(cond, torch.ones(4, 4), "mask bounds", 0.7)
    assert masked[0][1]["mask"].shape == (1, 4, 4) and masked[0][1]["set_area_to_bounds"] is True
    assert masked[0][1]["mask_strength"] == 0.7
    (concat,) = nodes.ConditioningConcat().concat(cond, [[torch.zeros(1, 3, 3), {}]])
    assert concat[0][0].shape == (1, 5, 3)
    (unclip,) = nodes.unCLIPConditioning().apply_adm(cond, "cv", 1.0, 0.0)
    (unclip2,) = nodes.unCLIPConditioning().apply_adm(unclip, "cv2", 0.5, 0.1)
    assert [e["clip_vision_output"] for e in unclip2[0][1]["unclip_conditioning"]] == ["cv", "cv2"]
    assert nodes.unCLIPConditioning().apply_adm(cond, "cv", 0, 0.0)[0] is cond


def test_conditioning_average():
    to = [[torch.ones(1, 2, 3), {}]]
    frm = [[torch.full((1, 1, 3), 2.0), {"pooled_output": torch.full((1, 3), 4.0)}]]
    (avg,) = nodes.ConditioningAverage().addWeighted(to, frm, 0.25)
    # from is padded with zeros to 2 tokens: row 0 = 0.25*1 + 0.75*2, row 1 = 0.25*1 + 0.75*0
    assert avg[0][0][0].tolist() == [[1.75] * 3, [0.25] * 3]
    assert avg[0][1]["pooled_output"].tolist() == [[4.0] * 3]


# -- model nodes: clear errors --------------------------------------------------------------------------------

def _model_file(folder_paths, folder, name):
    path = os.path.join(folder_paths.models_dir, folder)
    os.makedirs(path, exist_ok=True)
    open(os.path.join(path, name), "wb").close()


def test_loaders_raise_model_library_error(folder_paths):
    _model_file(folder_paths, "checkpoints", "m.safetensors")
    with pytest.raises(RuntimeError) as e:
        nodes.CheckpointLoaderSimple().load_checkpoint("m.safetensors")
    assert str(e.value) == "comfy.sd.load_checkpoint_guess_config " + MODEL_LIBRARY
    assert type(e.value) is RuntimeError
    with pytest.raises(RuntimeError, match="comfy.sd.VAE " + MODEL_LIBRARY):
        nodes.VAELoader().load_vae("pixel_space")
    _model_file(folder_paths, "text_encoders", "t5.safetensors")
    with pytest.raises(RuntimeError, match="comfy.sd.load_clip " + MODEL_LIBRARY):
        nodes.CLIPLoader().load_clip("t5.safetensors", "sd3")
    _model_file(folder_paths, "controlnet", "c.pth")
    with pytest.raises(RuntimeError, match="comfy.controlnet.load_controlnet " + MODEL_LIBRARY):
        nodes.ControlNetLoader().load_controlnet("c.pth")
    with pytest.raises(RuntimeError, match=MODEL_LIBRARY):
        nodes.DiffusersLoader().load_checkpoint("x")
    # A missing file is reported first, as in ComfyUI.
    with pytest.raises(FileNotFoundError):
        nodes.CheckpointLoaderSimple().load_checkpoint("absent.safetensors")


def test_lora_loader(folder_paths):
    # Zero strengths pass the inputs through without loading anything.
    assert nodes.LoraLoader().load_lora("M", "C", "none.safetensors", 0, 0) == ("M", "C")
    import comfy.utils
    lora_dir = os.path.join(folder_paths.models_dir, "loras")
    os.makedirs(lora_dir)
    comfy.utils.save_torch_file({"w": torch.ones(1)}, os.path.join(lora_dir, "l.safetensors"))
    loader = nodes.LoraLoader()
    with pytest.raises(RuntimeError, match="comfy.sd.load_lora_for_models " + MODEL_LIBRARY):
        loader.load_lora("M", "C", "l.safetensors", 1.0, 1.0)
    assert loader.loaded_lora[0].endswith("l.safetensors")


def test_samplers_raise_model_library_error():
    latent = {"samples": torch.zeros(1, 4, 8, 8)}
    with pytest.raises(RuntimeError) as e:
        nodes.KSampler().sample(None, 0, 20, 8.0, "euler", "normal", [], [], latent)
    assert str(e.value) == "Sampling (comfy.sample.sample) with a MODEL " + MODEL_LIBRARY
    with pytest.raises(RuntimeError, match=MODEL_LIBRARY):
        nodes.KSamplerAdvanced().sample(None, "enable", 0, 20, 8.0, "euler", "normal", [], [], latent, 0, 10000,
                                        "disable")

    class FakeLatentFormat:
        latent_channels = 4
        latent_dimensions = 2
        latent_rgb_factors = None

    class FakeModel:  # a ModelPatcher look-alike: everything up to comfy.sample.sample works
        load_device = "cpu"

        class model:
            latent_format = FakeLatentFormat

        def get_model_object(self, name):
            return FakeLatentFormat

    with pytest.raises(RuntimeError) as e:
        nodes.common_ksampler(FakeModel(), 1, 2, 8.0, "euler", "normal", [], [], latent)
    assert str(e.value) == "comfy.sample.sample " + MODEL_LIBRARY


def test_clip_text_encode_errors():
    with pytest.raises(RuntimeError, match="clip input is invalid: None"):
        nodes.CLIPTextEncode().encode(None, "a cat")

    class FakeClip:
        def tokenize(self, text):
            return {"l": text.split()}

        def encode_from_tokens_scheduled(self, tokens):
            return [[torch.zeros(1, len(tokens["l"]), 2), {}]]

    (cond,) = nodes.CLIPTextEncode().encode(FakeClip(), "a red cat")
    assert cond[0][0].shape == (1, 3, 2)


def test_controlnet_apply_with_a_duck_typed_controlnet():
    class Net:
        def __init__(self, log):
            self.log = log

        def copy(self):
            return Net(self.log)

        def set_cond_hint(self, hint, strength, timestep_percent_range=(0.0, 1.0), vae=None, extra_concat=[]):
            self.log.append((tuple(hint.shape), strength, timestep_percent_range))
            return self

        def set_previous_controlnet(self, prev):
            self.prev = prev

    log = []
    pos, neg = _cond(), _cond()
    image = torch.zeros(1, 8, 8, 3)
    (p, n) = nodes.ControlNetApplyAdvanced().apply_controlnet(pos, neg, Net(log), image, 0.5, 0.1, 0.9)
    assert log == [((1, 3, 8, 8), 0.5, (0.1, 0.9))]  # one copy shared by positive and negative
    assert p[0][1]["control"] is n[0][1]["control"] and p[0][1]["control_apply_to_uncond"] is False
    assert nodes.ControlNetApplyAdvanced().apply_controlnet(pos, neg, Net(log), image, 0, 0, 1) == (pos, neg)
    (old,) = nodes.ControlNetApply().apply_controlnet(pos, Net(log), image, 1.0)
    assert old[0][1]["control_apply_to_uncond"] is True


def test_missing_helper():
    err = _missing.model_library_error("x.y")
    assert isinstance(err, RuntimeError) and str(err) == "x.y " + MODEL_LIBRARY


@pytest.mark.parametrize("pads", [(8, 0, 0, 0), (0, 8, 0, 8), (8, 8, 8, 8), (0, 0, 8, 0)])
def test_pad_for_outpaint_mask_matches_per_pixel_rule(pads):
    """ComfyUI's rule, pixel by pixel: d = distance to the nearest padded side (unpadded sides count
    as the full size); feathered pixels get ((f - d) / f) ** 2 as a float32."""
    left, top, right, bottom = pads
    h, w, f = 9, 7, 3
    _, mask = nodes.ImagePadForOutpaint().expand_image(torch.zeros(1, h, w, 3), left, top, right, bottom, f)
    for i in range(h):
        for j in range(w):
            d = min(i if top else h, h - i if bottom else h, j if left else w, w - j if right else w)
            expected = ((f - d) / f) ** 2 if d < f else 0.0
            assert mask[0, top + i, left + j].item() == torch.tensor(expected, dtype=torch.float32).item()
