"""ComfyUI 0.3.64's user, settings and userdata routes, custom-node translations and workflow
templates, and the `/internal` sub-app (spec comfyui-api.md sections 2.6-2.8 and 13), as aiohttp
handlers on `PromptServer.routes`.

`register(prompt_server, args)` runs at the start of `PromptServer.add_routes`, so everything added
to the route table here is mirrored under `/api` like ComfyUI's own routes; the `/internal` sub-app
and the `/api/workflow_templates/<pack>` static folders go straight onto the app and are not.

Paths are checked more strictly than ComfyUI does: a path built from a request is decoded the way
ComfyUI decodes it, then refused (None from `get_request_user_filepath`, so 403 on the /userdata
routes and 400 on /v2/userdata) when it holds NUL, control characters or backslashes, when it leaves
the user's root lexically, or when its real path (symlinks resolved) leaves the real user root.
Listings leave out entries whose real path is outside the root. Nothing is created or written
before those checks pass."""
import collections
import datetime
import json
import logging
import mimetypes
import os
import re
import shutil
import tempfile
import threading
import uuid
from urllib import parse

from aiohttp import web

try:
    import folder_paths  # the compat module, registered by the app before packs load
except ImportError:  # imported outside the app
    from comfy._compat import folder_paths

log = logging.getLogger(__name__)

DEFAULT_USER = "default"
SETTINGS_FILE = "comfy.settings.json"
LOG_CAPACITY = 300
EXTRA_LOCALE_FILES = ("nodeDefs.json", "commands.json", "settings.json")
EXAMPLE_WORKFLOW_FOLDERS = ("example_workflows", "example", "examples", "workflow", "workflows")
INVALID_FILENAME = "Invalid filename. Please avoid special characters like :\\/*?\"<>|"
# Served as downloads only: they would run or render in the app's origin (stored XSS).
DANGEROUS_TYPES = {"text/html", "application/xhtml+xml", "text/javascript", "application/javascript",
                   "application/x-javascript", "text/css", "image/svg+xml", "text/xml", "application/xml"}


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


_FILE_MODE = 0o666 & ~_umask()


# --------------------------------------------------------------------------
# Paths
# --------------------------------------------------------------------------

def _inside(root, path):
    """True when `path` is `root` or below it (both absolute and normalised)."""
    try:
        return os.path.commonpath((root, path)) == root
    except ValueError:
        return False


def _realpath(path):
    try:
        return os.path.realpath(path)
    except (OSError, ValueError):
        return None


def _bad_chars(text):
    return any(ord(c) < 0x20 or c in "\\\x7f" for c in text)


def _contained(root, path):
    """`path` is lexically inside `root`, and so is its real path inside the real root."""
    if not _inside(root, path):
        return False
    real_root, real = _realpath(root), _realpath(path)
    return real_root is not None and real is not None and _inside(real_root, real)


def get_file_info(path, relative_to):
    return {
        "path": os.path.relpath(path, relative_to).replace(os.sep, "/"),
        "size": os.path.getsize(path),
        "modified": os.path.getmtime(path),
        "created": os.path.getctime(path),
    }


def _write_file(path, data):
    """Writes through a hidden temporary file in the same folder, then renames it into place."""
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, _FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _walk_files(top, real_root, recurse):
    """Files under `top` like ComfyUI's glob (`*` or `**/*`): hidden names skipped, symlinked
    folders followed, directories in pre-order, names sorted; anything whose real path is outside
    `real_root` is left out, and a folder already on the current chain is not entered again."""
    out = []

    def visit(folder, chain):
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError:
            return
        subdirs = []
        for entry in entries:
            if entry.name.startswith("."):
                continue
            full = os.path.join(folder, entry.name)
            real = _realpath(full)
            if real is None or not _inside(real_root, real):
                continue
            try:
                if entry.is_file():
                    out.append(full)
                elif recurse and entry.is_dir():
                    subdirs.append((full, real))
            except OSError:
                continue
        for full, real in subdirs:
            if real not in chain:
                visit(full, chain | {real})

    visit(top, frozenset({_realpath(top)}))
    return out


# --------------------------------------------------------------------------
# Users and settings
# --------------------------------------------------------------------------

