"""CUDA check of the native node kernels (run by tests/cuda/run_on_gpu.sh on a CUDA machine).

For every case of tests/python/unit/test_native_nodes.py: the inputs moved to the GPU, the native
body and the Python reference (ComfyUI's formula in torch) both run there, and the native result
is compared with the reference on the GPU and with the reference on the CPU (max abs error at
most 1e-5, same shapes and dtypes). Then the image rows of the benchmark on the GPU: our CUDA
quantize kernel against torch's ops, and a few node kernels on CUDA against the same on the CPU.
Prints one line per case and a summary; exits 1 on any mismatch.

Works without comfy._core (the server module, which needs Pistache): a stub stands in for it.
"""
import os
import statistics
import sys
import time
import types

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "python"))

try:
    import comfy._core  # noqa: F401
except ImportError:
    stub = types.ModuleType("comfy._core")
    stub.set_interrupt = lambda v: None
    stub.interrupt_requested = lambda: False
    stub.take_interrupt = lambda: False
    stub.report_progress = lambda *a, **k: None
    sys.modules["comfy._core"] = stub

import torch  # noqa: E402

DEVICE = os.environ.get("CHECK_DEVICE", "cuda")  # "cpu" for a dry run of this script without a GPU

sys.path.insert(0, os.path.join(ROOT, "tests", "python", "unit"))
import test_native_nodes as T  # noqa: E402
from comfy import _native_nodes  # noqa: E402


