// Binds the native application as comfy._core.Server. Translation only: the behaviour lives in
// cpp/app, cpp/http, cpp/exec and cpp/queue.
#include <malloc.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <atomic>
#include <optional>

#include "app/app.h"
#include "bindings/py_runtime.h"
#include "bindings/py_tasks.h"
#include "bindings/pyconv.h"
#include "common/util.h"

namespace comfy::py {
namespace {

std::atomic<App*> g_app{nullptr};  // the running server, for the model_management interrupt helpers

class NativeServer {
 public:
  NativeServer(const pyb::dict& config, pyb::object helpers, pyb::object route_handler)
      : runtime_(std::move(helpers)), route_handler_(std::move(route_handler)) {
    // Set by the server, not by importing the module (which tools and tests do too): large
    // response bodies (/object_info is ~2 MB, /history several) are built and copied a few times
    // per request. glibc serves such blocks with fresh mmaps and trims the heap eagerly, so every
    // copy paid a page fault per 4 KiB (a warm /object_info spent 8 ms, most of it faulting pages
    // in). Up to 32 MiB they now come from the heap, which keeps up to 128 MiB of free top before
    // returning it to the system: 8 -> 3 ms for that request.
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 128 << 20);
    Json c = to_json(config);
    auto& o = app_.server_opts;
    o.hosts.clear();
    for (const auto& h : c["hosts"]) o.hosts.push_back(h);
    o.port = c["port"];
    o.max_body = c["max_body"].get<size_t>();
    o.threads = c.value("threads", 2);
    if (!c["cors_origin"].is_null()) o.cors_origin = c["cors_origin"].get<std::string>();
    o.python_upstream = c.value("python_upstream", "");
    app_.features = c["features"];
    app_.system_stats = c["system_stats"];
    app_.dirs = c.value("dirs", Json::object());
    app_.web_root = c.value("web_root", "");
    for (const auto& m : c.value("static_mounts", Json::array())) app_.static_mounts.emplace_back(m[0], m[1]);
    std::string mode = c.value("cache_mode", "classic");
    CacheMode cm = mode == "lru" ? CacheMode::Lru : mode == "none" ? CacheMode::None : CacheMode::Classic;
    app_.runtime = &runtime_;
    app_.hooks = &runtime_;
    app_.bridge = &tasks_;
    app_.executor = std::make_unique<Executor>(app_.queue, *app_.hub, runtime_, cm, c.value("cache_lru", 0));
    app_.python_route = [this](const std::string& name, const http::RouteRequest& r) { return call_route(name, r); };
    register_routes(app_);
  }

  ~NativeServer() { stop(); }

  int start() {
    pyb::gil_scoped_release nogil;
    app_.server = std::make_unique<http::Server>(app_.server_opts, app_.router, app_.hub, make_ws_hooks(app_));
    app_.server->start();
    app_.executor->start();
    g_app = &app_;
    return app_.server->port();
  }

  void stop() {
    pyb::gil_scoped_release nogil;
    if (g_app == &app_) g_app = nullptr;
    if (app_.server) app_.server->stop();
    if (app_.executor) app_.executor->stop();
  }

  void send_sync(const std::string& event, const pyb::object& data, const pyb::object& sid) {
    Json d = to_json(data);
    std::optional<std::string> s;
    if (!sid.is_none()) s = pyb::cast<std::string>(sid);
    pyb::gil_scoped_release nogil;
    app_.hub->send_json(event, d, s);
  }

  void send_bytes(uint32_t event, const pyb::bytes& data, const pyb::object& sid) {
    std::string payload = comfy::be32(event) + static_cast<std::string>(data);
    std::optional<std::string> s;
    if (!sid.is_none()) s = pyb::cast<std::string>(sid);
    pyb::gil_scoped_release nogil;
    app_.hub->send_binary(payload, s, event == 1 || event == 4);
  }

  int task_fd() const { return tasks_.fd(); }
  void run_tasks() { tasks_.run_pending(); }
  size_t queue_remaining() const { return app_.queue.remaining(); }
  pyb::object client_id() const { return opt(app_.executor->current_client_id()); }
  pyb::object last_node_id() const { return opt(app_.executor->last_node_id()); }
  pyb::object current_prompt_id() const { return opt(app_.executor->current_prompt_id()); }
  pyb::list sids() const {
    pyb::list l;
    for (auto& s : app_.hub->sids()) l.append(s);
    return l;
  }
  pyb::object feature_flags(const std::string& sid) const {
    auto f = app_.hub->feature_flags(sid);
    return f ? to_py(*f) : pyb::none();
  }
  pyb::object queue_json() const { return to_py(app_.queue.queue_json()); }

