"""2,000 node classes for the /object_info benchmark. Each one looks like a typical custom node: an
IMAGE input, a combo, INT/FLOAT widgets with ranges, a multiline STRING, an optional MASK and hidden
inputs; INPUT_TYPES builds its dict on every call, as real nodes do."""

COUNT = 2000
MODES = ["nearest-exact", "bilinear", "area", "bicubic", "lanczos", "bislerp", "none", "auto"]


def _make(i):
    def INPUT_TYPES(cls):
        return {
            "required": {
                "image": ("IMAGE", {"tooltip": "The image to process."}),
                "mode": (list(MODES), {"default": MODES[i % len(MODES)]}),
                "width": ("INT", {"default": 512, "min": 16, "max": 16384, "step": 8}),
                "strength": ("FLOAT", {"default": 1.0, "min": 0.0, "max": 10.0, "step": 0.01, "round": 0.001}),
                "text": ("STRING", {"multiline": True, "default": f"node {i}", "dynamicPrompts": True}),
                "enabled": ("BOOLEAN", {"default": True, "label_on": "on", "label_off": "off"}),
            },
            "optional": {"mask": ("MASK",)},
            "hidden": {"prompt": "PROMPT", "unique_id": "UNIQUE_ID"},
        }

    def run(self, **kwargs):
        return (kwargs["image"], kwargs.get("mask"))

    return type(f"BenchManyNode{i:04d}", (), {
        "INPUT_TYPES": classmethod(INPUT_TYPES),
        "RETURN_TYPES": ("IMAGE", "MASK"),
        "RETURN_NAMES": ("image", "mask"),
        "FUNCTION": "run",
        "CATEGORY": f"bench/many/{i // 100}",
        "DESCRIPTION": f"Benchmark node {i} of {COUNT}.",
        "run": run,
    })


NODE_CLASS_MAPPINGS = {}
NODE_DISPLAY_NAME_MAPPINGS = {}
for _i in range(COUNT):
    _cls = _make(_i)
    NODE_CLASS_MAPPINGS[_cls.__name__] = _cls
    NODE_DISPLAY_NAME_MAPPINGS[_cls.__name__] = f"Bench many {_i}"
del _i, _cls
