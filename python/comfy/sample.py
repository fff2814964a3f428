"""comfy.sample: noise and mask preparation (plain torch, ComfyUI's results) and the sampling entry
points, which need ComfyUI's model library (not included yet) and raise a clear RuntimeError.
Packs wrap `comfy.sample.sample` at import time (Impact-Pack), so the names exist."""
import torch

from comfy._missing import unavailable


def prepare_noise(latent_image, seed, noise_inds=None):
    """Gaussian noise shaped like latent_image from a generator seeded with `seed` (CPU, the
    latent's dtype). With noise_inds (batch indices), noise for index i is the i-th draw, so a
    latent cut from a batch gets the noise it had in the batch."""
    generator = torch.Generator(device="cpu").manual_seed(seed)
    if noise_inds is None:
        return torch.randn(latent_image.size(), dtype=latent_image.dtype, layout=latent_image.layout,
                           generator=generator, device="cpu")
    wanted = sorted(set(int(i) for i in noise_inds))
    draws = {}
    one = [1] + list(latent_image.size())[1:]
    for i in range(wanted[-1] + 1):
        noise = torch.randn(one, dtype=latent_image.dtype, layout=latent_image.layout, generator=generator,
                            device="cpu")
        if i in wanted:
            draws[i] = noise
    return torch.cat([draws[int(i)] for i in noise_inds], dim=0)


def fix_empty_latent_channels(model, latent_image):
    """An all-zero latent with the wrong channel count (EmptyLatentImage is 4-channel) is resized
    to the model's latent channels."""
    latent_format = model.get_model_object("latent_format")
    if latent_format.latent_channels != latent_image.shape[1] and torch.count_nonzero(latent_image) == 0:
        import comfy.utils
        latent_image = comfy.utils.repeat_to_batch_size(latent_image, latent_format.latent_channels, dim=1)
    if getattr(latent_format, "latent_dimensions", 2) == 3 and latent_image.ndim == 4:
        latent_image = latent_image.unsqueeze(2)
    return latent_image


def prepare_mask(noise_mask, shape, device):
    """A [B, 1|C, H, W] noise mask resized to the latent `shape`, channels and batch repeated."""
    import comfy.utils
    mask = torch.nn.functional.interpolate(noise_mask.reshape((-1, 1, noise_mask.shape[-2], noise_mask.shape[-1])),
                                           size=(shape[2], shape[3]), mode="bilinear")
    mask = torch.cat([mask] * shape[1], dim=1)
    mask = comfy.utils.repeat_to_batch_size(mask, shape[0])
    return mask.to(device)


def get_additional_models(conds, dtype):
    return [], 0


def cleanup_additional_models(models):
    return None


sample = unavailable("comfy.sample.sample")
sample_custom = unavailable("comfy.sample.sample_custom")
