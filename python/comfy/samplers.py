"""comfy.samplers as custom nodes import it: ComfyUI 0.3.64's sampler and scheduler names (the
KSampler combos) and the classes packs subclass or patch (KSampler, KSAMPLER, CFGGuider, Sampler).

Sampling itself needs ComfyUI's model library (k-diffusion samplers, model patchers), which this
server does not include yet: the functions that would sample raise a clear RuntimeError."""
from typing import Callable, NamedTuple

from comfy._missing import MissingModelLibraryMixin, model_library_error, unavailable

KSAMPLER_NAMES = ["euler", "euler_cfg_pp", "euler_ancestral", "euler_ancestral_cfg_pp", "heun", "heunpp2", "dpm_2",
                  "dpm_2_ancestral", "lms", "dpm_fast", "dpm_adaptive", "dpmpp_2s_ancestral",
                  "dpmpp_2s_ancestral_cfg_pp", "dpmpp_sde", "dpmpp_sde_gpu", "dpmpp_2m", "dpmpp_2m_cfg_pp",
                  "dpmpp_2m_sde", "dpmpp_2m_sde_gpu", "dpmpp_2m_sde_heun", "dpmpp_2m_sde_heun_gpu", "dpmpp_3m_sde",
                  "dpmpp_3m_sde_gpu", "ddpm", "lcm", "ipndm", "ipndm_v", "deis", "res_multistep",
                  "res_multistep_cfg_pp", "res_multistep_ancestral", "res_multistep_ancestral_cfg_pp",
                  "gradient_estimation", "gradient_estimation_cfg_pp", "er_sde", "seeds_2", "seeds_3", "sa_solver",
                  "sa_solver_pece"]

SAMPLER_NAMES = KSAMPLER_NAMES + ["ddim", "uni_pc", "uni_pc_bh2"]


class SchedulerHandler(NamedTuple):
    handler: Callable
    # True: handler(model_sampling, steps); False: handler(n=, sigma_min=, sigma_max=).
    use_ms: bool = True


simple_scheduler = unavailable("comfy.samplers.simple_scheduler")
ddim_scheduler = unavailable("comfy.samplers.ddim_scheduler")
normal_scheduler = unavailable("comfy.samplers.normal_scheduler")
beta_scheduler = unavailable("comfy.samplers.beta_scheduler")
linear_quadratic_schedule = unavailable("comfy.samplers.linear_quadratic_schedule")
kl_optimal_scheduler = unavailable("comfy.samplers.kl_optimal_scheduler")
_sgm_uniform = unavailable("comfy.samplers.normal_scheduler(sgm=True)")
_karras = unavailable("comfy.k_diffusion.sampling.get_sigmas_karras")
_exponential = unavailable("comfy.k_diffusion.sampling.get_sigmas_exponential")

SCHEDULER_HANDLERS = {
    "simple": SchedulerHandler(simple_scheduler),
    "sgm_uniform": SchedulerHandler(_sgm_uniform),
    "karras": SchedulerHandler(_karras, use_ms=False),
    "exponential": SchedulerHandler(_exponential, use_ms=False),
    "ddim_uniform": SchedulerHandler(ddim_scheduler),
    "beta": SchedulerHandler(beta_scheduler),
    "normal": SchedulerHandler(normal_scheduler),
    "linear_quadratic": SchedulerHandler(linear_quadratic_schedule),
    "kl_optimal": SchedulerHandler(kl_optimal_scheduler, use_ms=False),
}
SCHEDULER_NAMES = list(SCHEDULER_HANDLERS)


def calculate_sigmas(model_sampling, scheduler_name, steps):
    if scheduler_name not in SCHEDULER_HANDLERS:
        raise ValueError(f"error invalid scheduler {scheduler_name}")
    raise model_library_error("comfy.samplers.calculate_sigmas")


class Sampler:
    def sample(self):
        pass

    def max_denoise(self, model_wrap, sigmas):
        raise model_library_error("comfy.samplers.Sampler.max_denoise")


class KSAMPLER(Sampler):
    """A k-diffusion sampler function with its options; constructing one is allowed (packs build
    them at import time), sampling with it needs the model library."""

    def __init__(self, sampler_function, extra_options={}, inpaint_options={}):
        self.sampler_function = sampler_function
        self.extra_options = extra_options
        self.inpaint_options = inpaint_options

    def sample(self, model_wrap, sigmas, extra_args, callback, noise, latent_image=None, denoise_mask=None,
               disable_pbar=False):
        raise model_library_error("comfy.samplers.KSAMPLER.sample")


def ksampler(sampler_name, extra_options={}, inpaint_options={}):
    if sampler_name not in KSAMPLER_NAMES:
        raise ValueError(f"unknown sampler {sampler_name}")
    return KSAMPLER(unavailable("comfy.k_diffusion.sampling.sample_" + sampler_name), extra_options, inpaint_options)


def sampler_object(name):
    if name == "ddim":
        return ksampler("euler", inpaint_options={"random": True})
    if name in ("uni_pc", "uni_pc_bh2"):
        return KSAMPLER(unavailable("comfy.extra_samplers.uni_pc.sample_" + name.replace("uni_pc", "unipc")))
    return ksampler(name)


class CFGGuider(MissingModelLibraryMixin):
    """Classifier-free guidance around a model patcher (packs subclass it)."""

    def set_conds(self, positive, negative):
        self.inner_set_conds({"positive": positive, "negative": negative})

    def set_cfg(self, cfg):
        self.cfg = cfg

    def inner_set_conds(self, conds):
        raise model_library_error("comfy.samplers.CFGGuider.inner_set_conds")

    def __call__(self, *args, **kwargs):
        return self.outer_predict_noise(*args, **kwargs)

    def outer_predict_noise(self, x, timestep, model_options={}, seed=None):
        return self.predict_noise(x, timestep, model_options, seed)

    def predict_noise(self, x, timestep, model_options={}, seed=None):
        raise model_library_error("comfy.samplers.CFGGuider.predict_noise")

    def inner_sample(self, *args, **kwargs):
        raise model_library_error("comfy.samplers.CFGGuider.inner_sample")

    def outer_sample(self, *args, **kwargs):
        raise model_library_error("comfy.samplers.CFGGuider.outer_sample")

    def sample(self, noise, latent_image, sampler, sigmas, denoise_mask=None, callback=None, disable_pbar=False,
               seed=None):
        raise model_library_error("comfy.samplers.CFGGuider.sample")


sample = unavailable("comfy.samplers.sample")
sampling_function = unavailable("comfy.samplers.sampling_function")
calc_cond_batch = unavailable("comfy.samplers.calc_cond_batch")
cfg_function = unavailable("comfy.samplers.cfg_function")
process_conds = unavailable("comfy.samplers.process_conds")
encode_model_conds = unavailable("comfy.samplers.encode_model_conds")


class KSampler:
    SCHEDULERS = SCHEDULER_NAMES
    SAMPLERS = SAMPLER_NAMES
    DISCARD_PENULTIMATE_SIGMA_SAMPLERS = set(("dpm_2", "dpm_2_ancestral", "uni_pc", "uni_pc_bh2"))

    def __init__(self, model, steps, device, sampler=None, scheduler=None, denoise=None, model_options={}):
        raise model_library_error("comfy.samplers.KSampler")

    def calculate_sigmas(self, steps):
        raise model_library_error("comfy.samplers.KSampler.calculate_sigmas")

    def set_steps(self, steps, denoise=None):
        raise model_library_error("comfy.samplers.KSampler.set_steps")

    def sample(self, *args, **kwargs):
        raise model_library_error("comfy.samplers.KSampler.sample")
