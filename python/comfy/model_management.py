"""comfy.model_management: the parts custom nodes use without models (spec section 9.4).

The interrupt flag lives in the native executor so that /interrupt (a native route) and Python nodes
share one flag without the GIL.

No model is ever loaded by this server yet (it does not ship ComfyUI's model library), so the
model-loading calls are bookkeeping no-ops: `load_models_gpu` loads nothing, `current_loaded_models`
stays empty, `free_memory` frees nothing. Device, dtype and memory queries answer from torch and
psutil the way ComfyUI does for the flags given (`--cpu`, `--force-fp32`, `--fp16-unet`, ...).
"""
import enum
import logging
import platform
import sys

try:
    import torch
except ImportError:  # torch is optional for the server itself
    torch = None

from comfy import _core


class InterruptProcessingException(Exception):
    pass


def interrupt_current_processing(value=True):
    _core.set_interrupt(bool(value))


def processing_interrupted():
    return _core.interrupt_requested()


def throw_exception_if_processing_interrupted():
    # Consumes the flag, as ComfyUI does.
    if _core.take_interrupt():
        raise InterruptProcessingException()


def __getattr__(name):
    # ComfyUI keeps the flag in a module global `interrupt_processing`; some packs read it directly.
    if name == "interrupt_processing":
        return _core.interrupt_requested()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# -- state ---------------------------------------------------------------------------------------------

class VRAMState(enum.Enum):
    DISABLED = 0  # no vram present: no need to move models to vram
    NO_VRAM = 1  # very low vram: enable all the options to save vram
    LOW_VRAM = 2
    NORMAL_VRAM = 3
    HIGH_VRAM = 4
    SHARED = 5  # no dedicated vram: memory shared between CPU and GPU, but models still need moving


class CPUState(enum.Enum):
    GPU = 0
    CPU = 1
    MPS = 2


def _args():
    from comfy.cli_args import args
    return args


def _cuda_available():
    return torch is not None and torch.cuda.is_available()


def _mps_available():
    return torch is not None and getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()


def _initial_cpu_state():
    if torch is None or _args().cpu:
        return CPUState.CPU
    if _cuda_available():
        return CPUState.GPU
    if _mps_available():
        return CPUState.MPS
    return CPUState.CPU


cpu_state = _initial_cpu_state()
directml_enabled = False
xpu_available = False
npu_available = False
mlu_available = False
ixuca_available = False
XFORMERS_IS_AVAILABLE = False
XFORMERS_ENABLED_VAE = False
ENABLE_PYTORCH_ATTENTION = False
FORCE_FP32 = bool(getattr(_args(), "force_fp32", False))
DISABLE_SMART_MEMORY = bool(getattr(_args(), "disable_smart_memory", False))
EXTRA_RESERVED_VRAM = 400 * 1024 * 1024
if getattr(_args(), "reserve_vram", None) is not None:
    EXTRA_RESERVED_VRAM = int(_args().reserve_vram * 1024 * 1024 * 1024)

torch_version = torch.version.__version__ if torch is not None else ""
try:
    torch_version_numeric = tuple(int(x) for x in torch_version.split(".")[:2])
except ValueError:
    torch_version_numeric = (0, 0)

OOM_EXCEPTION = getattr(getattr(torch, "cuda", None), "OutOfMemoryError", MemoryError) if torch is not None else MemoryError

# ModelPatcher-like objects currently loaded on a device (never any: no model library yet).
current_loaded_models = []


def _initial_vram_state():
    args = _args()
    if cpu_state != CPUState.GPU:
        return VRAMState.DISABLED if cpu_state == CPUState.CPU else VRAMState.SHARED
    if getattr(args, "gpu_only", False) or getattr(args, "highvram", False):
        return VRAMState.HIGH_VRAM
    if getattr(args, "lowvram", False):
        return VRAMState.LOW_VRAM
    if getattr(args, "novram", False):
        return VRAMState.NO_VRAM
    return VRAMState.NORMAL_VRAM


