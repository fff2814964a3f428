"""comfy.cli_args: ComfyUI 0.3.64 defaults and the shared `args` object."""
import pytest

from comfy import cli_args


def test_defaults():
    ns = cli_args.parse_args([])
    assert ns.listen == "127.0.0.1"
    assert ns.port == 8188
    assert ns.enable_cors_header is None
    assert ns.max_upload_size == 100 and isinstance(ns.max_upload_size, int)
    assert ns.extra_model_paths_config is None
    assert ns.whitelist_custom_nodes == []
    assert ns.preview_method == cli_args.LatentPreviewMethod.NoPreviews
    assert ns.preview_method.value == "none"
    assert ns.preview_size == 512
    assert ns.default_hashing_function == "sha256"
    assert ns.cache_lru == 0 and ns.cache_classic is False and ns.cache_none is False
    assert ns.verbose == "INFO"
    assert ns.front_end_version == "comfyanonymous/ComfyUI@latest"
    assert ns.cpu is False and ns.auto_launch is False
    assert ns.fast == set()


def test_bare_flags_and_values():
    ns = cli_args.parse_args([
        "--listen", "--enable-cors-header", "--verbose", "--max-upload-size", "5",
        "--extra-model-paths-config", "a.yaml", "b.yaml", "--extra-model-paths-config", "c.yaml",
        "--preview-method", "taesd", "--cache-lru", "100", "--cpu", "--fast",
        "--whitelist-custom-nodes", "x", "y", "--disable-metadata"])
    assert ns.listen == "0.0.0.0,::"
    assert ns.enable_cors_header == "*"
    assert ns.verbose == "DEBUG"
    assert ns.max_upload_size == 5.0 and isinstance(ns.max_upload_size, float)
    assert ns.extra_model_paths_config == [["a.yaml", "b.yaml"], ["c.yaml"]]
    assert ns.preview_method == cli_args.LatentPreviewMethod.TAESD
    assert ns.cache_lru == 100
    assert ns.cpu is True
    assert ns.fast == set(cli_args.PerformanceFeature)
    assert ns.whitelist_custom_nodes == ["x", "y"]
    assert ns.disable_metadata is True


def test_listen_value_and_device_flags_are_accepted():
    ns = cli_args.parse_args(["--listen", "0.0.0.0", "--port", "9000", "--fp16-vae",
                              "--use-pytorch-cross-attention", "--lowvram",
                              "--reserve-vram", "1.5", "--directml", "--force-fp16"])
    assert (ns.listen, ns.port) == ("0.0.0.0", 9000)
    assert ns.fp16_vae and ns.use_pytorch_cross_attention and ns.lowvram
    assert ns.reserve_vram == 1.5 and ns.directml == -1
    assert ns.fp16_unet is True  # --force-fp16 implies it


@pytest.mark.parametrize("argv", [["--cache-classic", "--cache-none"], ["--cpu", "--gpu-only"],
                                  ["--preview-method", "bogus"], ["--no-such-flag"]])
def test_invalid_combinations_exit(argv):
    with pytest.raises(SystemExit):
        cli_args.parse_args(argv)


def test_set_args_updates_shared_object():
    from comfy.cli_args import args as shared
    saved = dict(vars(shared))
    try:
        cli_args.set_args(cli_args.parse_args(["--port", "1234", "--disable-metadata"]))
        assert shared is cli_args.args
        assert shared.port == 1234 and shared.disable_metadata is True
    finally:
        vars(shared).clear()
        vars(shared).update(saved)