class AppSettings:
    """`<user root>/comfy.settings.json` (app/app_settings.py)."""

    def __init__(self, user_manager):
        self.user_manager = user_manager

    def _file(self, request):
        try:
            path = self.user_manager.get_request_user_filepath(request, SETTINGS_FILE)
        except KeyError as e:
            log.error("User settings not found.")
            raise web.HTTPUnauthorized() from e
        if path is None:
            raise web.HTTPForbidden()
        return path

    def get_settings(self, request):
        path = self._file(request)
        if not os.path.isfile(path):
            return {}
        try:
            with open(path, encoding="utf-8") as f:
                value = json.load(f)
        except (OSError, ValueError):
            log.error("The user settings file is corrupted: %s", path)
            return {}
        return value if isinstance(value, dict) else {}

    def save_settings(self, request, settings):
        _write_file(self._file(request), json.dumps(settings, indent=4).encode("utf-8"))

    def add_routes(self, routes):
        @routes.get("/settings")
        async def get_settings(request):
            return web.json_response(self.get_settings(request))

        @routes.get("/settings/{id}")
        async def get_setting(request):
            settings = self.get_settings(request)
            return web.json_response(settings.get(request.match_info.get("id", ""), None))

        @routes.post("/settings")
        async def post_settings(request):
            settings = self.get_settings(request)
            new_settings = await _json_body(request)
            if not isinstance(new_settings, dict):
                return _json_error("settings must be a JSON object")
            self.save_settings(request, {**settings, **new_settings})
            return web.Response(status=200)

        @routes.post("/settings/{id}")
        async def post_setting(request):
            setting_id = request.match_info.get("id", None)
            if not setting_id:
                return web.Response(status=400)
            settings = self.get_settings(request)
            settings[setting_id] = await _json_body(request)
            self.save_settings(request, settings)
            return web.Response(status=200)


class _BadJson(web.HTTPBadRequest):
    def __init__(self):
        super().__init__(text=json.dumps({"error": "invalid JSON body"}), content_type="application/json")


async def _json_body(request):
    """The parsed JSON body; malformed JSON is a 400 (ComfyUI: 500 by accident)."""
    try:
        return json.loads(await request.read())
    except ValueError:
        raise _BadJson() from None


def _json_error(message, status=400):
    return web.json_response({"error": message}, status=status)