vram_state = _initial_vram_state()
set_vram_to = VRAMState.NORMAL_VRAM


# -- devices -------------------------------------------------------------------------------------------

def get_torch_device():
    if torch is None:
        return "cpu"
    if cpu_state == CPUState.MPS:
        return torch.device("mps")
    if cpu_state == CPUState.CPU or _args().cpu or not _cuda_available():
        return torch.device("cpu")
    return torch.device("cuda", torch.cuda.current_device())


def get_torch_device_name(device):
    if torch is None:
        return "cpu"
    if hasattr(device, "type"):
        if device.type == "cuda":
            try:
                allocator = torch.cuda.get_allocator_backend()
            except Exception:
                allocator = ""
            return "{} {} : {}".format(device, torch.cuda.get_device_name(device), allocator)
        return "{}".format(device.type)
    return "CUDA {}: {}".format(device, torch.cuda.get_device_name(device))


def _device_type(device):
    return getattr(device, "type", str(device).split(":")[0])


def is_device_type(device, type):
    return _device_type(device) == type


def is_device_cpu(device):
    return is_device_type(device, "cpu")


def is_device_mps(device):
    return is_device_type(device, "mps")


def is_device_xpu(device):
    return is_device_type(device, "xpu")


def is_device_cuda(device):
    return is_device_type(device, "cuda")


def is_directml_enabled():
    return directml_enabled


def is_intel_xpu():
    return False


def is_ascend_npu():
    return False


def is_mlu():
    return False


def is_ixuca():
    return False


def is_nvidia():
    return cpu_state == CPUState.GPU and torch is not None and torch.version.cuda is not None


def is_amd():
    return cpu_state == CPUState.GPU and torch is not None and getattr(torch.version, "hip", None) is not None


def cpu_mode():
    return cpu_state == CPUState.CPU


def mps_mode():
    return cpu_state == CPUState.MPS


def intermediate_device():
    if torch is None:
        return "cpu"
    if getattr(_args(), "gpu_only", False):
        return get_torch_device()
    return torch.device("cpu")


def unet_offload_device():
    if vram_state == VRAMState.HIGH_VRAM:
        return get_torch_device()
    return "cpu" if torch is None else torch.device("cpu")


def unet_inital_load_device(parameters, dtype):
    torch_dev = get_torch_device()
    if vram_state == VRAMState.HIGH_VRAM or vram_state == VRAMState.SHARED:
        return torch_dev
    cpu_dev = "cpu" if torch is None else torch.device("cpu")
    if DISABLE_SMART_MEMORY or vram_state == VRAMState.NO_VRAM:
        return cpu_dev
    model_size = dtype_size(dtype) * parameters
    if get_free_memory(torch_dev) > get_free_memory(cpu_dev) and model_size < get_free_memory(torch_dev):
        return torch_dev
    return cpu_dev


def text_encoder_device():
    if getattr(_args(), "gpu_only", False):
        return get_torch_device()
    if vram_state in (VRAMState.HIGH_VRAM, VRAMState.NORMAL_VRAM) and should_use_fp16(prioritize_performance=False):
        return get_torch_device()
    return "cpu" if torch is None else torch.device("cpu")


def text_encoder_offload_device():
    if getattr(_args(), "gpu_only", False):
        return get_torch_device()
    return "cpu" if torch is None else torch.device("cpu")


def text_encoder_initial_device(load_device, offload_device, model_size=0):
    if load_device == offload_device or model_size <= 1024 * 1024 * 1024:
        return offload_device
    if is_device_mps(load_device):
        return load_device
    if get_free_memory(load_device) > get_free_memory(offload_device) and model_size < get_free_memory(load_device):
        return load_device
    return offload_device


def vae_device():
    if getattr(_args(), "cpu_vae", False):
        return "cpu" if torch is None else torch.device("cpu")
    return get_torch_device()


