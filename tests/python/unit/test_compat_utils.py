"""comfy.utils, comfy.model_management, node_helpers and latent_preview: the helpers custom nodes
call, checked against hand-computed values."""
import json
import os
import struct

import pytest
import torch
from PIL import Image, ImageFile

import comfy.model_management as mm
import comfy.utils as cu
import latent_preview
import node_helpers


# -- checkpoint files ---------------------------------------------------------------------------------------

def test_safetensors_roundtrip(tmp_path):
    sd = {"b.weight": torch.arange(6, dtype=torch.float16).reshape(2, 3),
          "a": torch.tensor([1.5, -2.0], dtype=torch.bfloat16),
          "flag": torch.tensor([True, False]),
          "empty": torch.tensor([]),
          "scalar": torch.tensor(7, dtype=torch.int64)}
    path = str(tmp_path / "m.safetensors")
    cu.save_torch_file(sd, path, metadata={"format": "pt", "n": "1"})
    # The file is a standard safetensors file: 8-byte little-endian header size, JSON header.
    with open(path, "rb") as f:
        (size,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(size))
        body = f.read()
    assert size % 8 == 0
    assert header["__metadata__"] == {"format": "pt", "n": "1"}
    assert header["b.weight"]["dtype"] == "F16" and header["b.weight"]["shape"] == [2, 3]
    assert header["a"]["dtype"] == "BF16" and header["flag"]["dtype"] == "BOOL"
    assert header["empty"]["data_offsets"][0] == header["empty"]["data_offsets"][1]
    assert len(body) == max(v["data_offsets"][1] for k, v in header.items() if k != "__metadata__")

    loaded, meta = cu.load_torch_file(path, return_metadata=True)
    assert meta == {"format": "pt", "n": "1"}
    assert set(loaded) == set(sd)
    for k in sd:
        assert loaded[k].dtype == sd[k].dtype and torch.equal(loaded[k], sd[k]), k
    assert cu.load_torch_file(path).keys() == sd.keys()
    assert json.loads(cu.safetensors_header(path))["a"]["shape"] == [2]
    assert cu.safetensors_header(path, max_size=8) is None


def test_bad_safetensors_file(tmp_path):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(struct.pack("<Q", 10 ** 12) + b"{}")
    with pytest.raises(ValueError, match="The safetensors file is corrupt or invalid"):
        cu.load_torch_file(str(path))


def test_torch_checkpoint(tmp_path):
    path = str(tmp_path / "m.ckpt")
    torch.save({"state_dict": {"w": torch.ones(2)}, "epoch": 3}, path)
    assert torch.equal(cu.load_torch_file(path)["w"], torch.ones(2))
    torch.save({"model": {"w": torch.zeros(1)}}, path)
    assert list(cu.load_torch_file(path)) == ["w"]
    torch.save({"x": torch.zeros(1), "y": torch.ones(1)}, path)
    assert sorted(cu.load_torch_file(path, safe_load=True)) == ["x", "y"]
    sd, meta = cu.load_torch_file(path, return_metadata=True)
    assert meta is None


def test_state_dict_helpers():
    sd = {"model.a": torch.ones(2, 2), "model.b": torch.ones(3), "vae.c": torch.ones(1)}
    assert cu.calculate_parameters(sd) == 8 and cu.calculate_parameters(sd, "model.") == 7
    assert cu.weight_dtype(sd) == torch.float32 and cu.weight_dtype(sd, "x") is None
    out = cu.state_dict_prefix_replace(dict(sd), {"model.": "diffusion."}, filter_keys=True)
    assert sorted(out) == ["diffusion.a", "diffusion.b"]
    same = dict(sd)
    assert cu.state_dict_prefix_replace(same, {"vae.": "first_stage."}) is same
    assert sorted(same) == ["first_stage.c", "model.a", "model.b"]
    assert sorted(cu.state_dict_key_replace(dict(sd), {"vae.c": "z"})) == ["model.a", "model.b", "z"]


def test_attribute_paths():
    net = torch.nn.Sequential(torch.nn.Linear(2, 2))
    w = cu.get_attr(net, "0.weight")
    assert w is net[0].weight
    prev = cu.set_attr(net, "0.bias", torch.nn.Parameter(torch.zeros(2)))
    assert prev.shape == (2,) and not net[0].bias.any()
    cu.copy_to_param(net, "0.bias", torch.ones(2))
    assert net[0].bias.eq(1).all()
    cu.set_attr_param(net, "0.weight", torch.full((2, 2), 3.0))
    assert isinstance(net[0].weight, torch.nn.Parameter) and not net[0].weight.requires_grad


