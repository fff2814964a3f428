"""ComfyUI's command-line flags (defaults as in ComfyUI 0.3.64).

Users launch us with the same flags they give ComfyUI, and custom node packs read
`comfy.cli_args.args` (e.g. `args.listen`, `args.preview_method`), so every flag
ComfyUI accepts is declared here, even the device/precision ones we only store.

`args` is one namespace object for the whole process: packs keep a reference to it
(`from comfy.cli_args import args`), so `set_args` updates it in place instead of
rebinding the name.
"""
import argparse
import enum
import os

DEFAULT_FRONTEND_VERSION = "comfyanonymous/ComfyUI@latest"


class LatentPreviewMethod(str, enum.Enum):
    # str mix-in: packs compare against the enum, our own code may compare to "auto".
    NoPreviews = "none"
    Auto = "auto"
    Latent2RGB = "latent2rgb"
    TAESD = "taesd"

    @classmethod
    def from_string(cls, value):
        for member in cls:
            if member.value == value:
                return member
        return None


class PerformanceFeature(str, enum.Enum):
    Fp16Accumulation = "fp16_accumulation"
    Fp8MatrixMultiplication = "fp8_matrix_mult"
    CublasOps = "cublas_ops"
    AutoTune = "autotune"


class EnumAction(argparse.Action):
    """Turns the string given on the command line into the enum member."""

    def __init__(self, **kwargs):
        enum_type = kwargs.pop("type", None)
        kwargs.setdefault("choices", tuple(e.value for e in enum_type))
        super().__init__(**kwargs)
        self._enum = enum_type

    def __call__(self, parser, namespace, values, option_string=None):
        setattr(namespace, self.dest, self._enum(values))


def is_valid_directory(path):
    """argparse type for flags that must name an existing directory."""
    if path is None:
        return None
    if not os.path.isdir(path):
        raise argparse.ArgumentTypeError(f"{path} is not a valid directory.")
    return path


def _flags(parser, names):
    for name in names:
        parser.add_argument(name, action="store_true")


def _exclusive(parser, names):
    _flags(parser.add_mutually_exclusive_group(), names)


def _add_network(p):
    p.add_argument("--listen", type=str, default="127.0.0.1", metavar="IP", nargs="?",
                   const="0.0.0.0,::",
                   help="IP address(es) to listen on, comma separated. Bare flag: 0.0.0.0,::")
    p.add_argument("--port", type=int, default=8188, help="Listen port.")
    p.add_argument("--tls-keyfile", type=str, help="TLS key file (HTTPS with --tls-certfile).")
    p.add_argument("--tls-certfile", type=str, help="TLS certificate file.")
    p.add_argument("--enable-cors-header", type=str, default=None, metavar="ORIGIN", nargs="?",
                   const="*", help="Enable CORS with an optional origin (default '*').")
    p.add_argument("--max-upload-size", type=float, default=100, help="Max upload size in MB.")
    p.add_argument("--enable-compress-response-body", action="store_true")
    p.add_argument("--dont-print-server", action="store_true")
    p.add_argument("--auto-launch", action="store_true")
    p.add_argument("--disable-auto-launch", action="store_true")
    p.add_argument("--windows-standalone-build", action="store_true")
    p.add_argument("--quick-test-for-ci", action="store_true")
    p.add_argument("--multi-user", action="store_true")
    p.add_argument("--front-end-version", type=str, default=DEFAULT_FRONTEND_VERSION)
    p.add_argument("--front-end-root", type=is_valid_directory, default=None)
    p.add_argument("--comfy-api-base", type=str, default="https://api.comfy.org")
    db_path = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "user", "comfyui.db"))
    p.add_argument("--database-url", type=str, default=f"sqlite:///{db_path}")
    p.add_argument("--verbose", default="INFO", const="DEBUG", nargs="?",
                   choices=["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"])
    p.add_argument("--log-stdout", action="store_true")


def _add_paths(p):
    p.add_argument("--base-directory", type=str, default=None)
    p.add_argument("--output-directory", type=str, default=None)
    p.add_argument("--temp-directory", type=str, default=None)
    p.add_argument("--input-directory", type=str, default=None)
    p.add_argument("--user-directory", type=is_valid_directory, default=None)
    p.add_argument("--extra-model-paths-config", type=str, default=None, metavar="PATH",
                   nargs="+", action="append")