def vae_offload_device():
    if getattr(_args(), "gpu_only", False):
        return get_torch_device()
    return "cpu" if torch is None else torch.device("cpu")


def get_autocast_device(dev):
    return getattr(dev, "type", "cuda")


# -- memory --------------------------------------------------------------------------------------------

def _ram():
    import psutil
    return psutil.virtual_memory()


def get_total_memory(dev=None, torch_total_too=False):
    if dev is None:
        dev = get_torch_device()
    if torch is None or is_device_cpu(dev) or is_device_mps(dev):
        total = _ram().total
        return (total, total) if torch_total_too else total
    _, total_cuda = torch.cuda.mem_get_info(dev)
    reserved = torch.cuda.memory_stats(dev).get("reserved_bytes.all.current", 0)
    return (total_cuda, reserved) if torch_total_too else total_cuda


def get_free_memory(dev=None, torch_free_too=False):
    if dev is None:
        dev = get_torch_device()
    if torch is None or is_device_cpu(dev) or is_device_mps(dev):
        free = _ram().available
        return (free, free) if torch_free_too else free
    stats = torch.cuda.memory_stats(dev)
    active = stats.get("active_bytes.all.current", 0)
    reserved = stats.get("reserved_bytes.all.current", 0)
    free_cuda, _ = torch.cuda.mem_get_info(dev)
    free_torch = reserved - active
    total = free_cuda + free_torch
    return (total, free_torch) if torch_free_too else total


total_vram = get_total_memory(get_torch_device()) / (1024 * 1024) if torch is not None else 0
total_ram = _ram().total / (1024 * 1024)


def extra_reserved_memory():
    return EXTRA_RESERVED_VRAM


def minimum_inference_memory():
    return (1024 * 1024 * 1024) * 0.8 + extra_reserved_memory()


def maximum_vram_for_weights(device=None):
    return get_total_memory(device) * 0.88 - minimum_inference_memory()


def soft_empty_cache(force=False):
    if _cuda_available():
        torch.cuda.empty_cache()
        torch.cuda.ipc_collect()
    elif _mps_available() and hasattr(torch, "mps"):
        torch.mps.empty_cache()


def debug_memory_summary():
    if _cuda_available():
        return torch.cuda.memory.memory_summary()
    return ""


def is_oom(ex):
    if isinstance(ex, OOM_EXCEPTION):
        return True
    return isinstance(ex, RuntimeError) and "out of memory" in str(ex).lower()


# -- model loading (nothing to load without a model library) -------------------------------------------

def loaded_models(only_currently_used=False):
    return [m.model for m in current_loaded_models]


def load_models_gpu(models, memory_required=0, force_patch_weights=False, minimum_memory_required=None,
                    force_full_load=False):
    """No-op: this server has no model library, so there is nothing to move to a device."""
    logging.debug("load_models_gpu: no model library, %d model(s) left as they are", len(models))


def load_model_gpu(model):
    return load_models_gpu([model])


def free_memory(memory_required, device, keep_loaded=[]):
    return []


def unload_all_models():
    logging.debug("unload_all_models: no models are loaded")
    current_loaded_models.clear()


def unload_model_clones(model, unload_weights_only=True, force_unload=True):
    return None


def cleanup_models():
    return None


def cleanup_models_gc():
    return None


def use_more_memory(extra_memory, loaded_models, device):
    return None


# -- dtypes --------------------------------------------------------------------------------------------

def dtype_size(dtype):
    if torch is None:
        return 4
    if dtype in (torch.float16, torch.bfloat16):
        return 2
    if dtype == torch.float32:
        return 4
    try:
        return dtype.itemsize
    except AttributeError:
        return 4


def module_size(module):
    """Bytes of a module's state dict (parameters and buffers)."""
    sd = module.state_dict()
    return sum(t.nelement() * t.element_size() for t in sd.values())