# -- batches and scaling --------------------------------------------------------------------------------------

def test_batch_resizing():
    t = torch.arange(3).reshape(3, 1)
    assert cu.repeat_to_batch_size(t, 2).flatten().tolist() == [0, 1]
    assert cu.repeat_to_batch_size(t, 7).flatten().tolist() == [0, 1, 2, 0, 1, 2, 0]
    assert cu.repeat_to_batch_size(t.T, 5, dim=1).flatten().tolist() == [0, 1, 2, 0, 1]
    four = torch.arange(4)
    assert cu.resize_to_batch_size(four, 2).tolist() == [0, 3]
    assert cu.resize_to_batch_size(four, 3).tolist() == [0, 2, 3]  # round(1.5) == 2
    assert cu.resize_to_batch_size(four[:2], 4).tolist() == [0, 0, 1, 1]
    assert cu.resize_to_batch_size(four, 1).tolist() == [0]
    assert cu.resize_list_to_batch_size(["a", "b"], 5) == ["a", "a", "b", "b", "b"]


def test_common_upscale_methods():
    x = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    near = cu.common_upscale(x, 4, 4, "nearest-exact", "disabled")
    assert near[0, 0].tolist() == [[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]]
    area = cu.common_upscale(x, 1, 1, "area", "disabled")
    assert area.item() == 2.5
    bil = cu.common_upscale(x, 4, 1, "bilinear", "disabled")
    assert bil[0, 0, 0].tolist() == [2.0, 2.25, 2.75, 3.0]
    # center crop to the target aspect ratio (2:1 -> 1:1 keeps the middle columns)
    wide = torch.arange(8.0).reshape(1, 1, 2, 4)
    assert cu.common_upscale(wide, 2, 2, "nearest-exact", "center")[0, 0].tolist() == [[1, 2], [5, 6]]
    tall = torch.arange(8.0).reshape(1, 1, 4, 2)
    assert cu.common_upscale(tall, 2, 2, "nearest-exact", "center")[0, 0].tolist() == [[2, 3], [4, 5]]
    # 5-D (video) latents: every frame is scaled.
    video = torch.arange(2.0).reshape(1, 1, 2, 1, 1).expand(1, 1, 2, 2, 2)
    out = cu.common_upscale(video, 4, 4, "nearest-exact", "disabled")
    assert out.shape == (1, 1, 2, 4, 4) and out[0, 0, 1].eq(1).all() and out[0, 0, 0].eq(0).all()


def test_bislerp_matches_hand_computed_slerp():
    x = torch.tensor([[[[1.0, 0.0]], [[0.0, 1.0]]]])
    out = cu.bislerp(x, 4, 1)
    c, s = 0.9238795325112867, 0.3826834323650898
    assert torch.allclose(out, torch.tensor([[[[1.0, c, s, 0.0]], [[0.0, s, c, 1.0]]]]), atol=1e-6)
    # Opposite vectors fall back to linear interpolation; norms are interpolated linearly.
    y = torch.tensor([[[[2.0, -2.0]]]])
    assert torch.allclose(cu.bislerp(y, 4, 1), torch.tensor([[[[2.0, 1.0, -1.0, -2.0]]]]))
    assert cu.bislerp(x.half(), 4, 1).dtype == torch.float16


def test_lanczos_uses_8_bit_pixels():
    x = torch.tensor([0.2, 0.5, 0.9]).reshape(1, 3, 1, 1).expand(1, 3, 2, 2)
    out = cu.lanczos(x, 3, 3)
    expected = torch.tensor([51, 127, 229], dtype=torch.float32) / 255.0
    assert out.shape == (1, 3, 3, 3) and torch.allclose(out[0, :, 1, 1], expected)


def test_tiled_scale_blends_tiles_exactly():
    torch.manual_seed(0)
    x = torch.rand(2, 3, 10, 13)
    out = cu.tiled_scale(x, lambda t: t + 1, tile_x=4, tile_y=4, overlap=1, upscale_amount=1)
    assert torch.allclose(out, x + 1, atol=1e-6)
    up = cu.tiled_scale(x, lambda t: torch.nn.functional.interpolate(t, scale_factor=2, mode="nearest"),
                        tile_x=6, tile_y=5, overlap=2, upscale_amount=2)
    assert torch.allclose(up, torch.nn.functional.interpolate(x, scale_factor=2, mode="nearest"), atol=1e-6)
    down = cu.tiled_scale_multidim(torch.ones(1, 4, 8, 8), lambda t: t[:, :2, ::2, ::2] * 3, tile=(4, 4), overlap=2,
                                   upscale_amount=2, out_channels=2, downscale=True)
    assert down.shape == (1, 2, 4, 4) and torch.allclose(down, torch.full_like(down, 3.0))
    assert cu.get_tiled_scale_steps(13, 10, 4, 4, 1) == 4 * 3


