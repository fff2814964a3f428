"""The top-level `latent_preview` module (ComfyUI 0.3.64): sampler step previews.

`prepare_callback(model, steps)` returns the per-step callback samplers call; it advances a
comfy.utils.ProgressBar (so the server's progress messages and type-1 previews follow) and, when a
previewer exists for the model's latent format, attaches a preview image. Packs hook
`get_previewer` (VideoHelperSuite) and read `LatentPreviewMethod` / mutate `args.preview_method`
(ComfyUI-Manager), so those names are the ones ComfyUI has.

TAESD previews need the TAESD decoder from ComfyUI's model library (`comfy.taesd`); without it the
TAESD method falls back to the Latent2RGB approximation, which needs only the latent format's
factors.
"""
import logging

from comfy.cli_args import LatentPreviewMethod, args  # noqa: F401  (LatentPreviewMethod: re-export)

MAX_PREVIEW_RESOLUTION = args.preview_size
default_preview_method = args.preview_method


def set_preview_method(override=None):
    """Sets args.preview_method for the next prompt (`None`/"default" restores the start-up value)."""
    if override and override != "default":
        method = LatentPreviewMethod.from_string(override)
        if method is not None:
            args.preview_method = method
            return
    args.preview_method = default_preview_method


def preview_to_image(latent_image):
    """[H, W, 3] values in about [-1, 1] -> an RGB PIL image."""
    import torch
    from PIL import Image
    pixels = ((latent_image + 1.0) / 2.0).clamp(0, 1).mul(0xFF)
    pixels = pixels.to(device="cpu", dtype=torch.uint8)
    return Image.fromarray(pixels.numpy())


class LatentPreviewer:
    def decode_latent_to_preview(self, x0):
        pass

    def decode_latent_to_preview_image(self, preview_format, x0):
        preview_image = self.decode_latent_to_preview(x0)
        return (preview_format, preview_image, MAX_PREVIEW_RESOLUTION)


class TAESDPreviewerImpl(LatentPreviewer):
    def __init__(self, taesd):
        self.taesd = taesd

    def decode_latent_to_preview(self, x0):
        x_sample = self.taesd.decode(x0[:1])[0].movedim(0, 2)
        return preview_to_image(x_sample)


class Latent2RGBPreviewer(LatentPreviewer):
    """A linear projection of the latent channels to RGB (the latent format's rgb factors)."""

    def __init__(self, latent_rgb_factors, latent_rgb_factors_bias=None, latent_rgb_factors_reshape=None):
        import torch
        self.latent_rgb_factors = torch.tensor(latent_rgb_factors, device="cpu").transpose(0, 1)
        self.latent_rgb_factors_bias = None
        if latent_rgb_factors_bias is not None:
            self.latent_rgb_factors_bias = torch.tensor(latent_rgb_factors_bias, device="cpu")
        self.latent_rgb_factors_reshape = latent_rgb_factors_reshape

    def decode_latent_to_preview(self, x0):
        import torch
        if self.latent_rgb_factors_reshape is not None:
            x0 = self.latent_rgb_factors_reshape(x0)
        self.latent_rgb_factors = self.latent_rgb_factors.to(dtype=x0.dtype, device=x0.device)
        if self.latent_rgb_factors_bias is not None:
            self.latent_rgb_factors_bias = self.latent_rgb_factors_bias.to(dtype=x0.dtype, device=x0.device)
        first = x0[0, :, 0] if x0.ndim == 5 else x0[0]
        rgb = torch.nn.functional.linear(first.movedim(0, -1), self.latent_rgb_factors, bias=self.latent_rgb_factors_bias)
        return preview_to_image(rgb)


def _taesd_decoder_path(latent_format):
    import folder_paths
    name = getattr(latent_format, "taesd_decoder_name", None)
    if name is None:
        return None
    match = next((fn for fn in folder_paths.get_filename_list("vae_approx") if fn.startswith(name)), "")
    return folder_paths.get_full_path("vae_approx", match)


def _taesd_previewer(path, latent_format, device):
    try:
        from comfy.taesd.taesd import TAESD
    except ImportError:
        logging.warning("TAESD previews need ComfyUI's model library (comfy.taesd), which this server does not "
                        "include yet; using Latent2RGB previews instead.")
        return None
    taesd = TAESD(None, path, latent_channels=latent_format.latent_channels).to(device)
    return TAESDPreviewerImpl(taesd)


def get_previewer(device, latent_format):
    """The previewer for the current --preview-method (auto means Latent2RGB), or None."""
    method = args.preview_method
    if method == LatentPreviewMethod.NoPreviews:
        return None
    previewer = None
    if method == LatentPreviewMethod.TAESD:
        path = _taesd_decoder_path(latent_format)
        if path:
            previewer = _taesd_previewer(path, latent_format, device)
        else:
            logging.warning("Warning: TAESD previews enabled, but could not find models/vae_approx/{}".format(
                getattr(latent_format, "taesd_decoder_name", None)))
    if previewer is None and getattr(latent_format, "latent_rgb_factors", None) is not None:
        previewer = Latent2RGBPreviewer(latent_format.latent_rgb_factors,
                                        getattr(latent_format, "latent_rgb_factors_bias", None),
                                        getattr(latent_format, "latent_rgb_factors_reshape", None))
    return previewer


def prepare_callback(model, steps, x0_output_dict=None):
    """The sampler callback(step, x0, x, total_steps): stores x0 when asked, reports progress and a
    preview of x0."""
    import comfy.utils
    preview_format = "JPEG"
    previewer = get_previewer(model.load_device, model.model.latent_format)
    pbar = comfy.utils.ProgressBar(steps)

    def callback(step, x0, x, total_steps):
        if x0_output_dict is not None:
            x0_output_dict["x0"] = x0
        preview_bytes = None
        if previewer:
            preview_bytes = previewer.decode_latent_to_preview_image(preview_format, x0)
        pbar.update_absolute(step + 1, total_steps, preview_bytes)
    return callback