class UserManager:
    """`PromptServer.instance.user_manager` (app/user_manager.py): who a request is, and where
    that user's files are."""

    def __init__(self, args):
        self.multi_user = bool(getattr(args, "multi_user", False))
        self.settings = AppSettings(self)
        user_directory = folder_paths.get_user_directory()
        os.makedirs(user_directory, exist_ok=True)
        if self.multi_user:
            self.users = self._load_users()
        else:
            self.users = {DEFAULT_USER: DEFAULT_USER}
            # ComfyUI creates it on the frontend's first GET /settings; do it up front.
            root = self._user_root(DEFAULT_USER)
            if root is not None:
                os.makedirs(root, exist_ok=True)

    def get_users_file(self):
        return os.path.join(folder_paths.get_user_directory(), "users.json")

    def _load_users(self):
        path = self.get_users_file()
        if not os.path.isfile(path):
            return {}
        try:
            with open(path, encoding="utf-8") as f:
                users = json.load(f)
        except (OSError, ValueError) as e:
            log.error("Cannot read %s: %s", path, e)
            return {}
        if not isinstance(users, dict):
            log.error("%s is not a JSON object; no users loaded", path)
            return {}
        return {str(k): v for k, v in users.items()}

    def get_request_user_id(self, request):
        user = DEFAULT_USER
        if self.multi_user and request is not None and "comfy-user" in request.headers:
            user = request.headers["comfy-user"]
        if user not in self.users:
            raise KeyError("Unknown user: " + user)
        return user

    def _user_root(self, user):
        root_dir = os.path.abspath(folder_paths.get_user_directory())
        if not user or _bad_chars(user) or "/" in user or user in (".", ".."):
            return None
        user_root = os.path.abspath(os.path.join(root_dir, user))
        if user_root == root_dir or not _inside(root_dir, user_root):
            return None
        return user_root

    def get_request_user_filepath(self, request, file, type="userdata", create_dir=True):
        """The absolute path of `file` in the request user's root (the root itself for None), or
        None when it is not a safe path there. KeyError for an unknown user, as in ComfyUI."""
        if type != "userdata":
            raise KeyError("Unknown filepath type:" + type)
        user_root = self._user_root(self.get_request_user_id(request))
        if user_root is None:
            return None
        path = user_root
        if file is not None:
            if "%" in file:  # the frontend sends e.g. workflows%2Fa.json as one segment
                file = parse.unquote(file)
            if _bad_chars(file):
                return None
            path = os.path.abspath(os.path.join(user_root, file))
            if not _contained(user_root, path):
                return None
        if create_dir:
            parent = os.path.dirname(path)
            if not os.path.exists(parent):
                try:
                    os.makedirs(parent, exist_ok=True)
                except OSError as e:  # a name too long, a file in the way: the caller's open fails
                    log.debug("cannot create %s: %s", parent, e)
        return path

    def add_user(self, name):
        name = name.strip()
        if not name:
            raise ValueError("username not provided")
        user_id = re.sub("[^a-zA-Z0-9-_]+", "-", name) + "_" + str(uuid.uuid4())
        self.users[user_id] = name
        _write_file(self.get_users_file(), json.dumps(self.users).encode("utf-8"))
        return user_id

    # -- routes ----------------------------------------------------------------------------
    def add_routes(self, routes):
        self.settings.add_routes(routes)

        def user_path(request, file, create_dir=True):
            """(path or None, error response or None); unknown users are a 403 (ComfyUI: 500)."""
            try:
                return self.get_request_user_filepath(request, file, create_dir=create_dir), None
            except KeyError:
                return None, web.Response(status=403, text="Unknown user")

        def file_param(request, param="file", check_exists=False, create_dir=True):
            """ComfyUI's get_user_data_path: the path, or the response to answer with."""
            file = request.match_info.get(param, None)
            if not file:
                return web.Response(status=400)
            path, error = user_path(request, file, create_dir)
            if error is not None:
                return error
            if not path or path == self._user_root(self.get_request_user_id(request)):
                return web.Response(status=403)
            if check_exists and not os.path.lexists(path):
                return web.Response(status=404)
            return path

        def flags(request):
            overwrite = request.query.get("overwrite", "true") != "false"
            full_info = request.query.get("full_info", "false").lower() == "true"
            return overwrite, full_info

        def file_result(request, path, full_info):
            root = self.get_request_user_filepath(request, None, create_dir=False)
            return web.json_response(get_file_info(path, root) if full_info else os.path.relpath(path, root))

        @routes.get("/users")
        async def get_users(request):
            if self.multi_user:
                return web.json_response({"storage": "server", "users": self.users})
            user_dir = self.get_request_user_filepath(request, None, create_dir=False)
            if not user_dir:
                return web.Response(status=403, text="Invalid user directory")
            return web.json_response({"storage": "server", "migrated": os.path.exists(user_dir)})

        @routes.post("/users")
        async def post_users(request):
            body = await _json_body(request)
            username = body.get("username") if isinstance(body, dict) else None
            if not isinstance(username, str):
                return _json_error("username not provided")
            if username in self.users.values():
                return _json_error("Duplicate username.")
            try:
                user_id = self.add_user(username)
            except ValueError as e:
                return _json_error(str(e))
            return web.json_response(user_id)

        @routes.get("/userdata")
        async def list_userdata(request):
            directory = request.rel_url.query.get("dir", "")
            if not directory:
                return web.Response(status=400, text="Directory not provided")
            path, error = user_path(request, directory, create_dir=False)
            if error is not None:
                return error
            if not path:
                return web.Response(status=403, text="Invalid directory")
            if not os.path.exists(path):
                return web.Response(status=404, text="Directory not found")
            query = request.rel_url.query
            recurse = query.get("recurse", "").lower() == "true"
            full_info = query.get("full_info", "").lower() == "true"
            split_path = query.get("split", "").lower() == "true"
            real_root = _realpath(self.get_request_user_filepath(request, None, create_dir=False))
            results = []
            for full in _walk_files(path, real_root, recurse):
                if full_info:
                    try:
                        results.append(get_file_info(full, path))
                    except OSError:  # removed while listing
                        pass
                    continue
                rel = os.path.relpath(full, path).replace(os.sep, "/")
                results.append([rel] + rel.split("/") if split_path else rel)
            return web.json_response(results)

        @routes.get("/v2/userdata")
        async def list_userdata_v2(request):
            requested = parse.unquote(request.rel_url.query.get("path", ""))
            try:
                base = self.get_request_user_filepath(request, None, create_dir=False)
                target = (self.get_request_user_filepath(request, requested, create_dir=False)
                          if requested else base)
            except KeyError as e:
                log.warning("Access denied for user: %s", e)
                return web.Response(status=403, text="Invalid user specified in request")
            if not target or not base:
                return web.Response(status=400, text="Invalid path requested")
            if not os.path.exists(target):
                if target == base:
                    return web.json_response([])
                return web.Response(status=404, text="Requested path not found")
            if not os.path.isdir(target):
                return web.Response(status=400, text="Requested path is not a directory")
            real_root = _realpath(base)
            results = []
            for root, dirs, files in os.walk(target, topdown=True):
                dirs.sort()
                for name in sorted(dirs):
                    full = os.path.join(root, name)
                    real = _realpath(full)
                    if real is None or not _inside(real_root, real):
                        dirs.remove(name)
                        continue
                    results.append({"name": name, "path": os.path.relpath(full, base).replace(os.sep, "/"),
                                    "type": "directory"})
                for name in sorted(files):
                    full = os.path.join(root, name)
                    real = _realpath(full)
                    if real is None or not _inside(real_root, real):
                        continue
                    entry = {"name": name, "path": os.path.relpath(full, base).replace(os.sep, "/"),
                             "type": "file"}
                    try:
                        st = os.stat(full)
                        entry["size"] = st.st_size
                        entry["modified"] = st.st_mtime
                    except OSError as e:
                        log.warning("Could not stat file %s: %s", full, e)
                    results.append(entry)
            results.sort(key=lambda x: (x["type"] != "directory", x["name"].lower()))
            return web.json_response(results)

        @routes.get("/userdata/{file}")
        async def get_userdata(request):
            path = file_param(request, check_exists=True, create_dir=False)
            if not isinstance(path, str):
                return path
            if not os.path.isfile(path):
                return web.Response(status=404)
            content_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
            root = self.get_request_user_filepath(request, None, create_dir=False)
            if path == os.path.join(root, "user.css"):
                content_type, disposition = "text/css", "inline"
            else:
                if content_type in DANGEROUS_TYPES:
                    content_type = "application/octet-stream"
                disposition = "attachment"
            return web.FileResponse(path, headers={"Content-Type": content_type,
                                                   "X-Content-Type-Options": "nosniff",
                                                   "Content-Disposition": disposition})

        @routes.post("/userdata/{file}")
        async def post_userdata(request):
            path = file_param(request)
            if not isinstance(path, str):
                return path
            overwrite, full_info = flags(request)
            if not overwrite and os.path.lexists(path):
                return web.Response(status=409, text="File already exists")
            body = await request.read()
            try:
                _write_file(path, body)
            except OSError as e:
                log.warning("Error saving file '%s': %s", path, e)
                return web.Response(status=400, reason=INVALID_FILENAME)
            return file_result(request, path, full_info)

        @routes.delete("/userdata/{file}")
        async def delete_userdata(request):
            path = file_param(request, check_exists=True, create_dir=False)
            if not isinstance(path, str):
                return path
            if os.path.isdir(path) and not os.path.islink(path):
                return web.Response(status=400, text="Not a file")
            try:
                os.remove(path)
            except OSError as e:
                log.warning("Error deleting file '%s': %s", path, e)
                return web.Response(status=400, text="Cannot delete the file")
            return web.Response(status=204)

        @routes.post("/userdata/{file}/move/{dest}")
        async def move_userdata(request):
            source = file_param(request, check_exists=True)
            if not isinstance(source, str):
                return source
            dest = file_param(request, param="dest")
            if not isinstance(dest, str):  # ComfyUI tests `source` here by mistake
                return dest
            overwrite, full_info = flags(request)
            if not overwrite and os.path.lexists(dest):
                return web.Response(status=409, text="File already exists")
            if os.path.isdir(dest) and not os.path.islink(dest):
                return web.Response(status=400, text="Destination is a directory")
            log.info("moving '%s' -> '%s'", source, dest)
            try:
                shutil.move(source, dest)
            except OSError as e:
                log.warning("Error moving '%s' -> '%s': %s", source, dest, e)
                return web.Response(status=400, reason=INVALID_FILENAME)
            return file_result(request, dest, full_info)