def test_reshape_mask():
    m = cu.reshape_mask(torch.ones(2, 2), (3, 4, 4, 4))
    assert m.shape == (3, 4, 4, 4) and m.eq(1).all()


def test_progress_bar_hook():
    seen = []
    old = cu.PROGRESS_BAR_HOOK
    cu.set_progress_bar_global_hook(lambda v, t, p, node_id=None: seen.append((v, t, node_id)))
    try:
        bar = cu.ProgressBar(3, node_id="7")
        bar.update(2)
        bar.update(5)
        bar.update_absolute(1, total=4)
    finally:
        cu.set_progress_bar_global_hook(old)
    assert seen == [(2, 3, "7"), (3, 3, "7"), (1, 4, "7")]


# -- model_management ------------------------------------------------------------------------------------------

def test_model_management_without_models():
    dev = mm.get_torch_device()
    assert isinstance(dev, torch.device)
    assert mm.intermediate_device() == torch.device("cpu")
    assert mm.unet_offload_device() == torch.device("cpu") or mm.vram_state == mm.VRAMState.HIGH_VRAM
    assert isinstance(mm.text_encoder_device(), torch.device) and isinstance(mm.vae_device(), torch.device)
    cpu = torch.device("cpu")
    assert mm.get_free_memory(cpu) > 0 and mm.get_total_memory(cpu) >= mm.get_free_memory(cpu)
    free, torch_free = mm.get_free_memory(cpu, torch_free_too=True)
    assert free == torch_free
    assert mm.load_models_gpu([object()]) is None and mm.current_loaded_models == []
    assert mm.free_memory(1 << 30, cpu) == [] and mm.loaded_models() == []
    mm.unload_all_models()
    mm.soft_empty_cache()
    mm.cleanup_models_gc()
    assert mm.is_device_mps(torch.device("mps")) and not mm.is_device_mps(cpu) and mm.is_device_cpu("cpu")
    assert mm.should_use_fp16(cpu) is False and mm.should_use_bf16(cpu) is False
    assert mm.unet_dtype(cpu) == torch.float32 or mm.get_torch_device().type != "cpu"
    assert mm.xformers_enabled() is False and mm.XFORMERS_IS_AVAILABLE is False
    assert issubclass(mm.OOM_EXCEPTION, BaseException)
    assert mm.is_oom(RuntimeError("CUDA out of memory. Tried to allocate")) and not mm.is_oom(ValueError())
    assert [s.name for s in mm.VRAMState] == ["DISABLED", "NO_VRAM", "LOW_VRAM", "NORMAL_VRAM", "HIGH_VRAM", "SHARED"]
    assert isinstance(mm.vram_state, mm.VRAMState)
    assert mm.cpu_mode() == (mm.cpu_state == mm.CPUState.CPU)


def test_model_management_tensors():
    lin = torch.nn.Linear(2, 3)
    assert mm.module_size(lin) == (6 + 3) * 4
    t = torch.ones(2, dtype=torch.float32)
    out = mm.cast_to_device(t, torch.device("cpu"), torch.float16)
    assert out.dtype == torch.float16 and out.eq(1).all()
    assert mm.cast_to_device(t, torch.device("cpu"), torch.float32) is t
    assert mm.cast_to_device(t, torch.device("cpu"), torch.float32, copy=True) is not t
    assert mm.dtype_size(torch.bfloat16) == 2 and mm.dtype_size(torch.float32) == 4


def test_interrupt_flag(monkeypatch):
    # The flag lives in the native executor (a no-op without a running server): use a stand-in.
    flag = [False]

    class Core:
        set_interrupt = staticmethod(lambda v: flag.__setitem__(0, v))
        interrupt_requested = staticmethod(lambda: flag[0])

        @staticmethod
        def take_interrupt():
            was, flag[0] = flag[0], False
            return was

    monkeypatch.setattr(mm, "_core", Core)
    mm.interrupt_current_processing(True)
    assert mm.processing_interrupted() is True and mm.interrupt_processing is True
    with pytest.raises(mm.InterruptProcessingException):
        mm.throw_exception_if_processing_interrupted()
    assert mm.interrupt_processing is False
    mm.throw_exception_if_processing_interrupted()


# -- node_helpers ------------------------------------------------------------------------------------------------

