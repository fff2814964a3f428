"""comfy.sd as custom nodes import it: the CLIPType/TEModel enums the loaders name, the VAE, CLIP
and StyleModel classes packs subclass or test with isinstance, and the loading functions, which
need ComfyUI's model library (not included yet) and raise a clear RuntimeError."""
import enum

from comfy._missing import MissingModelLibraryMixin, unavailable


class CLIPType(enum.Enum):
    STABLE_DIFFUSION = 1
    STABLE_CASCADE = 2
    SD3 = 3
    STABLE_AUDIO = 4
    HUNYUAN_DIT = 5
    FLUX = 6
    MOCHI = 7
    LTXV = 8
    HUNYUAN_VIDEO = 9
    PIXART = 10
    COSMOS = 11
    LUMINA2 = 12
    WAN = 13
    HIDREAM = 14
    CHROMA = 15
    ACE = 16
    OMNIGEN2 = 17
    QWEN_IMAGE = 18
    HUNYUAN_IMAGE = 19


class TEModel(enum.Enum):
    CLIP_L = 1
    CLIP_H = 2
    CLIP_G = 3
    T5_XXL = 4
    T5_XL = 5
    T5_BASE = 6
    LLAMA3_8 = 7
    T5_XXL_OLD = 8
    GEMMA_2_2B = 9
    QWEN25_3B = 10
    QWEN25_7B = 11
    BYT5_SMALL_GLYPH = 12


class CLIP(MissingModelLibraryMixin):
    """A text encoder with its tokenizer (needs the model library)."""


class VAE(MissingModelLibraryMixin):
    """An image autoencoder (needs the model library)."""


class StyleModel(MissingModelLibraryMixin):
    """A style model (needs the model library)."""


load_checkpoint = unavailable("comfy.sd.load_checkpoint")
load_checkpoint_guess_config = unavailable("comfy.sd.load_checkpoint_guess_config")
load_state_dict_guess_config = unavailable("comfy.sd.load_state_dict_guess_config")
load_diffusion_model = unavailable("comfy.sd.load_diffusion_model")
load_diffusion_model_state_dict = unavailable("comfy.sd.load_diffusion_model_state_dict")
load_unet = unavailable("comfy.sd.load_unet")
load_unet_state_dict = unavailable("comfy.sd.load_unet_state_dict")
load_clip = unavailable("comfy.sd.load_clip")
load_text_encoder_state_dicts = unavailable("comfy.sd.load_text_encoder_state_dicts")
load_lora_for_models = unavailable("comfy.sd.load_lora_for_models")
load_style_model = unavailable("comfy.sd.load_style_model")
load_gligen = unavailable("comfy.sd.load_gligen")
load_model_weights = unavailable("comfy.sd.load_model_weights")
save_checkpoint = unavailable("comfy.sd.save_checkpoint")