  // PromptServer.prompt_queue and on-prompt handlers (custom nodes use ComfyUI's tuple shapes;
  // the Python facade converts).
  void queue_put(const pyb::object& number, const std::string& prompt_id, const pyb::object& prompt,
                 const pyb::object& extra_data, const std::vector<std::string>& outputs) {
    QueueItem item{to_json(number), prompt_id, to_json(prompt), to_json(extra_data), outputs};
    pyb::gil_scoped_release nogil;
    app_.queue.put(std::move(item));
  }
  bool queue_delete(const std::string& prompt_id) {
    pyb::gil_scoped_release nogil;
    return app_.queue.delete_pending(prompt_id);
  }
  void queue_wipe() {
    pyb::gil_scoped_release nogil;
    app_.queue.wipe();
  }
  pyb::object history(const pyb::object& max_items, const pyb::object& offset) const {
    std::optional<int64_t> m, o;
    if (!max_items.is_none()) m = pyb::cast<int64_t>(max_items);
    if (!offset.is_none() && pyb::cast<int64_t>(offset) >= 0) o = pyb::cast<int64_t>(offset);
    return to_py(app_.queue.history_json(m, o));
  }
  pyb::object history_item(const std::string& id) const { return to_py(app_.queue.history_entry(id)); }
  void delete_history(const std::string& id) { app_.queue.delete_history(id); }
  void wipe_history() { app_.queue.wipe_history(); }
  void set_flag(const std::string& name, const pyb::object& value) { app_.queue.set_flag(name, to_json(value)); }
  int64_t take_number() { return app_.queue.take_number(); }
  int64_t peek_number() const { return app_.queue.peek_number(); }
  void broadcast_status() {
    Json s = status_payload(app_);
    pyb::gil_scoped_release nogil;
    app_.hub->send_json("status", s, std::nullopt);
  }
  void set_preflight(bool on) {
    if (app_.server) app_.server->set_preflight(on);
  }
  void set_on_prompt(pyb::object handler) {
    on_prompt_ = std::move(handler);
    app_.on_prompt = [this](const Json& body) { return to_json(on_prompt_(to_py(body))); };
    app_.has_on_prompt = !on_prompt_.is_none();
  }

 private:
  static pyb::object opt(const std::optional<std::string>& s) { return s ? pyb::object(pyb::str(*s)) : pyb::none(); }

  http::Response call_route(const std::string& name, const http::RouteRequest& r) {
    pyb::list query;
    for (auto& [k, v] : r.req.query) query.append(pyb::make_tuple(k, v));
    pyb::dict params;
    for (auto& [k, v] : r.params) params[pyb::str(k)] = v;
    pyb::tuple res = route_handler_(name, r.req.method, r.req.path, query, params, pyb::bytes(r.req.body));
    http::Response out;
    out.status = pyb::cast<int>(res[0]);
    out.content_type = pyb::cast<std::string>(res[1]);
    out.body = pyb::cast<std::string>(res[2]);
    return out;
  }

  App app_;
  PythonRuntime runtime_;
  TaskQueue tasks_;
  pyb::object route_handler_;
  pyb::object on_prompt_ = pyb::none();
};

void set_interrupt(bool v) {
  if (auto* a = g_app.load()) a->executor->set_interrupt(v);
}
bool interrupt_requested() {
  auto* a = g_app.load();
  return a && a->executor->interrupt_requested();
}
void report_progress(const pyb::object& node_id, const pyb::object& value, const pyb::object& max, int preview_format,
                     const pyb::bytes& preview, bool send_progress_message) {
  auto* a = g_app.load();
  if (!a) return;
  std::string node = node_id.is_none() ? std::string() : pyb::cast<std::string>(pyb::str(node_id));
  Json v = to_json(value), m = to_json(max);
  std::string bytes = preview;
  pyb::gil_scoped_release nogil;
  a->executor->progress(node, v, m, preview_format, bytes, send_progress_message);
}

bool take_interrupt() {
  auto* a = g_app.load();
  return a && a->executor->take_interrupt();
}
}  // namespace

void bind_server(pyb::module_& m) {
  pyb::class_<NativeServer>(m, "Server")
      .def(pyb::init<const pyb::dict&, pyb::object, pyb::object>(), pyb::arg("config"), pyb::arg("helpers"),
           pyb::arg("route_handler"))
      .def("start", &NativeServer::start)
      .def("stop", &NativeServer::stop)
      .def("send_sync", &NativeServer::send_sync, pyb::arg("event"), pyb::arg("data"), pyb::arg("sid") = pyb::none())
      .def("send_bytes", &NativeServer::send_bytes, pyb::arg("event"), pyb::arg("data"), pyb::arg("sid") = pyb::none())
      .def("task_fd", &NativeServer::task_fd)
      .def("run_tasks", &NativeServer::run_tasks)
      .def("queue_remaining", &NativeServer::queue_remaining)
      .def("queue_json", &NativeServer::queue_json)
      .def("sids", &NativeServer::sids)
      .def("feature_flags", &NativeServer::feature_flags)
      .def("queue_put", &NativeServer::queue_put)
      .def("queue_delete", &NativeServer::queue_delete)
      .def("queue_wipe", &NativeServer::queue_wipe)
      .def("history", &NativeServer::history, pyb::arg("max_items") = pyb::none(), pyb::arg("offset") = pyb::none())
      .def("history_item", &NativeServer::history_item)
      .def("delete_history", &NativeServer::delete_history)
      .def("wipe_history", &NativeServer::wipe_history)
      .def("set_flag", &NativeServer::set_flag)
      .def("take_number", &NativeServer::take_number)
      .def("peek_number", &NativeServer::peek_number)
      .def("broadcast_status", &NativeServer::broadcast_status)
      .def("set_on_prompt", &NativeServer::set_on_prompt)
      .def("set_preflight", &NativeServer::set_preflight)
      .def_property_readonly("client_id", &NativeServer::client_id)
      .def_property_readonly("last_node_id", &NativeServer::last_node_id)
      .def_property_readonly("current_prompt_id", &NativeServer::current_prompt_id);
  m.def("set_interrupt", &set_interrupt);
  m.def("interrupt_requested", &interrupt_requested);
  m.def("take_interrupt", &take_interrupt);
  m.def("report_progress", &report_progress, pyb::arg("node_id"), pyb::arg("value"), pyb::arg("max"),
        pyb::arg("preview_format") = 0, pyb::arg("preview") = pyb::bytes(), pyb::arg("send_progress_message") = true);
  m.def("py_dumps", [](const pyb::object& o) { return py_dumps(to_json(o)); });
}

}  // namespace comfy::py
