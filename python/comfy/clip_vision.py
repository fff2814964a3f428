"""comfy.clip_vision as custom nodes import it. Loading and running a CLIP vision model needs
ComfyUI's model library, which this server does not include yet: those calls raise a clear
RuntimeError."""
from comfy._missing import MissingModelLibraryMixin, unavailable


class Output:
    """The encoder result (image_embeds, last_hidden_state, penultimate_hidden_states, ...)."""

    def __getitem__(self, key):
        return getattr(self, key)

    def __setitem__(self, key, item):
        setattr(self, key, item)


class ClipVisionModel(MissingModelLibraryMixin):
    pass


clip_preprocess = unavailable("comfy.clip_vision.clip_preprocess")
convert_to_transformers = unavailable("comfy.clip_vision.convert_to_transformers")
load_clipvision_from_sd = unavailable("comfy.clip_vision.load_clipvision_from_sd")
load = unavailable("comfy.clip_vision.load")
