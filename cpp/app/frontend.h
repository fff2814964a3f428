// The web UI (spec §11): GET / (and /api/) answers the web root's index.html with ComfyUI's
// no-cache headers, and any GET/HEAD that no route claims and that names a regular file inside
// /templates, /docs (their pip packages) or the web root is served natively (ComfyUI registers the static mount last, after pack routes; a pack
// route shadowing a frontend file is the only difference, and none is known). Paths are resolved
// with realpath and must stay inside the root.
#pragma once
#include "app/app.h"

namespace comfy {
void register_frontend(App& app);
}  // namespace comfy
