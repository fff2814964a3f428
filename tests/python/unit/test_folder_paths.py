"""folder_paths compat module: defaults, save paths, extra model paths, caching."""
import os

import pytest

DEFAULT_KEYS = ["checkpoints", "configs", "loras", "vae", "text_encoders", "diffusion_models",
                "clip_vision", "style_models", "embeddings", "diffusers", "vae_approx",
                "controlnet", "gligen", "upscale_models", "custom_nodes", "hypernetworks",
                "photomaker", "classifiers", "model_patches", "audio_encoders"]


def test_defaults(folder_paths):
    base = folder_paths.base_path
    models = os.path.join(base, "models")
    assert list(folder_paths.folder_names_and_paths) == DEFAULT_KEYS
    assert folder_paths.models_dir == models
    assert folder_paths.get_folder_paths("unet") == [os.path.join(models, "unet"),
                                                     os.path.join(models, "diffusion_models")]
    assert folder_paths.get_folder_paths("clip") == [os.path.join(models, "text_encoders"),
                                                     os.path.join(models, "clip")]
    assert folder_paths.get_folder_paths("custom_nodes") == [os.path.join(base, "custom_nodes")]
    assert folder_paths.folder_names_and_paths["configs"][1] == [".yaml"]
    assert folder_paths.folder_names_and_paths["custom_nodes"][1] == set()
    assert folder_paths.folder_names_and_paths["loras"][1] is folder_paths.supported_pt_extensions
    assert folder_paths.supported_pt_extensions == {
        '.ckpt', '.pt', '.pt2', '.bin', '.pth', '.safetensors', '.pkl', '.sft'}
    assert folder_paths.get_output_directory() == os.path.join(base, "output")
    assert folder_paths.get_temp_directory() == os.path.join(base, "temp")
    assert folder_paths.get_input_directory() == os.path.join(base, "input")
    assert folder_paths.get_user_directory() == os.path.join(base, "user")
    assert os.path.isdir(folder_paths.get_input_directory())
    assert folder_paths.map_legacy("unet") == "diffusion_models"
    assert folder_paths.map_legacy("loras") == "loras"


def test_directory_by_type_and_annotations(folder_paths):
    out, inp, tmp = (folder_paths.get_output_directory(), folder_paths.get_input_directory(),
                     folder_paths.get_temp_directory())
    assert folder_paths.get_directory_by_type("output") == out
    assert folder_paths.get_directory_by_type("input") == inp
    assert folder_paths.get_directory_by_type("temp") == tmp
    assert folder_paths.get_directory_by_type("user") is None
    assert folder_paths.annotated_filepath("a.png [output]") == ("a.png", out)
    assert folder_paths.annotated_filepath("a.png [input]") == ("a.png", inp)
    assert folder_paths.annotated_filepath("a.png [temp]") == ("a.png", tmp)
    assert folder_paths.annotated_filepath("a.png") == ("a.png", None)
    assert folder_paths.get_annotated_filepath("a.png") == os.path.join(inp, "a.png")
    assert folder_paths.get_annotated_filepath("a.png", "/x") == os.path.join("/x", "a.png")
    assert folder_paths.get_annotated_filepath("b.png [temp]", "/x") == os.path.join(tmp, "b.png")
    open(os.path.join(out, "a.png"), "wb").close()
    assert folder_paths.exists_annotated_filepath("a.png [output]") is True
    assert folder_paths.exists_annotated_filepath("a.png") is False


def test_set_comfy_root(folder_paths, tmp_path):
    root = tmp_path / "ComfyUI"
    folder_paths.set_comfy_root(str(root))
    assert folder_paths.__file__ == os.path.join(str(root), "folder_paths.py")
    assert os.path.dirname(folder_paths.__file__) == str(root)
    assert folder_paths.base_path == str(root)


def _touch(*parts):
    path = os.path.join(*parts)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    open(path, "wb").close()
    return path


def test_save_image_path_counter(folder_paths):
    out = folder_paths.get_output_directory()
    # As in ComfyUI, the folder is os.path.join(output_dir, subfolder): a trailing
    # separator when there is no subfolder.
    root = os.path.join(out, "")
    assert folder_paths.get_save_image_path("ComfyUI", out) == (root, "ComfyUI", 1, "", "ComfyUI")
    for name in ["ComfyUI_00001_.png", "ComfyUI_00007_.png", "ComfyUI_00003_.webp",
                 "ComfyUI_abc.png", "ComfyUIx_00050_.png", "Other_00099_.png", "comfyui_00020.png"]:
        _touch(out, name)
    assert folder_paths.get_save_image_path("ComfyUI", out, 64, 32) == (root, "ComfyUI", 8, "", "ComfyUI")
    assert folder_paths.get_save_image_path("Other", out)[2] == 100
    assert folder_paths.get_save_image_path("ComfyUIx", out)[2] == 51


def test_save_image_path_subfolder_and_vars(folder_paths):
    out = folder_paths.get_output_directory()
    result = folder_paths.get_save_image_path("sub/dir/pic", out)
    assert result == (os.path.join(out, "sub/dir"), "pic", 1, "sub/dir", "sub/dir/pic")
    assert os.path.isdir(os.path.join(out, "sub", "dir"))  # created on first use
    _touch(out, "sub", "dir", "pic_00041_.png")
    assert folder_paths.get_save_image_path("sub/dir/pic", out)[2] == 42
    result = folder_paths.get_save_image_path("img_%width%x%height%", out, 640, 480)
    assert result == (os.path.join(out, ""), "img_640x480", 1, "", "img_640x480")
    year = folder_paths.get_save_image_path("%year%/a", out)[3]
    assert len(year) == 4 and year.isdigit()