def test_conditioning_set_values():
    cond = [[torch.zeros(1), {"a": [1], "keep": True}]]
    out = node_helpers.conditioning_set_values(cond, {"a": [2], "b": 3})
    assert out[0][1] == {"a": [2], "b": 3, "keep": True} and cond[0][1] == {"a": [1], "keep": True}
    assert out[0][0] is cond[0][0]
    appended = node_helpers.conditioning_set_values(cond, {"a": [2], "c": [4]}, append=True)
    assert appended[0][1]["a"] == [1, 2] and appended[0][1]["c"] == [4]


def test_pillow_retries_with_truncated_images(tmp_path):
    path = tmp_path / "t.png"
    Image.new("RGB", (64, 64), (10, 20, 30)).save(path)
    data = path.read_bytes()
    path.write_bytes(data[:-30])  # cut the end off
    calls = []

    def load(p):
        calls.append(ImageFile.LOAD_TRUNCATED_IMAGES)
        with Image.open(p) as img:
            img.load()
            return img.size

    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    assert node_helpers.pillow(load, str(path)) == (64, 64)
    assert calls == [False, True] and ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_other_node_helpers():
    import hashlib
    assert node_helpers.hasher() is hashlib.sha256
    assert node_helpers.string_to_torch_dtype("bf16") is torch.bfloat16
    assert node_helpers.string_to_torch_dtype("fp32") is torch.float32
    assert node_helpers.string_to_torch_dtype("x") is None
    rgb, rgba = torch.zeros(1, 2, 2, 3), torch.zeros(1, 2, 2, 4)
    d, s = node_helpers.image_alpha_fix(rgb, rgba)
    assert d is rgb and s.shape[-1] == 3
    d, s = node_helpers.image_alpha_fix(rgba, rgb)
    assert d.shape[-1] == 5 and d[..., -1].eq(1.0).all() and s is rgb


# -- latent_preview ------------------------------------------------------------------------------------------------

class _Format:
    latent_channels = 2
    taesd_decoder_name = None
    latent_rgb_factors = [[1.0, 0.0, 0.0], [0.0, 1.0, -1.0]]  # per latent channel: r, g, b
    latent_rgb_factors_bias = [0.0, 0.0, 0.5]


def test_previewers(monkeypatch):
    from comfy.cli_args import args
    assert latent_preview.LatentPreviewMethod.TAESD.value == "taesd"
    monkeypatch.setattr(args, "preview_method", latent_preview.LatentPreviewMethod.NoPreviews)
    assert latent_preview.get_previewer("cpu", _Format) is None
    monkeypatch.setattr(args, "preview_method", latent_preview.LatentPreviewMethod.Auto)
    previewer = latent_preview.get_previewer("cpu", _Format)
    assert isinstance(previewer, latent_preview.Latent2RGBPreviewer)
    x0 = torch.tensor([[[[1.0]], [[-1.0]]]])  # one pixel: channel 0 = 1, channel 1 = -1
    fmt, image, size = previewer.decode_latent_to_preview_image("JPEG", x0)
    assert fmt == "JPEG" and size == latent_preview.MAX_PREVIEW_RESOLUTION
    # rgb = (1, -1, 1.5) -> ((v + 1) / 2) clamped * 255 -> (255, 0, 255)
    assert image.getpixel((0, 0)) == (255, 0, 255)


def test_prepare_callback(monkeypatch):
    from comfy.cli_args import args
    monkeypatch.setattr(args, "preview_method", latent_preview.LatentPreviewMethod.Latent2RGB)
    seen = []
    monkeypatch.setattr(cu, "PROGRESS_BAR_HOOK", lambda v, t, p, node_id=None: seen.append((v, t, p)))

    class Model:
        load_device = "cpu"

        class model:
            latent_format = _Format

    store = {}
    callback = latent_preview.prepare_callback(Model, 4, store)
    x0 = torch.zeros(1, 2, 1, 1)
    callback(0, x0, None, 4)
    assert store["x0"] is x0
    value, total, preview = seen[0]
    assert (value, total) == (1, 4) and preview[0] == "JPEG" and preview[1].size == (1, 1)


def test_set_preview_method(monkeypatch):
    from comfy.cli_args import args
    monkeypatch.setattr(args, "preview_method", args.preview_method)
    latent_preview.set_preview_method("taesd")
    assert args.preview_method == latent_preview.LatentPreviewMethod.TAESD
    latent_preview.set_preview_method(None)
    assert args.preview_method == latent_preview.default_preview_method


def test_model_files_dir_untouched(tmp_path):
    assert not os.path.exists(tmp_path / "models")