def supports_dtype(device, dtype):
    if torch is None:
        return False
    if dtype == torch.float32:
        return True
    if is_device_cpu(device):
        return False
    return dtype in (torch.float16, torch.bfloat16)


def supports_cast(device, dtype):
    if torch is None:
        return False
    if dtype in (torch.float32, torch.float16):
        return True
    if directml_enabled or is_device_mps(device):
        return False
    return dtype in (torch.bfloat16, getattr(torch, "float8_e4m3fn", None), getattr(torch, "float8_e5m2", None))


def supports_fp8_compute(device=None):
    if not is_nvidia() or device is None or not is_device_cuda(device):
        return bool(getattr(_args(), "supports_fp8_compute", False))
    major, minor = torch.cuda.get_device_properties(device).major, torch.cuda.get_device_properties(device).minor
    return major > 8 or (major == 8 and minor >= 9)


def _device_for_dtype_choice(device):
    if device is None:
        device = get_torch_device()
    return device


_NVIDIA_10_SERIES = ("1080", "1070", "titan x", "p3000", "p3200", "p4000", "p4200", "p5000", "p5200", "p6000",
                     "1060", "1050", "p40", "p100", "p6", "p4")
_NVIDIA_16_SERIES = ("1660", "1650", "1630", "T500", "T550", "T600", "MX550", "MX450", "CMP 30HX", "T2000", "T1000",
                     "T1200")


def should_use_fp16(device=None, model_params=0, prioritize_performance=True, manual_cast=False):
    if torch is None or FORCE_FP32:
        return False
    device = _device_for_dtype_choice(device)
    if is_device_cpu(device):
        return False
    if getattr(_args(), "force_fp16", False):
        return True
    if is_device_mps(device):
        return True
    if not is_device_cuda(device) or not _cuda_available():
        return False
    if getattr(torch.version, "hip", None):
        return True
    props = torch.cuda.get_device_properties(device)
    if props.major >= 8:
        return True
    if props.major < 6:
        return False
    # Pascal: fp16 works but is slow, so only where weights are cast anyway.
    if any(x in props.name.lower() for x in _NVIDIA_10_SERIES):
        return bool(manual_cast or platform.system() == "Windows")
    if props.major < 7:
        return False
    # The 16 series produce NaNs in fp16.
    return not any(x in props.name for x in _NVIDIA_16_SERIES)


def should_use_bf16(device=None, model_params=0, prioritize_performance=True, manual_cast=False):
    if torch is None or FORCE_FP32:
        return False
    device = _device_for_dtype_choice(device)
    if is_device_cpu(device):
        return False
    if is_device_mps(device):
        return torch_version_numeric >= (2, 3)
    if not is_device_cuda(device) or not _cuda_available():
        return False
    props = torch.cuda.get_device_properties(device)
    if props.major >= 8:
        return True
    return manual_cast and torch.cuda.is_bf16_supported() and not prioritize_performance


def _flag_dtype(mapping):
    args = _args()
    for flag, dtype_name in mapping:
        if getattr(args, flag, False):
            return getattr(torch, dtype_name, None)
    return None


def unet_dtype(device=None, model_params=0, supported_dtypes=None, weight_dtype=None):
    if torch is None:
        return None
    forced = _flag_dtype([("fp64_unet", "float64"), ("fp32_unet", "float32"), ("bf16_unet", "bfloat16"),
                          ("fp16_unet", "float16"), ("fp8_e4m3fn_unet", "float8_e4m3fn"),
                          ("fp8_e5m2_unet", "float8_e5m2"), ("fp8_e8m0fnu_unet", "float8_e8m0fnu")])
    if forced is not None:
        return forced
    if weight_dtype is not None and weight_dtype != torch.float32:
        return weight_dtype
    supported = supported_dtypes or [torch.float16, torch.bfloat16, torch.float32]
    for dt in supported:
        if dt == torch.float16 and should_use_fp16(device=device, model_params=model_params):
            return torch.float16
        if dt == torch.bfloat16 and should_use_bf16(device, model_params=model_params):
            return torch.bfloat16
    return torch.float32