def _add_features(p):
    p.add_argument("--disable-all-custom-nodes", action="store_true")
    p.add_argument("--whitelist-custom-nodes", type=str, nargs="+", default=[])
    p.add_argument("--disable-api-nodes", action="store_true")
    p.add_argument("--disable-metadata", action="store_true")
    p.add_argument("--disable-native-nodes", action="store_true",
                   help="Run the Python bodies of the image/mask/latent nodes instead of the libtorch kernels.")
    p.add_argument("--preview-method", type=LatentPreviewMethod, action=EnumAction,
                   default=LatentPreviewMethod.NoPreviews)
    p.add_argument("--preview-size", type=int, default=512)
    p.add_argument("--default-hashing-function", type=str,
                   choices=["md5", "sha1", "sha256", "sha512"], default="sha256")
    cache = p.add_mutually_exclusive_group()
    cache.add_argument("--cache-classic", action="store_true")
    cache.add_argument("--cache-lru", type=int, default=0)
    cache.add_argument("--cache-none", action="store_true")


def _add_device(p):
    p.add_argument("--cuda-device", type=int, default=None, metavar="DEVICE_ID")
    p.add_argument("--default-device", type=int, default=None, metavar="DEFAULT_DEVICE_ID")
    _exclusive(p, ["--cuda-malloc", "--disable-cuda-malloc"])
    _exclusive(p, ["--force-fp32", "--force-fp16"])
    _exclusive(p, ["--fp32-unet", "--fp64-unet", "--bf16-unet", "--fp16-unet",
                   "--fp8_e4m3fn-unet", "--fp8_e5m2-unet", "--fp8_e8m0fnu-unet"])
    _exclusive(p, ["--fp16-vae", "--fp32-vae", "--bf16-vae"])
    p.add_argument("--cpu-vae", action="store_true")
    _exclusive(p, ["--fp8_e4m3fn-text-enc", "--fp8_e5m2-text-enc", "--fp16-text-enc",
                   "--fp32-text-enc", "--bf16-text-enc"])
    p.add_argument("--force-channels-last", action="store_true")
    p.add_argument("--directml", type=int, nargs="?", metavar="DIRECTML_DEVICE", const=-1)
    p.add_argument("--oneapi-device-selector", type=str, default=None, metavar="SELECTOR_STRING")
    _flags(p, ["--disable-ipex-optimize", "--supports-fp8-compute"])
    _exclusive(p, ["--use-split-cross-attention", "--use-quad-cross-attention",
                   "--use-pytorch-cross-attention", "--use-sage-attention",
                   "--use-flash-attention"])
    p.add_argument("--disable-xformers", action="store_true")
    _exclusive(p, ["--force-upcast-attention", "--dont-upcast-attention"])
    _exclusive(p, ["--gpu-only", "--highvram", "--normalvram", "--lowvram", "--novram", "--cpu"])
    p.add_argument("--reserve-vram", type=float, default=None)
    _flags(p, ["--async-offload", "--force-non-blocking", "--disable-smart-memory",
               "--deterministic", "--mmap-torch-files", "--disable-mmap"])
    p.add_argument("--fast", nargs="*", type=PerformanceFeature)


def _build_parser():
    p = argparse.ArgumentParser()
    _add_network(p)
    _add_paths(p)
    _add_features(p)
    _add_device(p)
    return p


parser = _build_parser()


def _post_process(ns):
    """Derived values ComfyUI computes right after parsing."""
    if ns.windows_standalone_build:
        ns.auto_launch = True
    if ns.disable_auto_launch:
        ns.auto_launch = False
    if ns.force_fp16:
        ns.fp16_unet = True
    # --fast: absent = no features, bare = all features.
    if ns.fast is None:
        ns.fast = set()
    elif ns.fast == []:
        ns.fast = set(PerformanceFeature)
    else:
        ns.fast = set(ns.fast)
    return ns


def parse_args(argv=None):
    """Parses `argv` (sys.argv[1:] when None); exits with usage on bad flags like argparse."""
    return _post_process(parser.parse_args(argv))


args = parse_args([])


def set_args(ns):
    """Makes `ns` the process-wide args, keeping the identity of `args` for packs."""
    values = dict(vars(ns))
    vars(args).clear()
    vars(args).update(values)
    return args
