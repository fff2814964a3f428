"""GET /object_info's cache (comfy._routes._ObjectInfoCache): the bytes equal json.dumps of every
class's node_info, fragments are reused while the watched folders are unchanged, a change in a
folder rebuilds them, and a class whose INPUT_TYPES changes between calls is never cached."""
import contextlib
import json
import os
import time

from comfy import _routes


class FakeFolderPaths:
    def __init__(self, root):
        self.input = os.path.join(root, "input")
        self.models = os.path.join(root, "models", "checkpoints")
        os.makedirs(self.input)
        os.makedirs(os.path.join(self.models, "sub"))
        self.folder_names_and_paths = {"checkpoints": ([self.models], {".safetensors"}),
                                       "custom_nodes": ([os.path.join(root, "custom_nodes")], set())}
        self.cache_helper = contextlib.nullcontext()

    def get_input_directory(self):
        return self.input


def make_classes(fp, calls):
    class ListsInput:
        @classmethod
        def INPUT_TYPES(cls):
            calls["ListsInput"] = calls.get("ListsInput", 0) + 1
            return {"required": {"image": (sorted(os.listdir(fp.input)),),
                                 "ckpt": (sorted(os.listdir(os.path.join(fp.models, "sub"))),)}}
        RETURN_TYPES = ("IMAGE",)
        FUNCTION = "run"
        CATEGORY = "test"

    class Volatile:
        counter = 0

        @classmethod
        def INPUT_TYPES(cls):
            cls.counter += 1
            return {"required": {"seed": ("INT", {"default": cls.counter})}}
        RETURN_TYPES = ("INT",)
        FUNCTION = "run"
        CATEGORY = "test"

    class Broken:
        @classmethod
        def INPUT_TYPES(cls):
            raise RuntimeError("no")
        RETURN_TYPES = ()
        FUNCTION = "run"
        CATEGORY = "test"

    return {"ListsInput": ListsInput, "Broken": Broken, "Volatile": Volatile}


def expected(mappings):
    out = {}
    for name, cls in mappings.items():
        try:
            out[name] = _routes.node_info(name, cls, {})
        except Exception:
            pass
    return json.dumps(out).encode()


def test_cache_bytes_reuse_invalidation_and_volatile_classes(tmp_path):
    fp = FakeFolderPaths(str(tmp_path))
    calls = {}
    mappings = make_classes(fp, calls)
    cache = _routes._ObjectInfoCache(mappings, {}, fp)

    first = cache.body()
    assert json.loads(first)["ListsInput"]["input"]["required"]["image"] == [[]]
    assert "Broken" not in json.loads(first)
    assert calls["ListsInput"] == 2  # built, then asked once more to see whether it is stable
    seed1 = json.loads(first)["Volatile"]["input"]["required"]["seed"][1]["default"]

    second = cache.body()
    assert calls["ListsInput"] == 2  # reused
    seed2 = json.loads(second)["Volatile"]["input"]["required"]["seed"][1]["default"]
    assert seed2 > seed1  # the volatile class is asked every time
    # The cached answer is byte for byte json.dumps of the same dict.
    fresh = json.loads(expected(mappings))
    fresh["Volatile"]["input"]["required"]["seed"][1]["default"] = seed2 + 2  # expected() asked once too
    third = cache.body()
    assert third == json.dumps(fresh).encode()

    time.sleep(0.01)  # mtime granularity
    open(os.path.join(fp.input, "new.png"), "wb").close()
    after_upload = json.loads(cache.body())
    assert after_upload["ListsInput"]["input"]["required"]["image"] == [["new.png"]]
    assert calls["ListsInput"] == 4  # 2 + expected()'s call + this rebuild

    os.makedirs(os.path.join(fp.models, "sub", "deeper"))  # a change in a nested model folder
    assert json.loads(cache.body())["ListsInput"]["input"]["required"]["ckpt"] == [["deeper"]]
    assert calls["ListsInput"] == 5


def test_stable_classes_reuse_the_whole_answer(tmp_path):
    fp = FakeFolderPaths(str(tmp_path))
    calls = {}
    mappings = {"ListsInput": make_classes(fp, calls)["ListsInput"]}
    cache = _routes._ObjectInfoCache(mappings, {}, fp)
    first = cache.body()
    assert first == expected(mappings) and calls["ListsInput"] == 3
    assert cache.body() is first  # the same bytes object, nothing recomputed
    time.sleep(0.01)
    open(os.path.join(fp.input, "a.png"), "wb").close()
    changed = cache.body()
    assert changed is not first and json.loads(changed)["ListsInput"]["input"]["required"]["image"] == [["a.png"]]
