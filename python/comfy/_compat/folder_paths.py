"""ComfyUI's `folder_paths` module, re-implemented.

The app registers this module as `sys.modules['folder_paths']`; custom node packs
import it by that name and read or mutate its globals directly
(`folder_names_and_paths`, `models_dir`, ...), so the names and data shapes follow
ComfyUI exactly. Call order for the app: `set_comfy_root(root)`, then `init(base)`,
then `load_extra_model_paths(yaml)` for each config, then the directory setters.
"""
import logging
import mimetypes
import os
import time
from collections.abc import Collection

import yaml

supported_pt_extensions = {'.ckpt', '.pt', '.pt2', '.bin', '.pth', '.safetensors', '.pkl', '.sft'}

# name -> ([paths], extensions). Packs hold references to this dict, so init()
# refills it in place rather than rebinding it.
folder_names_and_paths = {}

base_path = os.getcwd()
models_dir = os.path.join(base_path, "models")
output_directory = os.path.join(base_path, "output")
temp_directory = os.path.join(base_path, "temp")
input_directory = os.path.join(base_path, "input")
user_directory = os.path.join(base_path, "user")

# folder name -> (sorted files, {dir: mtime}, perf_counter at scan time)
filename_list_cache = {}

extension_mimetypes_cache = {"webp": "image", "fbx": "model"}

_LEGACY_NAMES = {"unet": "diffusion_models", "clip": "text_encoders"}


def _default_folders(models, base):
    """ComfyUI 0.3.64's default model folders, in its order, with its extension sets.

    The odd extension values (a list for configs/diffusers, {""} for classifiers) are
    ComfyUI's own; packs may test them, so they are kept as is.
    """
    pt = supported_pt_extensions
    m = lambda *names: [os.path.join(models, n) for n in names]  # noqa: E731
    return [
        ("checkpoints", m("checkpoints"), pt),
        ("configs", m("configs"), [".yaml"]),
        ("loras", m("loras"), pt),
        ("vae", m("vae"), pt),
        ("text_encoders", m("text_encoders", "clip"), pt),
        ("diffusion_models", m("unet", "diffusion_models"), pt),
        ("clip_vision", m("clip_vision"), pt),
        ("style_models", m("style_models"), pt),
        ("embeddings", m("embeddings"), pt),
        ("diffusers", m("diffusers"), ["folder"]),
        ("vae_approx", m("vae_approx"), pt),
        ("controlnet", m("controlnet", "t2i_adapter"), pt),
        ("gligen", m("gligen"), pt),
        ("upscale_models", m("upscale_models"), pt),
        ("custom_nodes", [os.path.join(base, "custom_nodes")], set()),
        ("hypernetworks", m("hypernetworks"), pt),
        ("photomaker", m("photomaker"), pt),
        ("classifiers", m("classifiers"), {""}),
        ("model_patches", m("model_patches"), pt),
        ("audio_encoders", m("audio_encoders"), pt),
    ]


def init(base_dir, create_input=True):
    """Resets every default path under `base_dir` (ComfyUI's --base-directory semantics)."""
    global base_path, models_dir, output_directory, temp_directory
    global input_directory, user_directory
    base_path = os.path.abspath(base_dir)
    models_dir = os.path.join(base_path, "models")
    folder_names_and_paths.clear()
    for name, paths, exts in _default_folders(models_dir, base_path):
        folder_names_and_paths[name] = (paths, exts)
    output_directory = os.path.join(base_path, "output")
    temp_directory = os.path.join(base_path, "temp")
    input_directory = os.path.join(base_path, "input")
    user_directory = os.path.join(base_path, "user")
    filename_list_cache.clear()
    if create_input and not os.path.exists(input_directory):
        # ComfyUI creates the input folder at import; LoadImage lists it.
        try:
            os.makedirs(input_directory)
        except OSError:
            logging.error("Failed to create input directory")


