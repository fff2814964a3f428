"""The libtorch node kernels (comfy._kernels, cpp/kernels) against the Python bodies they replace.

Each case runs a node's native body and its Python reference (ComfyUI's formula in torch) on the
same fixed inputs and requires the same structure, shapes, dtypes and values within 1e-5 (on the
CPU the kernels use the same ATen operations in the same order, so the values are identical)."""
import threading
import time

import pytest
import torch

from comfy import _native_nodes, _nodes_builtin, _nodes_extras

pytestmark = pytest.mark.skipif(not _native_nodes.available(), reason="comfy._kernels not built")

MAPPINGS = dict(_nodes_builtin.NODE_CLASS_MAPPINGS)
MAPPINGS.update(_nodes_extras.NODE_CLASS_MAPPINGS)
INSTALLED = set(_native_nodes.install(dict(MAPPINGS), enabled=True)) | set(_native_nodes._REFERENCE)


def gen(seed, *shape):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(*shape, generator=g)


IMG = gen(1, 2, 17, 23, 3)
IMG_B = gen(2, 2, 17, 23, 3)
IMG_SMALL = gen(3, 1, 9, 7, 3)
IMG_RGBA = gen(4, 1, 17, 23, 4)
MASK = gen(5, 2, 17, 23)
MASK_2D = gen(6, 11, 13)
BIN_MASK = (gen(7, 2, 17, 23) > 0.7).float()
LAT = gen(8, 3, 4, 16, 12)
LAT_B = gen(9, 3, 4, 16, 12)
LAT_5D = gen(10, 1, 16, 3, 8, 10)
NOISE_MASK = gen(11, 2, 1, 16, 12)


def latent(t, **extra):
    d = {"samples": t}
    d.update(extra)
    return d