def unet_manual_cast(weight_dtype, inference_device, supported_dtypes=None):
    if torch is None or weight_dtype == torch.float32 or weight_dtype == torch.float64:
        return None
    if is_device_cpu(inference_device):
        return torch.float32 if weight_dtype in (torch.float16, torch.bfloat16) else None
    if weight_dtype == torch.float16 and should_use_fp16(inference_device):
        return None
    if weight_dtype == torch.bfloat16 and should_use_bf16(inference_device):
        return None
    if should_use_fp16(inference_device, prioritize_performance=False):
        return torch.float16
    if should_use_bf16(inference_device):
        return torch.bfloat16
    return torch.float32


def text_encoder_dtype(device=None):
    if torch is None:
        return None
    forced = _flag_dtype([("fp8_e4m3fn_text_enc", "float8_e4m3fn"), ("fp8_e5m2_text_enc", "float8_e5m2"),
                          ("fp16_text_enc", "float16"), ("bf16_text_enc", "bfloat16"), ("fp32_text_enc", "float32")])
    if forced is not None:
        return forced
    return torch.float16  # ComfyUI's choice on every device (weights are cast at run time)


def vae_dtype(device=None, allowed_dtypes=[]):
    if torch is None:
        return None
    forced = _flag_dtype([("fp16_vae", "float16"), ("bf16_vae", "bfloat16"), ("fp32_vae", "float32")])
    if forced is not None:
        return forced
    device = _device_for_dtype_choice(device)
    for d in allowed_dtypes:
        if d == torch.float16 and should_use_fp16(device):
            return d
        if d == torch.bfloat16 and should_use_bf16(device):
            return d
    return torch.float32


def intermediate_dtype():
    if torch is None:
        return None
    return torch.float16 if getattr(_args(), "fp16_intermediates", False) else torch.float32


def device_supports_non_blocking(device):
    if torch is None or is_device_mps(device) or is_device_cpu(device):
        return False
    return bool(getattr(_args(), "force_non_blocking", False)) or is_device_cuda(device)


def device_should_use_non_blocking(device):
    return device_supports_non_blocking(device)


def cast_to(weight, dtype=None, device=None, non_blocking=False, copy=False, stream=None):
    if device is None or weight.device == device:
        if not copy:
            if dtype is None or weight.dtype == dtype:
                return weight
        return weight.to(dtype=dtype, copy=copy)
    out = torch.empty_like(weight, dtype=dtype if dtype is not None else weight.dtype, device=device)
    out.copy_(weight, non_blocking=non_blocking)
    return out


def cast_to_device(tensor, device, dtype, copy=False):
    return cast_to(tensor, dtype=dtype, device=device, non_blocking=device_supports_non_blocking(device), copy=copy)


# -- attention backends (none of the optional ones are used here) ----------------------------------------

def xformers_enabled():
    return False


def xformers_enabled_vae():
    return False


def pytorch_attention_enabled():
    return ENABLE_PYTORCH_ATTENTION


def pytorch_attention_enabled_vae():
    return ENABLE_PYTORCH_ATTENTION


def pytorch_attention_flash_attention():
    return False


def sage_attention_enabled():
    return bool(getattr(_args(), "use_sage_attention", False))


def flash_attention_enabled():
    return bool(getattr(_args(), "use_flash_attention", False))


def force_upcast_attention_dtype():
    if getattr(_args(), "force_upcast_attention", False) and torch is not None:
        return {torch.float16: torch.float32}
    return None


def get_supported_float8_types():
    if torch is None:
        return []
    names = ("float8_e4m3fn", "float8_e4m3fnuz", "float8_e5m2", "float8_e5m2fnuz", "float8_e8m0fnu")
    return [getattr(torch, n) for n in names if hasattr(torch, n)]


def get_torch_device_info():
    """(system name, python version): for logs only."""
    return platform.system(), sys.version
