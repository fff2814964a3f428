"""comfy.samplers / sample / sd / model_base / clip_vision / controlnet: the names packs reference
at import time exist; what needs ComfyUI's model library raises a clear RuntimeError."""
import sys

import pytest
import torch

import comfy.clip_vision
import comfy.controlnet
import comfy.model_base
import comfy.sample
import comfy.samplers
import comfy.sd

MODEL_LIBRARY = "needs ComfyUI's model library, which this server does not include yet"


def test_sampler_and_scheduler_names():
    s = comfy.samplers
    assert s.KSampler.SAMPLERS is s.SAMPLER_NAMES
    assert s.KSampler.SCHEDULERS is s.SCHEDULER_NAMES
    assert s.SAMPLER_NAMES == s.KSAMPLER_NAMES + ["ddim", "uni_pc", "uni_pc_bh2"]
    assert len(s.KSAMPLER_NAMES) == 39 and len(set(s.KSAMPLER_NAMES)) == 39
    assert s.KSAMPLER_NAMES[:6] == ["euler", "euler_cfg_pp", "euler_ancestral", "euler_ancestral_cfg_pp", "heun",
                                    "heunpp2"]
    assert s.KSAMPLER_NAMES[-2:] == ["sa_solver", "sa_solver_pece"]
    assert s.SCHEDULER_NAMES == ["simple", "sgm_uniform", "karras", "exponential", "ddim_uniform", "beta", "normal",
                                 "linear_quadratic", "kl_optimal"]
    assert list(s.SCHEDULER_HANDLERS) == s.SCHEDULER_NAMES
    assert s.SCHEDULER_HANDLERS["karras"].use_ms is False and s.SCHEDULER_HANDLERS["normal"].use_ms is True
    assert s.KSampler.DISCARD_PENULTIMATE_SIGMA_SAMPLERS == {"dpm_2", "dpm_2_ancestral", "uni_pc", "uni_pc_bh2"}


def test_sampling_raises():
    s = comfy.samplers
    with pytest.raises(RuntimeError, match="comfy.samplers.calculate_sigmas " + MODEL_LIBRARY):
        s.calculate_sigmas(None, "karras", 20)
    with pytest.raises(ValueError, match="error invalid scheduler nope"):
        s.calculate_sigmas(None, "nope", 20)
    with pytest.raises(RuntimeError, match="comfy.samplers.KSampler " + MODEL_LIBRARY):
        s.KSampler(None, 20, "cpu")
    with pytest.raises(RuntimeError, match="comfy.samplers.sample " + MODEL_LIBRARY):
        s.sample(None, None, [], [], 8.0, "cpu", None, None)
    with pytest.raises(RuntimeError, match="comfy.sample.sample " + MODEL_LIBRARY):
        comfy.sample.sample(None, None, 20, 8.0, "euler", "normal", [], [], None)
    with pytest.raises(RuntimeError, match="comfy.sample.sample_custom " + MODEL_LIBRARY):
        comfy.sample.sample_custom()
    sampler = s.sampler_object("ddim")
    assert isinstance(sampler, s.KSAMPLER) and sampler.inpaint_options == {"random": True}
    with pytest.raises(RuntimeError, match="comfy.samplers.KSAMPLER.sample " + MODEL_LIBRARY):
        sampler.sample(None, None, {}, None, None)
    with pytest.raises(ValueError):
        s.ksampler("no_such_sampler")


def test_packs_can_subclass_and_patch():
    class Guider(comfy.samplers.CFGGuider):
        def predict_noise(self, x, timestep, model_options={}, seed=None):
            return x

    with pytest.raises(RuntimeError, match="Guider " + MODEL_LIBRARY):
        Guider(None)

    class MySampler(comfy.samplers.KSAMPLER):
        pass

    assert MySampler(lambda *a: None).extra_options == {}

    class MyModel(comfy.model_base.BaseModel):
        pass

    assert issubclass(comfy.model_base.SDXL, comfy.model_base.BaseModel)
    assert issubclass(comfy.model_base.Chroma, comfy.model_base.Flux)
    with pytest.raises(RuntimeError, match=MODEL_LIBRARY):
        MyModel(None)
    original = comfy.sample.sample
    comfy.sample.sample = lambda *a, **k: "patched"  # Impact-Pack style wrapping
    try:
        assert comfy.sample.sample() == "patched"
    finally:
        comfy.sample.sample = original