CASES = [
    ("ImageScale", dict(image=IMG, upscale_method="bilinear", width=31, height=12, crop="disabled")),
    ("ImageScale", dict(image=IMG, upscale_method="bicubic", width=40, height=0, crop="center")),
    ("ImageScale", dict(image=IMG, upscale_method="area", width=10, height=9, crop="center")),
    ("ImageScale", dict(image=IMG, upscale_method="nearest-exact", width=0, height=33, crop="disabled")),
    ("ImageScale", dict(image=IMG, upscale_method="bilinear", width=0, height=0, crop="disabled")),
    ("ImageScaleBy", dict(image=IMG, upscale_method="bicubic", scale_by=1.5)),
    ("ImageScaleBy", dict(image=IMG, upscale_method="area", scale_by=0.5)),
    ("ImageInvert", dict(image=IMG)),
    ("ImageBlend", dict(image1=IMG, image2=IMG_B, blend_factor=0.3, blend_mode="normal")),
    ("ImageBlend", dict(image1=IMG, image2=IMG_B, blend_factor=0.7, blend_mode="multiply")),
    ("ImageBlend", dict(image1=IMG, image2=IMG_B, blend_factor=0.5, blend_mode="screen")),
    ("ImageBlend", dict(image1=IMG, image2=IMG_B, blend_factor=0.5, blend_mode="overlay")),
    ("ImageBlend", dict(image1=IMG, image2=IMG_B, blend_factor=0.9, blend_mode="soft_light")),
    ("ImageBlend", dict(image1=IMG, image2=IMG_B, blend_factor=1.0, blend_mode="difference")),
    ("ImageBlend", dict(image1=IMG, image2=IMG_SMALL, blend_factor=0.5, blend_mode="overlay")),
    ("ImageCompositeMasked", dict(destination=IMG, source=IMG_SMALL, x=5, y=3, resize_source=False)),
    ("ImageCompositeMasked", dict(destination=IMG, source=IMG_SMALL, x=20, y=15, resize_source=False,
                                  mask=MASK_2D)),
    ("ImageCompositeMasked", dict(destination=IMG, source=IMG_RGBA, x=0, y=0, resize_source=True, mask=MASK)),
    ("ImageCompositeMasked", dict(destination=IMG_RGBA, source=IMG_RGBA[:, :5, :6], x=2, y=2, resize_source=False)),
    ("ImageCrop", dict(image=IMG, width=10, height=8, x=4, y=3)),
    ("ImageCrop", dict(image=IMG, width=100, height=100, x=50, y=50)),
    ("ImagePadForOutpaint", dict(image=IMG, left=8, top=0, right=16, bottom=8, feathering=5)),
    ("ImagePadForOutpaint", dict(image=IMG, left=0, top=8, right=0, bottom=0, feathering=40)),
    ("ImageBatch", dict(image1=IMG, image2=IMG_B)),
    ("ImageBatch", dict(image1=IMG, image2=IMG_SMALL)),
    ("ImageBatch", dict(image1=IMG_RGBA, image2=IMG_SMALL)),
    ("EmptyImage", dict(width=13, height=7, batch_size=2, color=0x414345)),
    ("SolidMask", dict(value=0.37, width=19, height=5)),
    ("InvertMask", dict(mask=MASK)),
    ("MaskToImage", dict(mask=MASK)),
    ("MaskToImage", dict(mask=MASK_2D)),
    ("ImageToMask", dict(image=IMG, channel="green")),
    ("ImageToMask", dict(image=IMG_RGBA, channel="alpha")),
    ("GrowMask", dict(mask=BIN_MASK, expand=2, tapered_corners=True)),
    ("GrowMask", dict(mask=MASK, expand=3, tapered_corners=False)),
    ("GrowMask", dict(mask=MASK, expand=-2, tapered_corners=True)),
    ("GrowMask", dict(mask=MASK_2D, expand=-1, tapered_corners=False)),
    ("GrowMask", dict(mask=MASK, expand=0, tapered_corners=True)),
    ("ThresholdMask", dict(mask=MASK, value=0.42)),
    ("MaskComposite", dict(destination=MASK, source=MASK_2D, x=4, y=3, operation="multiply")),
    ("MaskComposite", dict(destination=MASK, source=MASK_2D, x=15, y=10, operation="add")),
    ("MaskComposite", dict(destination=MASK, source=MASK_2D, x=0, y=0, operation="subtract")),
    ("MaskComposite", dict(destination=MASK, source=MASK_2D, x=1, y=2, operation="and")),
    ("MaskComposite", dict(destination=MASK, source=MASK_2D, x=1, y=2, operation="or")),
    ("MaskComposite", dict(destination=MASK, source=MASK_2D, x=1, y=2, operation="xor")),
    ("CropMask", dict(mask=MASK, x=3, y=2, width=9, height=50)),
    ("FeatherMask", dict(mask=MASK, left=4, top=3, right=5, bottom=2)),
    ("FeatherMask", dict(mask=MASK_2D, left=13, top=0, right=13, bottom=11)),
    ("EmptyLatentImage", dict(width=72, height=40, batch_size=3)),
    ("LatentUpscale", dict(samples=latent(LAT), upscale_method="bilinear", width=160, height=96, crop="disabled")),
    ("LatentUpscale", dict(samples=latent(LAT), upscale_method="nearest-exact", width=0, height=200, crop="center")),
    ("LatentUpscale", dict(samples=latent(LAT_5D), upscale_method="area", width=120, height=0, crop="disabled")),
    ("LatentUpscaleBy", dict(samples=latent(LAT, batch_index=[0, 1, 2]), upscale_method="bicubic", scale_by=1.3)),
    ("LatentComposite", dict(samples_to=latent(LAT), samples_from=latent(LAT_B[:, :, :6, :5]), x=16, y=24, feather=0)),
    ("LatentComposite", dict(samples_to=latent(LAT), samples_from=latent(LAT_B[:, :, :6, :5]), x=16, y=24, feather=16)),
    ("LatentComposite", dict(samples_to=latent(LAT), samples_from=latent(LAT_B), x=40, y=0, feather=8)),
    ("LatentBlend", dict(samples1=latent(LAT), samples2=latent(LAT_B), blend_factor=0.25)),
    ("LatentBlend", dict(samples1=latent(LAT), samples2=latent(LAT_B[:, :, :10, :7]), blend_factor=0.6)),
    ("LatentFromBatch", dict(samples=latent(LAT), batch_index=1, length=5)),
    ("LatentFromBatch", dict(samples=latent(LAT, noise_mask=NOISE_MASK), batch_index=2, length=1)),
    ("LatentFromBatch", dict(samples=latent(LAT, noise_mask=NOISE_MASK[:1], batch_index=[4, 5, 6]),
                             batch_index=0, length=2)),
    ("RepeatLatentBatch", dict(samples=latent(LAT, noise_mask=NOISE_MASK), amount=3)),
    ("RepeatLatentBatch", dict(samples=latent(LAT, batch_index=[0, 2, 3]), amount=2)),
    ("LatentCrop", dict(samples=latent(LAT), width=64, height=96, x=16, y=8)),
    ("LatentCrop", dict(samples=latent(LAT), width=512, height=512, x=512, y=512)),
    ("LatentFlip", dict(samples=latent(LAT), flip_method="x-axis: vertically")),
    ("LatentFlip", dict(samples=latent(LAT), flip_method="y-axis: horizontally")),
    ("LatentRotate", dict(samples=latent(LAT), rotation="90 degrees")),
    ("LatentRotate", dict(samples=latent(LAT), rotation="270 degrees")),
    ("LatentRotate", dict(samples=latent(LAT), rotation="none")),
]