@pytest.mark.parametrize("prefix", ["../evil", "sub/../../evil", "/etc/evil"])
def test_save_image_path_refuses_escape(folder_paths, prefix):
    out = folder_paths.get_output_directory()
    with pytest.raises(Exception) as info:
        folder_paths.get_save_image_path(prefix, out)
    assert "Saving image outside the output folder is not allowed." in str(info.value)


def test_extra_model_paths_yaml(folder_paths, tmp_path):
    cfg_dir = tmp_path / "cfg"
    cfg_dir.mkdir()
    yaml_path = cfg_dir / "extra_model_paths.yaml"
    yaml_path.write_text(
        "testing:\n"
        "    custom_nodes: testing_nodes\n"
        "other:\n"
        "    base_path: ../shared\n"
        "    is_default: true\n"
        "    checkpoints: |\n"
        "        ck1\n"
        "        ck2\n"
        "    clip: te\n"
        "    my_models: mine\n"
        "absolute:\n"
        "    loras: /abs/loras\n"
        "empty:\n")
    folder_paths.load_extra_model_paths(str(yaml_path))
    base = folder_paths.base_path
    shared = os.path.join(str(tmp_path), "shared")
    assert folder_paths.get_folder_paths("custom_nodes") == [
        os.path.join(base, "custom_nodes"), os.path.join(str(cfg_dir), "testing_nodes")]
    assert folder_paths.get_folder_paths("checkpoints") == [
        os.path.join(shared, "ck2"), os.path.join(shared, "ck1"),
        os.path.join(base, "models", "checkpoints")]
    assert folder_paths.get_folder_paths("text_encoders")[0] == os.path.join(shared, "te")
    assert folder_paths.folder_names_and_paths["my_models"] == ([os.path.join(shared, "mine")], set())
    assert folder_paths.get_folder_paths("loras")[-1] == "/abs/loras"
    assert list(folder_paths.folder_names_and_paths)[-1] == "my_models"


def test_add_model_folder_path_moves_default_first(folder_paths):
    folder_paths.add_model_folder_path("vae", "/a")
    folder_paths.add_model_folder_path("vae", "/a")
    assert folder_paths.get_folder_paths("vae")[1:] == ["/a"]
    folder_paths.add_model_folder_path("vae", "/a", is_default=True)
    assert folder_paths.get_folder_paths("vae")[0] == "/a"
    assert len(folder_paths.get_folder_paths("vae")) == 2


def test_filename_list_and_cache_invalidation(folder_paths, tmp_path):
    ckpt = os.path.join(folder_paths.models_dir, "checkpoints")
    _touch(ckpt, "b.safetensors")
    _touch(ckpt, "notes.txt")
    _touch(ckpt, "sub", "a.CKPT")
    _touch(ckpt, ".git", "hidden.pt")
    os.utime(ckpt, (1000, 1000))
    assert folder_paths.get_filename_list("checkpoints") == [
        "b.safetensors", os.path.join("sub", "a.CKPT")]
    # A new file while the folder mtime is unchanged: the cached list is served.
    _touch(ckpt, "c.pt")
    os.utime(ckpt, (1000, 1000))
    assert "c.pt" not in folder_paths.get_filename_list("checkpoints")
    # The folder mtime changes: rescanned.
    os.utime(ckpt, (2000, 2000))
    assert folder_paths.get_filename_list("checkpoints") == [
        "b.safetensors", "c.pt", os.path.join("sub", "a.CKPT")]
    # A newly added search folder invalidates the cache too.
    extra = str(tmp_path / "more")
    _touch(extra, "z.sft")
    folder_paths.add_model_folder_path("checkpoints", extra)
    assert folder_paths.get_filename_list("checkpoints")[-1] == "z.sft"
    # Within cache_helper the list is not re-validated.
    with folder_paths.cache_helper:
        first = folder_paths.get_filename_list("checkpoints")
        _touch(extra, "y.sft")
        os.utime(extra, (3000, 3000))
        assert folder_paths.get_filename_list("checkpoints") == first
    assert "y.sft" in folder_paths.get_filename_list("checkpoints")


def test_full_path_and_filters(folder_paths):
    ckpt = os.path.join(folder_paths.models_dir, "checkpoints")
    path = _touch(ckpt, "m.safetensors")
    assert folder_paths.get_full_path("checkpoints", "m.safetensors") == path
    assert folder_paths.get_full_path("checkpoints", "../checkpoints/m.safetensors") is None
    assert folder_paths.get_full_path("checkpoints", "../../models/checkpoints/m.safetensors") is None
    assert folder_paths.get_full_path("nope", "m.safetensors") is None
    with pytest.raises(FileNotFoundError):
        folder_paths.get_full_path_or_raise("checkpoints", "missing.pt")
    assert folder_paths.filter_files_extensions(["b.PT", "a.txt", "c.pt"], {".pt"}) == ["b.PT", "c.pt"]
    assert folder_paths.filter_files_extensions(["b", "a"], set()) == ["a", "b"]
    assert folder_paths.filter_files_content_types(
        ["a.png", "b.webp", "c.txt", "d.mp4", "e.wav"], ["image"]) == ["a.png", "b.webp"]


def test_input_subfolders(folder_paths):
    inp = folder_paths.get_input_directory()
    _touch(inp, "x", "y", "f.png")
    _touch(inp, "a", "g.png")
    assert folder_paths.get_input_subfolders() == ["a", "x", "x/y"]
