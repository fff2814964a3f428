"""comfy.controlnet as custom nodes import it: the ControlNet classes packs subclass, the
StrengthType enum and the loaders, which need ComfyUI's model library (not included yet) and
raise a clear RuntimeError."""
import enum

from comfy._missing import MissingModelLibraryMixin, unavailable


class StrengthType(enum.Enum):
    CONSTANT = 1
    LINEAR_UP = 2


def broadcast_image_to(tensor, target_batch_size, batched_number):
    """Repeats or cuts a hint batch to target_batch_size, per conditioning chunk."""
    import torch
    current = tensor.shape[0]
    if current == 1:
        return tensor
    per_batch = target_batch_size // batched_number
    tensor = tensor[:per_batch]
    if per_batch > tensor.shape[0]:
        have = tensor.shape[0]
        tensor = torch.cat([tensor] * (per_batch // have) + [tensor[:(per_batch % have)]], dim=0)
    current = tensor.shape[0]
    if current == target_batch_size:
        return tensor
    return torch.cat([tensor] * batched_number, dim=0)


class ControlBase(MissingModelLibraryMixin):
    pass


class ControlNet(ControlBase):
    pass


class ControlLoraOps:
    pass


class ControlLora(ControlNet):
    pass


class T2IAdapter(ControlBase):
    pass


controlnet_config = unavailable("comfy.controlnet.controlnet_config")
controlnet_load_state_dict = unavailable("comfy.controlnet.controlnet_load_state_dict")
load_controlnet_state_dict = unavailable("comfy.controlnet.load_controlnet_state_dict")
load_controlnet = unavailable("comfy.controlnet.load_controlnet")
load_t2i_adapter = unavailable("comfy.controlnet.load_t2i_adapter")