# --------------------------------------------------------------------------
# Custom-node translations and example workflows (app/custom_node_manager.py)
# --------------------------------------------------------------------------

def merge_json_recursive(base, update):
    """Objects merge key by key, lists concatenate, anything else is replaced (utils/json_util.py)."""
    if isinstance(base, dict) and isinstance(update, dict):
        merged = dict(base)
        for key, value in update.items():
            merged[key] = merge_json_recursive(merged[key], value) if key in merged else value
        return merged
    if isinstance(base, list) and isinstance(update, list):
        return base + update
    return update


def _load_json(path):
    if not os.path.isfile(path):
        return {}
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        log.error("Error loading %s", path)
        return {}


def _subdirs(folder):
    try:
        with os.scandir(folder) as it:
            return sorted(e.path for e in it if e.is_dir())
    except OSError:
        return []


def build_translations():
    """{lang: main.json merged with nodeDefs/commands/settings} over every pack's locales/<lang>/,
    packs in sorted order."""
    translations = {}
    for folder in folder_paths.get_folder_paths("custom_nodes"):
        for pack in _subdirs(folder):
            locales = os.path.join(pack, "locales")
            if not os.path.isdir(locales):
                continue
            for lang_dir in _subdirs(locales):
                lang = os.path.basename(lang_dir)
                translations.setdefault(lang, {})
                data = _load_json(os.path.join(lang_dir, "main.json"))
                if not isinstance(data, dict):
                    data = {}
                for extra in EXTRA_LOCALE_FILES:
                    value = _load_json(os.path.join(lang_dir, extra))
                    if value:
                        data[extra.split(".")[0]] = value
                if data:
                    translations[lang] = merge_json_recursive(translations[lang], data)
    return translations