def unwrap(out):
    if hasattr(out, "result"):  # V3 io.NodeOutput
        return tuple(out.result)
    return out


def assert_same(native, ref, where):
    assert type(native) is type(ref), where
    if isinstance(ref, torch.Tensor):
        assert native.shape == ref.shape, (where, native.shape, ref.shape)
        assert native.dtype == ref.dtype, where
        assert native.device == ref.device, where
        err = (native.double() - ref.double()).abs().max().item() if ref.numel() else 0.0
        assert err <= 1e-5, (where, err)
    elif isinstance(ref, (tuple, list)):
        assert len(native) == len(ref), where
        for i, (a, b) in enumerate(zip(native, ref)):
            assert_same(a, b, f"{where}[{i}]")
    elif isinstance(ref, dict):
        assert list(native) == list(ref), (where, list(native), list(ref))
        for k in ref:
            assert_same(native[k], ref[k], f"{where}.{k}")
    else:
        assert native == ref, where


def call(cls, fn, kwargs):
    is_v3 = hasattr(cls, "define_schema")
    return unwrap(fn(cls, **kwargs) if is_v3 else fn(cls(), **kwargs))


def test_all_28_nodes_are_native():
    assert sorted(INSTALLED) == sorted(_native_nodes.NATIVE)
    assert len(_native_nodes.NATIVE) == 28


@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_native_matches_reference(name, kwargs):
    cls = MAPPINGS[name]
    attr = "execute" if hasattr(cls, "define_schema") else cls.FUNCTION
    native_fn = getattr(cls, attr).__func__ if hasattr(cls, "define_schema") else getattr(cls, attr)
    assert native_fn is _native_nodes.NATIVE[name]
    snapshot = {k: v.clone() for k, v in kwargs.items() if isinstance(v, torch.Tensor)}
    ref = call(cls, _native_nodes.reference(name), kwargs)
    native = call(cls, native_fn, kwargs)
    assert_same(native, ref, name)
    for k, v in snapshot.items():  # inputs are never modified
        assert torch.equal(kwargs[k], v), (name, k)


