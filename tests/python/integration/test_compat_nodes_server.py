"""ComfyUI's nodes.py classes in a running server: model-free nodes run and give ComfyUI's results;
model nodes are listed, validate, and fail at run time with an execution_error that names the
missing model library (decisions.md, "Easy to miss")."""
import os

import torch

from comfy_harness import queue_and_collect, unique_int, wait_history

MODEL_LIBRARY = "needs ComfyUI's model library, which this server does not include yet"


def test_object_info_for_ksampler(server):
    info = server.get_json("/object_info/KSampler")["KSampler"]
    assert info["display_name"] == "KSampler" and info["category"] == "sampling"
    assert info["python_module"] == "nodes" and info["output"] == ["LATENT"]
    assert info["input_order"]["required"] == ["model", "seed", "steps", "cfg", "sampler_name", "scheduler",
                                               "positive", "negative", "latent_image", "denoise"]
    assert info["input"]["required"]["seed"][1]["max"] == 0xffffffffffffffff
    assert "euler" in info["input"]["required"]["sampler_name"][0]
    allinfo = server.get_json("/object_info")
    for name in ("CheckpointLoaderSimple", "EmptyLatentImage", "LatentUpscale", "ImagePadForOutpaint"):
        assert name in allinfo, name
    assert allinfo["EmptyLatentImage"]["display_name"] == "Empty Latent Image"


def test_model_free_nodes_run(server):
    w = 64 + 8 * unique_int()
    prompt = {
        "1": {"class_type": "EmptyLatentImage", "inputs": {"width": w, "height": 64, "batch_size": 2}},
        "2": {"class_type": "LatentUpscaleBy", "inputs": {"samples": ["1", 0], "upscale_method": "bislerp",
                                                          "scale_by": 2.0}},
        "3": {"class_type": "SaveLatent", "inputs": {"samples": ["2", 0], "filename_prefix": "latents/compat"}},
        "4": {"class_type": "EmptyImage", "inputs": {"width": 4, "height": 2, "batch_size": 1, "color": 0xFF0000}},
        "5": {"class_type": "ImagePadForOutpaint", "inputs": {"image": ["4", 0], "left": 8, "top": 0, "right": 0,
                                                              "bottom": 0, "feathering": 0}},
        "6": {"class_type": "ImageScale", "inputs": {"image": ["5", 0], "upscale_method": "nearest-exact",
                                                     "width": 24, "height": 4, "crop": "disabled"}},
        "7": {"class_type": "SaveImage", "inputs": {"images": ["6", 0], "filename_prefix": "compat"}},
    }
    run = queue_and_collect(server, prompt)
    assert not run.of("execution_error"), run.of("execution_error")
    entry = wait_history(server, run.prompt_id)
    latent = entry["outputs"]["3"]["latents"][0]
    assert latent["subfolder"] == "latents" and latent["type"] == "output"
    import comfy.utils
    data = comfy.utils.load_safetensors(str(server.output_dir / "latents" / latent["filename"]))
    assert data["latent_tensor"].shape == (2, 4, 16, w // 4) and not data["latent_tensor"].any()
    image = entry["outputs"]["7"]["images"][0]
    from PIL import Image
    with Image.open(server.output_dir / image["filename"]) as img:
        assert img.size == (24, 4)
        # 8 grey padding columns (0.5 -> 127), then red, each scaled 2x.
        assert img.getpixel((0, 0)) == (127, 127, 127) and img.getpixel((23, 3)) == (255, 0, 0)


def test_model_nodes_fail_with_a_clear_error(server):
    ckpts = server.base / "models" / "checkpoints"
    os.makedirs(ckpts, exist_ok=True)
    torch.save({"w": torch.zeros(1)}, ckpts / "fake.ckpt")
    prompt = {
        "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "fake.ckpt"}},
        "2": {"class_type": "CLIPTextEncode", "inputs": {"text": "a cat", "clip": ["1", 1]}},
        "3": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}},
        "4": {"class_type": "KSampler", "inputs": {"model": ["1", 0], "seed": unique_int(), "steps": 2, "cfg": 7.0,
                                                   "sampler_name": "euler", "scheduler": "normal",
                                                   "positive": ["2", 0], "negative": ["2", 0],
                                                   "latent_image": ["3", 0], "denoise": 1.0}},
        "5": {"class_type": "VAEDecode", "inputs": {"samples": ["4", 0], "vae": ["1", 2]}},
        "6": {"class_type": "SaveImage", "inputs": {"images": ["5", 0], "filename_prefix": "never"}},
    }
    run = queue_and_collect(server, prompt)
    err = run.one("execution_error").data
    assert err["node_id"] == "1" and err["node_type"] == "CheckpointLoaderSimple"
    assert err["exception_type"] == "RuntimeError"
    assert err["exception_message"] == "comfy.sd.load_checkpoint_guess_config " + MODEL_LIBRARY + "\n"
    assert err["current_inputs"] == {"ckpt_name": ["fake.ckpt"]}
    assert wait_history(server, run.prompt_id)["status"]["status_str"] == "error"

    # Without a checkpoint file, validation rejects the name before anything runs (as ComfyUI).
    prompt["1"]["inputs"]["ckpt_name"] = "absent.safetensors"
    r = server.post("/prompt", json={"prompt": prompt})
    assert r.status_code == 400
    errors = r.json()["node_errors"]["1"]["errors"]
    assert errors[0]["type"] == "value_not_in_list"
    assert errors[0]["details"] == "ckpt_name: 'absent.safetensors' not in ['fake.ckpt']"