def workflow_templates():
    """{pack dir name: [workflow names]} from <custom_nodes>/*/<example folder>/*.json."""
    out = {}
    for folder in folder_paths.get_folder_paths("custom_nodes"):
        for name in EXAMPLE_WORKFLOW_FOLDERS:
            for pack in _subdirs(folder):
                workflows = os.path.join(pack, name)
                if not os.path.isdir(workflows):
                    continue
                try:
                    files = sorted(f for f in os.listdir(workflows)
                                   if f.endswith(".json") and not f.startswith(".")
                                   and os.path.isfile(os.path.join(workflows, f)))
                except OSError:
                    continue
                for f in files:
                    out.setdefault(os.path.basename(pack), []).append(os.path.splitext(f)[0])
    return out


def _add_custom_node_routes(routes, app, loaded_modules):
    cache = {}

    @routes.get("/workflow_templates")
    async def get_workflow_templates(request):
        return web.json_response(workflow_templates())

    @routes.get("/i18n")
    async def get_i18n(request):
        if "i18n" not in cache:
            cache["i18n"] = build_translations()
        return web.json_response(cache["i18n"])

    for module_name, module_dir in loaded_modules:
        for name in EXAMPLE_WORKFLOW_FOLDERS:
            workflows = os.path.join(module_dir, name)
            if os.path.isdir(workflows):  # the first one wins; aiohttp would never reach a second
                try:
                    app.router.add_static("/api/workflow_templates/" + module_name, workflows)
                except (ValueError, RuntimeError) as e:  # a name aiohttp cannot route
                    log.warning("cannot serve the example workflows of %s: %s", module_name, e)
                break


# --------------------------------------------------------------------------
# Log buffer and the /internal sub-app (app/logger.py, api_server/)
# --------------------------------------------------------------------------

def _terminal_size():
    for fd in (1, 2):
        try:
            size = os.get_terminal_size(fd)
            return size.columns, size.lines
        except (OSError, ValueError):
            continue
    return 80, 24