def test_prepare_noise_matches_a_seeded_generator():
    latent = torch.zeros(3, 4, 2, 2)
    noise = comfy.sample.prepare_noise(latent, 42)
    gen = torch.Generator().manual_seed(42)
    assert torch.equal(noise, torch.randn((3, 4, 2, 2), generator=gen))
    # batch_index [2, 0]: the third and first draws of single-latent noise.
    gen = torch.Generator().manual_seed(42)
    draws = [torch.randn((1, 4, 2, 2), generator=gen) for _ in range(3)]
    picked = comfy.sample.prepare_noise(latent[:2], 42, [2, 0])
    assert torch.equal(picked, torch.cat([draws[2], draws[0]]))
    big = comfy.sample.prepare_noise(torch.zeros(1, 1, 1, 1), 0xffffffffffffffff)
    assert big.shape == (1, 1, 1, 1)


def test_fix_empty_latent_channels_and_mask():
    class Format:
        latent_channels = 16
        latent_dimensions = 2

    class Model:
        def get_model_object(self, name):
            assert name == "latent_format"
            return Format

    out = comfy.sample.fix_empty_latent_channels(Model(), torch.zeros(1, 4, 8, 8))
    assert out.shape == (1, 16, 8, 8)
    kept = torch.ones(1, 4, 8, 8)
    assert comfy.sample.fix_empty_latent_channels(Model(), kept) is kept
    mask = comfy.sample.prepare_mask(torch.ones(8, 8), (2, 4, 4, 4), "cpu")
    assert mask.shape == (2, 4, 4, 4) and mask.eq(1).all()


def test_sd_and_friends():
    assert comfy.sd.CLIPType.STABLE_DIFFUSION.value == 1
    for name in ("stable_diffusion", "stable_cascade", "sd3", "stable_audio", "mochi", "ltxv", "pixart", "cosmos",
                 "lumina2", "wan", "hidream", "chroma", "ace", "omnigen2", "qwen_image", "hunyuan_image", "flux",
                 "hunyuan_video"):  # CLIPLoader / DualCLIPLoader types (sdxl falls back to STABLE_DIFFUSION)
        assert hasattr(comfy.sd.CLIPType, name.upper()), name
    assert not hasattr(comfy.sd.CLIPType, "SDXL")
    with pytest.raises(RuntimeError, match="comfy.sd.load_checkpoint_guess_config " + MODEL_LIBRARY):
        comfy.sd.load_checkpoint_guess_config("x.safetensors", output_vae=True)
    with pytest.raises(RuntimeError, match="comfy.sd.VAE " + MODEL_LIBRARY):
        comfy.sd.VAE(sd={})
    with pytest.raises(RuntimeError, match="comfy.clip_vision.load " + MODEL_LIBRARY):
        comfy.clip_vision.load("x")
    with pytest.raises(RuntimeError, match="comfy.controlnet.load_controlnet " + MODEL_LIBRARY):
        comfy.controlnet.load_controlnet("x")
    assert comfy.controlnet.StrengthType.LINEAR_UP.value == 2
    assert comfy.model_base.ModelType.FLOW.value == 6
    out = comfy.clip_vision.Output()
    out["image_embeds"] = 1
    assert out.image_embeds == 1 and out["image_embeds"] == 1


def test_broadcast_image_to():
    t = torch.arange(2).reshape(2, 1)
    assert comfy.controlnet.broadcast_image_to(t[:1], 6, 2) is not None
    assert comfy.controlnet.broadcast_image_to(t, 6, 2).flatten().tolist() == [0, 1, 0, 0, 1, 0]
    assert comfy.controlnet.broadcast_image_to(t, 2, 1).flatten().tolist() == [0, 1]


def test_app_registers_the_top_level_modules(monkeypatch):
    from comfy import _app
    for name in ("execution", "node_helpers", "latent_preview", "nodes"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    _app._register_compat_modules()
    import execution
    import latent_preview
    import node_helpers
    import nodes
    assert execution.__name__ == "comfy._compat.execution"
    assert node_helpers.__name__ == "comfy._compat.node_helpers"
    assert latent_preview.__name__ == "comfy._compat.latent_preview"
    assert nodes.__name__ == "comfy._compat.nodes"
    import server
    assert issubclass(server._PromptQueue, execution.PromptQueue)
