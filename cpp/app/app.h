// Wiring of the native application: the route table over the queue, executor, hub and the
// Python bridge. Native routes answer on the reactor thread; routes that need Python (validation,
// /object_info, model folder listings) are posted to the Python thread and answered from there.
#pragma once
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "exec/executor.h"
#include "graph/validate.h"
#include "http/server.h"
#include "queue/prompt_queue.h"
#include "ws/hub.h"

namespace comfy {

// Runs closures on the Python main thread (asyncio loop) with the GIL held. Thread-safe.
class PyBridge {
 public:
  virtual ~PyBridge() = default;
  virtual void post(std::function<void()> task) = 0;
};

struct App {
  http::ServerOptions server_opts;
  Json features = Json::object();
  Json system_stats = Json::object();  // static part; RAM figures are filled in per request
  std::string web_root;  // the frontend's static files ("" = none)
  // Further static mounts (URL prefix, folder): /templates and /docs from their packages.
  std::vector<std::pair<std::string, std::string>> static_mounts;
  // Roots for file routes: {"input": path, "output": path, "temp": path, "user": path}, absolute.
  Json dirs = Json::object();
  std::shared_ptr<ws::Hub> hub = std::make_shared<ws::Hub>();
  PromptQueue queue;
  std::unique_ptr<Executor> executor;
  NodeRuntime* runtime = nullptr;
  ValidationHooks* hooks = nullptr;
  PyBridge* bridge = nullptr;
  // Python handler for routes named by `name` (runs on the Python thread).
  std::function<http::Response(const std::string& name, const http::RouteRequest&)> python_route;
  // PromptServer.add_on_prompt_handler: when any is registered, POST /prompt bodies pass through
  // them (on the Python thread) before anything else, as in ComfyUI.
  std::function<Json(const Json&)> on_prompt;
  std::atomic<bool> has_on_prompt{false};
  std::shared_ptr<http::Router> router = std::make_shared<http::Router>();
  std::unique_ptr<http::Server> server;
};

void register_routes(App& app);
// Runs the Python route `name` on the Python thread, then answers with finish(its response).
// Exceptions become ComfyUI's 500.
void run_python_route(App& app, const std::string& name, std::shared_ptr<http::RouteRequest> rr, http::Responder resp,
                      std::function<http::Response(http::Response)> finish = {});
http::WsHooks make_ws_hooks(App& app);
Json status_payload(const App& app);

}  // namespace comfy