class LogBuffer(logging.Handler):
    """The last LOG_CAPACITY records as {"t": ISO time, "m": text}, on the root logger; sockets
    that subscribed get each new record as a `logs` message."""

    def __init__(self, server, capacity=LOG_CAPACITY):
        super().__init__(logging.NOTSET)
        self.setFormatter(logging.Formatter("%(message)s"))
        self.server = server
        self.entries = collections.deque(maxlen=capacity)
        self.subscriptions = set()
        self.cols = self.rows = None
        self._guard = threading.local()
        self._entries_lock = threading.Lock()

    def update_size(self):
        cols, rows = _terminal_size()
        changed = (cols, rows) != (self.cols, self.rows)
        self.cols, self.rows = cols, rows
        return {"cols": cols, "rows": rows} if changed else None

    def get_logs(self):
        with self._entries_lock:
            return list(self.entries)

    def emit(self, record):
        if getattr(self._guard, "busy", False):
            return
        self._guard.busy = True
        try:
            entry = {"t": datetime.datetime.now().isoformat(), "m": self.format(record) + "\n"}
            with self._entries_lock:
                self.entries.append(entry)
            if self.subscriptions:
                self._send([entry])
        except Exception:  # a log handler must never raise into the code that logged
            pass
        finally:
            self._guard.busy = False

    def _send(self, entries):
        size = self.update_size()
        connected = self.server.sockets
        for sid in list(self.subscriptions):
            if sid not in connected:  # unsubscribe sockets that went away
                self.subscriptions.discard(sid)
                continue
            self.server.send_sync("logs", {"entries": entries, "size": size}, sid)


def _internal_app(buffer):
    routes = web.RouteTableDef()

    @routes.get("/logs")
    async def get_logs(request):
        return web.json_response("".join(e["t"] + " - " + e["m"] for e in buffer.get_logs()))

    @routes.get("/logs/raw")
    async def get_raw_logs(request):
        buffer.update_size()
        return web.json_response({"entries": buffer.get_logs(),
                                  "size": {"cols": buffer.cols, "rows": buffer.rows}})

    @routes.patch("/logs/subscribe")
    async def subscribe_logs(request):
        body = await _json_body(request)
        if not isinstance(body, dict) or "clientId" not in body or "enabled" not in body:
            return _json_error("clientId and enabled are required")
        client_id = str(body["clientId"])
        if body["enabled"]:
            buffer.subscriptions.add(client_id)
        else:
            buffer.subscriptions.discard(client_id)
        return web.Response(status=200)

    @routes.get("/folder_paths")
    async def get_folder_paths(request):
        return web.json_response({key: value[0] for key, value in folder_paths.folder_names_and_paths.items()})

    @routes.get("/files/{directory_type}")
    async def get_files(request):
        directory_type = request.match_info["directory_type"]
        if directory_type not in ("output", "input", "temp"):
            return web.json_response({"error": "Invalid directory type"}, status=400)
        directory = folder_paths.get_directory_by_type(directory_type)
        real_dir = _realpath(directory)
        found = []
        try:
            with os.scandir(directory) as it:
                for entry in it:
                    try:
                        real = _realpath(entry.path)
                        if real is None or not _inside(real_dir, real) or not entry.is_file():
                            continue
                        found.append((-entry.stat().st_mtime, entry.name))
                    except OSError:
                        continue
        except OSError:  # the folder is missing (ComfyUI: 500)
            return web.json_response([])
        return web.json_response([name for _, name in sorted(found)])

    app = web.Application()
    app.add_routes(routes)
    return app


# --------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------

def register(prompt_server, args):
    """Adds the routes to `prompt_server.routes` (mirrored under /api afterwards), mounts
    /internal, installs the real user manager and the log buffer."""
    manager = prompt_server.user_manager
    if isinstance(manager, UserManager):
        pass
    elif manager is not None and type(manager).__name__ == "_UserManager":
        # Upgrade the start-up placeholder in place: packs may have kept a reference to it.
        manager.__class__ = UserManager
        manager.__init__(args)
    else:
        manager = UserManager(args)
        prompt_server.user_manager = manager
    manager.add_routes(prompt_server.routes)

    try:
        from comfy._compat import nodes as nodes_module
        loaded = list(nodes_module.LOADED_MODULE_DIRS.items())
    except Exception:  # pragma: no cover - nodes always importable in the app
        loaded = []
    _add_custom_node_routes(prompt_server.routes, prompt_server.app, loaded)

    buffer = None
    for handler in logging.getLogger().handlers:
        if isinstance(handler, LogBuffer):
            buffer = handler
    if buffer is None:
        buffer = LogBuffer(prompt_server)
        logging.getLogger().addHandler(buffer)
    prompt_server.log_buffer = buffer
    prompt_server.app.add_subapp("/internal", _internal_app(buffer))
    return manager


__all__ = ["register", "UserManager", "AppSettings", "LogBuffer", "get_file_info", "build_translations",
           "workflow_templates", "merge_json_recursive"]