def set_comfy_root(path):
    """Makes `folder_paths.__file__` point into a ComfyUI-shaped tree.

    Packs locate the ComfyUI root with os.path.dirname(folder_paths.__file__) and
    then look for custom_nodes/, models/, output/ there.
    """
    global base_path
    root = os.path.abspath(path)
    globals()["__file__"] = os.path.join(root, "folder_paths.py")
    base_path = root


init(base_path, create_input=False)


class CacheHelper:
    """While active (used as a context manager), filename lists are served without
    re-checking folder mtimes; used around bulk work such as /object_info."""

    def __init__(self):
        self.cache = {}
        self.active = False

    def get(self, key, default=None):
        if not self.active:
            return default
        return self.cache.get(key, default)

    def set(self, key, value):
        if self.active:
            self.cache[key] = value

    def clear(self):
        self.cache.clear()

    def __enter__(self):
        self.active = True
        return self

    def __exit__(self, exc_type, exc_value, tb):
        self.active = False
        self.clear()


cache_helper = CacheHelper()


def map_legacy(folder_name):
    return _LEGACY_NAMES.get(folder_name, folder_name)


def set_output_directory(output_dir):
    global output_directory
    output_directory = output_dir


def set_temp_directory(temp_dir):
    global temp_directory
    temp_directory = temp_dir


def set_input_directory(input_dir):
    global input_directory
    input_directory = input_dir


def set_user_directory(user_dir):
    global user_directory
    user_directory = user_dir


def get_output_directory():
    return output_directory


def get_temp_directory():
    return temp_directory


def get_input_directory():
    return input_directory


def get_user_directory():
    return user_directory


def get_directory_by_type(type_name):
    """Only these three are reachable over HTTP; anything else is None."""
    if type_name == "output":
        return get_output_directory()
    if type_name == "temp":
        return get_temp_directory()
    if type_name == "input":
        return get_input_directory()
    return None


def filter_files_content_types(files, content_types):
    """Keeps files whose guessed MIME major type is in `content_types` ("image", ...)."""
    result = []
    for file in files:
        extension = file.split('.')[-1]
        content_type = extension_mimetypes_cache.get(extension)
        if content_type is None:
            mime_type, _ = mimetypes.guess_type(file, strict=False)
            if not mime_type:
                continue
            content_type = mime_type.split('/')[0]
            extension_mimetypes_cache[extension] = content_type
        if content_type in content_types:
            result.append(file)
    return result


_ANNOTATIONS = (("[output]", get_output_directory), ("[input]", get_input_directory),
                ("[temp]", get_temp_directory))


def annotated_filepath(name):
    """'x.png [output]' -> ('x.png', output dir). Strips the tag plus one more
    character (the space), as ComfyUI does."""
    for tag, getter in _ANNOTATIONS:
        if name.endswith(tag):
            return name[:-(len(tag) + 1)], getter()
    return name, None


def get_annotated_filepath(name, default_dir=None):
    name, base_dir = annotated_filepath(name)
    if base_dir is None:
        base_dir = default_dir if default_dir is not None else get_input_directory()
    return os.path.join(base_dir, name)


def exists_annotated_filepath(name):
    name, base_dir = annotated_filepath(name)
    if base_dir is None:
        base_dir = get_input_directory()
    return os.path.exists(os.path.join(base_dir, name))


def add_model_folder_path(folder_name, full_folder_path, is_default=False):
    """Appends a search path (first when is_default); unknown names get a new entry
    with an empty extension set (= all files)."""
    folder_name = map_legacy(folder_name)
    if folder_name not in folder_names_and_paths:
        folder_names_and_paths[folder_name] = ([full_folder_path], set())
        return
    paths = folder_names_and_paths[folder_name][0]
    if full_folder_path in paths:
        if is_default and paths[0] != full_folder_path:
            paths.remove(full_folder_path)
            paths.insert(0, full_folder_path)
    elif is_default:
        paths.insert(0, full_folder_path)
    else:
        paths.append(full_folder_path)