def test_resamplers_without_a_kernel_use_the_python_body(monkeypatch):
    """lanczos (Pillow) and bislerp have no kernel: the native body hands them to the Python one."""
    calls = []
    for name, kwargs in (("ImageScale", dict(image=IMG, upscale_method="lanczos", width=12, height=12,
                                             crop="disabled")),
                         ("LatentUpscale", dict(samples=latent(LAT), upscale_method="bislerp", width=64, height=64,
                                                crop="disabled"))):
        monkeypatch.setitem(_native_nodes._REFERENCE, name, lambda self, *a, _n=name, **k: calls.append(_n) or ("ref",))
        cls = MAPPINGS[name]
        assert getattr(cls(), cls.FUNCTION)(**kwargs) == ("ref",)
    assert calls == ["ImageScale", "LatentUpscale"]
    # A method with a kernel does not reach the Python body.
    (out,) = MAPPINGS["ImageScale"]().upscale(IMG, "bilinear", 12, 12, "disabled")
    assert out.shape == (2, 12, 12, 3) and calls == ["ImageScale", "LatentUpscale"]


def test_errors_match_reference():
    """ComfyUI 0.3.64's image_alpha_fix pads the destination, not the source, so an RGBA
    destination with an RGB source fails there; the native body fails the same way."""
    cls = MAPPINGS["ImageCompositeMasked"]
    kwargs = dict(destination=IMG_RGBA, source=IMG, x=2, y=2, resize_source=False)
    with pytest.raises(RuntimeError):
        call(cls, _native_nodes.reference("ImageCompositeMasked"), kwargs)
    with pytest.raises(RuntimeError):
        call(cls, cls.composite, kwargs)
    with pytest.raises(Exception, match="Unsupported blend mode"):
        call(MAPPINGS["ImageBlend"], MAPPINGS["ImageBlend"].execute.__func__,
             dict(image1=IMG, image2=IMG_B, blend_factor=0.5, blend_mode="nope"))


def test_known_pixels():
    """Exact values, not only agreement with the reference: ComfyUI's EmptyImage colour, invert."""
    (img,) = MAPPINGS["EmptyImage"]().generate(2, 1, 1, 0x414345)
    (inv,) = MAPPINGS["ImageInvert"]().invert(img)
    assert inv.dtype == torch.float32
    assert torch.equal(_native_nodes.K.to_uint8(inv)[0, 0, 0], torch.tensor([189, 187, 185], dtype=torch.uint8))
    (grown,) = MAPPINGS["GrowMask"]().expand_mask(torch.tensor([[0., 0, 0], [0, 1, 0], [0, 0, 0]]), 1, True)
    assert grown.tolist() == [[[0., 1, 0], [1, 1, 1], [0, 1, 0]]]


def test_to_uint8_truncates_like_numpy():
    x = torch.tensor([0.0, 1.0, 189.99998 / 255, 0.5, -3.0, 7.0, float("nan"), float("inf")])
    ref = (255.0 * x.numpy()).clip(0, 255)
    ref[x.isnan().numpy()] = 0
    assert _native_nodes.K.to_uint8(x).tolist() == ref.astype("uint8").tolist()
    assert _native_nodes.K.to_uint8(x).tolist()[:4] == [0, 255, 189, 127]


def test_native_kernels_release_the_gil():
    counter = [0]
    t = threading.Thread(target=_native_nodes.K._sleep_ms, args=(200,))
    start = time.perf_counter()
    t.start()
    while t.is_alive():
        counter[0] += 1
    assert time.perf_counter() - start >= 0.19
    assert counter[0] > 1000  # this thread kept running Python while the kernel held no GIL


def test_tensors_cross_without_copies():
    x = gen(12, 1, 8, 8, 3)
    (cropped,) = MAPPINGS["ImageCrop"]().crop(x, 4, 4, 2, 2)
    assert cropped.data_ptr() == x[:, 2:6, 2:6, :].data_ptr()  # a view of the caller's tensor