def to(obj, device):
    if isinstance(obj, torch.Tensor):
        return obj.to(device)
    if isinstance(obj, dict):
        return {k: to(v, device) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(to(v, device) for v in obj)
    return obj


def max_err(a, b, where):
    if isinstance(b, torch.Tensor):
        assert isinstance(a, torch.Tensor), where
        assert a.shape == b.shape, (where, a.shape, b.shape)
        assert a.dtype == b.dtype, (where, a.dtype, b.dtype)
        if not b.numel():
            return 0.0
        return (a.detach().cpu().double() - b.detach().cpu().double()).abs().max().item()
    if isinstance(b, dict):
        assert list(a) == list(b), where
        return max([max_err(a[k], b[k], f"{where}.{k}") for k in b] or [0.0])
    if isinstance(b, (list, tuple)):
        assert len(a) == len(b), where
        return max([max_err(x, y, f"{where}[{i}]") for i, (x, y) in enumerate(zip(a, b))] or [0.0])
    assert a == b, where
    return 0.0


def devices(obj):
    if isinstance(obj, torch.Tensor):
        return {obj.device.type}
    if isinstance(obj, dict):
        return set().union(*[devices(v) for v in obj.values()]) if obj else set()
    if isinstance(obj, (list, tuple)):
        return set().union(*[devices(v) for v in obj]) if obj else set()
    return set()


def check_cases():
    bad = 0
    for i, (name, kwargs) in enumerate(T.CASES):
        cls = T.MAPPINGS[name]
        is_v3 = hasattr(cls, "define_schema")
        native_fn = cls.execute.__func__ if is_v3 else getattr(cls, cls.FUNCTION)
        assert native_fn is _native_nodes.NATIVE[name], name
        gpu_kwargs = to(kwargs, DEVICE)
        try:
            ref_cpu = T.call(cls, _native_nodes.reference(name), kwargs)
            ref_gpu = T.call(cls, _native_nodes.reference(name), gpu_kwargs)
            nat_gpu = T.call(cls, native_fn, gpu_kwargs)
            if DEVICE == "cuda":
                torch.cuda.synchronize()
            e_gpu = max_err(nat_gpu, ref_gpu, name)
            e_cpu = max_err(nat_gpu, ref_cpu, name)
            # Native outputs must stay on the inputs' device (nodes that make new tensors from
            # widget values alone, like EmptyImage, answer on the CPU as ComfyUI's do).
            on_device = devices(nat_gpu) <= {DEVICE} or not devices(gpu_kwargs)
            ok = e_gpu <= 1e-5 and e_cpu <= 1e-5 and on_device
            where = ",".join(sorted(devices(nat_gpu))) or "-"
            ref_where = ",".join(sorted(devices(ref_gpu))) or "-"
            print(f"{'ok ' if ok else 'BAD'} {name:22s} case {i:2d}: max|native_cuda - ref_cuda| = {e_gpu:.2e}, "
                  f"max|native_cuda - ref_cpu| = {e_cpu:.2e}, output on {where} (reference on {ref_where})")
            bad += not ok
        except Exception as e:  # noqa: BLE001
            print(f"BAD {name:22s} case {i:2d}: {type(e).__name__}: {e}")
            bad += 1
    return bad


def median_ms(fn, reps=15):
    fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        times.append((time.perf_counter() - t) * 1e3)
    return statistics.median(times)


def bench():
    K = _native_nodes.K
    print("\nGPU rows (median ms of 15; ours | baseline | ratio)")
    for side in (1024, 2048):
        x = torch.rand(4, side, side, 3, device="cuda")
        ref = torch.from_numpy((255.0 * x.cpu().numpy()).clip(0, 255).astype("uint8"))
        exact = torch.equal(K.to_uint8(x).cpu(), ref)
        ours = median_ms(lambda: K.to_uint8(x).cpu())
        base = median_ms(lambda: (255.0 * x.cpu().numpy()).clip(0, 255).astype("uint8"))
        torch_ops = median_ms(lambda: (x * 255.0).clamp(0, 255).to(torch.uint8).cpu())
        print(f"IMAGE->uint8 host bytes, batch 4 x {side}^2: CUDA kernel+D2H {ours:.2f} | "
              f".cpu().numpy() path (ComfyUI) {base:.2f} | {base / ours:.1f}x ; torch ops on GPU {torch_ops:.2f}; "
              f"identical bytes: {exact}")
    img = torch.rand(1, 2048, 2048, 3)
    mask = (torch.rand(1, 2048, 2048) > 0.5).float()
    rows = [
        ("ImageScale bicubic 2048^2->3072^2", lambda t: K.image_scale(t, "bicubic", 3072, 3072, "disabled"), img),
        ("ImageBlend soft_light 2048^2", lambda t: K.image_blend(t, t.flip(1), 0.5, "soft_light"), img),
        ("GrowMask 2048^2 expand 8", lambda t: K.grow_mask(t, 8, True), mask),
        ("FeatherMask 2048^2 64px", lambda t: K.feather_mask(t, 64, 64, 64, 64), mask),
    ]
    for name, fn, cpu_in in rows:
        gpu_in = cpu_in.cuda()
        g = median_ms(lambda: fn(gpu_in), reps=10)
        t = time.perf_counter()
        for _ in range(3):
            fn(cpu_in)
        c = (time.perf_counter() - t) / 3 * 1e3
        print(f"{name}: CUDA {g:.2f} ms | CPU (16 cores) {c:.1f} ms | {c / g:.0f}x")


def main():
    K = _native_nodes.K
    print(f"torch {torch.__version__}, CUDA {torch.version.cuda}; comfy._kernels built_with_cuda="
          f"{K.built_with_cuda()} from {K.__file__}")
    bad = check_cases()
    print(f"\n{len(T.CASES) - bad}/{len(T.CASES)} cases match on {DEVICE}")
    if DEVICE != "cuda":
        sys.exit(1 if bad else 0)
    print("device:", torch.cuda.get_device_name(0))
    if not K.built_with_cuda():  # the CUDA kernels must be in the module this check ran
        print("BAD comfy._kernels was built without its CUDA kernels")
        bad += 1
    x = torch.tensor([0.0, 1.0, 189.99998 / 255, 0.5, -3.0, 7.0, float("nan"), float("inf")], device="cuda")
    q = K.to_uint8(x).cpu().tolist()
    print("to_uint8 on CUDA:", q, "expected [0, 255, 189, 127, 0, 255, 0, 255]")
    bad += q != [0, 255, 189, 127, 0, 255, 0, 255]
    odd = torch.rand(3, 37, 41, 3, device="cuda")[:, 1:, 1:, :]  # unaligned, non-contiguous
    bad += not torch.equal(K.to_uint8(odd).cpu(), K.to_uint8(odd.cpu()))
    bench()
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