def get_folder_paths(folder_name):
    return folder_names_and_paths[map_legacy(folder_name)][0][:]


def recursive_search(directory, excluded_dir_names=None):
    """Returns (relative file paths, {dir path: mtime}) for `directory`, following
    symlinks; the mtimes are what the filename cache is validated against."""
    if not os.path.isdir(directory):
        return [], {}
    excluded = excluded_dir_names or []
    result = []
    dirs = {}
    try:
        dirs[directory] = os.path.getmtime(directory)
    except FileNotFoundError:
        logging.warning(f"Warning: Unable to access {directory}. Skipping this path.")
    for dirpath, subdirs, filenames in os.walk(directory, followlinks=True, topdown=True):
        subdirs[:] = [d for d in subdirs if d not in excluded]
        for file_name in filenames:
            result.append(os.path.relpath(os.path.join(dirpath, file_name), directory))
        for d in subdirs:
            path = os.path.join(dirpath, d)
            try:
                dirs[path] = os.path.getmtime(path)
            except FileNotFoundError:
                logging.warning(f"Warning: Unable to access {path}. Skipping this path.")
    return result, dirs


def filter_files_extensions(files, extensions):
    """Sorted files whose lower-cased extension is in `extensions` (empty = all)."""
    return sorted(f for f in files
                  if len(extensions) == 0 or os.path.splitext(f)[-1].lower() in extensions)


def get_full_path(folder_name, filename):
    """First existing file named `filename` across the folder's paths, or None.

    The name is re-rooted at '/' and made relative again so '..' cannot climb out.
    """
    folder_name = map_legacy(folder_name)
    if folder_name not in folder_names_and_paths:
        return None
    filename = os.path.relpath(os.path.join("/", filename), "/")
    for folder in folder_names_and_paths[folder_name][0]:
        full_path = os.path.join(folder, filename)
        if os.path.isfile(full_path):
            return full_path
        if os.path.islink(full_path):
            logging.warning(f"WARNING path {full_path} exists but doesn't link anywhere, skipping.")
    return None


def get_full_path_or_raise(folder_name, filename):
    full_path = get_full_path(folder_name, filename)
    if full_path is None:
        raise FileNotFoundError(
            f"Model in folder '{folder_name}' with filename '{filename}' not found.")
    return full_path


def get_filename_list_(folder_name):
    """Uncached scan: (sorted files, {dir: mtime}, scan time)."""
    folder_name = map_legacy(folder_name)
    paths, extensions = folder_names_and_paths[folder_name]
    files = set()
    mtimes = {}
    for path in paths:
        found, dirs = recursive_search(path, excluded_dir_names=[".git"])
        files.update(filter_files_extensions(found, extensions))
        mtimes.update(dirs)
    return sorted(files), mtimes, time.perf_counter()


def cached_filename_list_(folder_name):
    """The cached scan if still valid: no scanned dir changed mtime and no existing
    search path is missing from it (catches newly added or created folders)."""
    strong = cache_helper.get(folder_name)
    if strong is not None:
        return strong
    folder_name = map_legacy(folder_name)
    out = filename_list_cache.get(folder_name)
    if out is None:
        return None
    for folder, mtime in out[1].items():
        try:
            if os.path.getmtime(folder) != mtime:
                return None
        except FileNotFoundError:
            return None
    for path in folder_names_and_paths[folder_name][0]:
        if os.path.isdir(path) and path not in out[1]:
            return None
    return out


def get_filename_list(folder_name):
    folder_name = map_legacy(folder_name)
    out = cached_filename_list_(folder_name)
    if out is None:
        out = get_filename_list_(folder_name)
        filename_list_cache[folder_name] = out
    cache_helper.set(folder_name, out)
    return list(out[0])


def _expand_prefix_vars(prefix, width, height):
    prefix = prefix.replace("%width%", str(width)).replace("%height%", str(height))
    now = time.localtime()
    for key, value in (("year", now.tm_year), ("month", now.tm_mon), ("day", now.tm_mday),
                       ("hour", now.tm_hour), ("minute", now.tm_min), ("second", now.tm_sec)):
        text = str(value) if key == "year" else str(value).zfill(2)
        prefix = prefix.replace(f"%{key}%", text)
    return prefix


def _next_counter(folder, filename, prefix_len):
    """1 + the highest N among files named '<filename>_N...' in `folder` (ComfyUI's
    rule: the part after '<filename>_' up to the next '_' must parse as an int,
    otherwise it counts as 0)."""
    best = None
    for entry in os.listdir(folder):
        head = entry[:prefix_len + 1]
        if head[-1:] != "_" or os.path.normcase(head[:-1]) != os.path.normcase(filename):
            continue
        try:
            digits = int(entry[prefix_len + 1:].split('_')[0])
        except ValueError:
            digits = 0
        best = digits if best is None else max(best, digits)
    return 1 if best is None else best + 1


def get_save_image_path(filename_prefix, output_dir, image_width=0, image_height=0):
    """-> (full_output_folder, filename, counter, subfolder, filename_prefix)."""
    if "%" in filename_prefix:
        filename_prefix = _expand_prefix_vars(filename_prefix, image_width, image_height)
    subfolder = os.path.dirname(os.path.normpath(filename_prefix))
    filename = os.path.basename(os.path.normpath(filename_prefix))
    full_output_folder = os.path.join(output_dir, subfolder)
    abs_folder = os.path.abspath(full_output_folder)
    if os.path.commonpath((output_dir, abs_folder)) != output_dir:
        err = ("**** ERROR: Saving image outside the output folder is not allowed."
               "\n full_output_folder: " + abs_folder +
               "\n         output_dir: " + output_dir +
               "\n         commonpath: " + os.path.commonpath((output_dir, abs_folder)))
        logging.error(err)
        raise Exception(err)
    # ComfyUI measures the prefix length on the basename of the (expanded) prefix.
    prefix_len = len(os.path.basename(filename_prefix))
    try:
        counter = _next_counter(full_output_folder, filename, prefix_len)
    except FileNotFoundError:
        os.makedirs(full_output_folder, exist_ok=True)
        counter = 1
    return full_output_folder, filename, counter, subfolder, filename_prefix


def get_input_subfolders():
    """All subfolders of the input dir, relative, with forward slashes, sorted."""
    input_dir = get_input_directory()
    if not os.path.exists(input_dir):
        return []
    folders = []
    for root, _dirs, _files in os.walk(input_dir):
        rel_path = os.path.relpath(root, input_dir)
        if rel_path != ".":
            folders.append(rel_path.replace(os.sep, '/'))
    return sorted(folders)


def load_extra_model_paths(yaml_path):
    """Reads an extra_model_paths.yaml: sections of {base_path?, is_default?,
    <folder>: "path\\npath..."}; relative paths resolve against base_path, or the
    yaml file's directory when a section has no base_path."""
    with open(yaml_path, 'r') as stream:
        config = yaml.safe_load(stream)
    yaml_dir = os.path.dirname(os.path.abspath(yaml_path))
    for section in (config or {}).values():
        if section is None:
            continue
        _load_extra_section(dict(section), yaml_dir)


def _load_extra_section(conf, yaml_dir):
    base = conf.pop("base_path", None)
    if base is not None:
        base = os.path.expandvars(os.path.expanduser(base))
        if not os.path.isabs(base):
            base = os.path.abspath(os.path.join(yaml_dir, base))
    is_default = conf.pop("is_default", False)
    for folder_name, value in conf.items():
        if value is None:
            continue
        for line in str(value).split("\n"):
            if len(line) == 0:
                continue
            if base is not None:
                full_path = os.path.join(base, line)
            elif not os.path.isabs(line):
                full_path = os.path.abspath(os.path.join(yaml_dir, line))
            else:
                full_path = line
            logging.info("Adding extra search path {} {}".format(folder_name, full_path))
            add_model_folder_path(folder_name, full_path, is_default)
