#include <fstream>
#include <sstream>

#include "app/app.h"
#include "app/frontend.h"
#include "app/files.h"
#include "common/util.h"

namespace comfy {
namespace {
using http::Response;
using http::Responder;
using http::RouteRequest;

bool truthy(const Json& v) {
  switch (v.type()) {
    case Json::value_t::null: return false;
    case Json::value_t::boolean: return v.get<bool>();
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float: return v.get<double>() != 0.0;
    case Json::value_t::string:
    case Json::value_t::array:
    case Json::value_t::object: return !v.empty();
    default: return true;
  }
}

// Bodies are parsed whatever the Content-Type, as aiohttp's request.json() does. ComfyUI answers
// malformed JSON with a 500 by accident; we answer 400 in its error envelope (decisions.md).
bool parse_body(const RouteRequest& r, Json& out, const Responder& resp) {
  std::string err;
  if (parse_json(r.req.body, out, &err)) return true;
  resp.send(Response::error_envelope(400, "invalid_json", "Invalid JSON in request body", err));
  return false;
}

std::pair<int64_t, int64_t> meminfo() {
  std::ifstream f("/proc/meminfo");
  std::string key;
  int64_t val = 0, total = 0, avail = 0;
  std::string unit;
  while (f >> key >> val >> unit) {
    if (key == "MemTotal:") total = val * 1024;
    else if (key == "MemAvailable:") avail = val * 1024;
  }
  return {total, avail};
}

bool parse_int_param(const std::optional<std::string>& s, std::optional<int64_t>& out) {
  if (!s) return true;
  try {
    size_t pos = 0;
    std::string t = trim(*s);
    int64_t v = std::stoll(t, &pos);
    if (pos != t.size()) return false;
    out = v;
    return true;
  } catch (...) {
    return false;
  }
}

void get_prompt(App& app, RouteRequest&, Responder resp) { resp.send(Response::json(status_payload(app)["status"])); }

void accept_prompt(App& app, Json body, Responder resp);

void post_prompt(App& app, RouteRequest& r, Responder resp) {
  Json body;
  if (!parse_body(r, body, resp)) return;
  if (!app.has_on_prompt.load()) return accept_prompt(app, std::move(body), std::move(resp));
  App* a = &app;
  auto shared = std::make_shared<Json>(std::move(body));
  app.bridge->post([a, shared, resp] { accept_prompt(*a, a->on_prompt(*shared), resp); });
}

void accept_prompt(App& app, Json body, Responder resp) {
  if (!body.is_object()) body = Json::object();
  Json number;
  if (body.contains("number")) {
    const Json& n = body["number"];
    if (n.is_number()) number = n.get<double>();
    else if (n.is_string()) {
      try {
        number = std::stod(n.get<std::string>());
      } catch (...) {
        return resp.send(Response::error_envelope(400, "invalid_prompt", "Invalid number", py_str(n)));
      }
    } else {
      return resp.send(Response::error_envelope(400, "invalid_prompt", "Invalid number", py_str(n)));
    }
  } else {
    int64_t n = app.queue.take_number();
    if (body.contains("front") && truthy(body["front"])) n = -n;
    number = n;
  }
  if (!body.contains("prompt"))
    return resp.send(Response::error_envelope(400, "no_prompt", "No prompt provided", "No prompt provided"));
  std::string prompt_id = body.contains("prompt_id") ? py_str(body["prompt_id"]) : uuid4();
  std::optional<std::vector<std::string>> partial;
  if (body.contains("partial_execution_targets") && body["partial_execution_targets"].is_array()) {
    partial.emplace();
    for (const auto& t : body["partial_execution_targets"]) partial->push_back(py_str(t));
  }
  Json extra = body.contains("extra_data") && body["extra_data"].is_object() ? body["extra_data"] : Json::object();
  if (body.contains("client_id")) extra["client_id"] = body["client_id"];

  auto shared_body = std::make_shared<Json>(std::move(body));
  App* a = &app;
  app.bridge->post([a, shared_body, number, prompt_id, partial, extra, resp]() {
    Json& prompt = (*shared_body)["prompt"];
    ValidationResult v;
    try {
      a->runtime->reset_defs();
      v = validate_prompt(prompt, partial, *a->runtime, a->hooks);
    } catch (const std::exception& e) {
      return resp.send(Response::error_envelope(400, "exception_during_validation", "Exception when validating node", e.what()));
    }
    if (!v.ok) return resp.send(Response::json({{"error", v.error}, {"node_errors", v.node_errors}}, 400));
    QueueItem item{number, prompt_id, std::move(prompt), extra, v.outputs};
    a->queue.put(std::move(item));
    resp.send(Response::json({{"prompt_id", prompt_id}, {"number", number}, {"node_errors", v.node_errors}}));
  });
}

void get_queue(App& app, RouteRequest&, Responder resp) {
  resp.send(Response::text(app.queue.queue_dump(), 200, "application/json; charset=utf-8"));
}

void post_queue(App& app, RouteRequest& r, Responder resp) {
  Json body;
  if (!parse_body(r, body, resp)) return;
  if (body.is_object()) {
    if (body.contains("clear") && truthy(body["clear"])) app.queue.wipe();
    if (body.contains("delete") && body["delete"].is_array())
      for (const auto& id : body["delete"]) app.queue.delete_pending(py_str(id));
  }
  resp.send(Response::empty());
}

void get_history(App& app, RouteRequest& r, Responder resp) {
  std::optional<int64_t> max_items, offset;
  if (!parse_int_param(r.req.query_value("max_items"), max_items) || !parse_int_param(r.req.query_value("offset"), offset))
    return resp.send(Response::error_envelope(400, "invalid_query", "max_items and offset must be integers", r.req.raw_query));
  resp.send(Response::text(app.queue.history_dump(max_items, offset), 200, "application/json; charset=utf-8"));
}

void get_history_item(App& app, RouteRequest& r, Responder resp) {
  resp.send(Response::json(app.queue.history_entry(r.params["prompt_id"])));
}

void post_history(App& app, RouteRequest& r, Responder resp) {
  Json body;
  if (!parse_body(r, body, resp)) return;
  if (body.is_object()) {
    if (body.contains("clear") && truthy(body["clear"])) app.queue.wipe_history();
    if (body.contains("delete") && body["delete"].is_array())
      for (const auto& id : body["delete"]) app.queue.delete_history(py_str(id));
  }
  resp.send(Response::empty());
}

void post_interrupt(App& app, RouteRequest& r, Responder resp) {
  Json body;
  if (!parse_json(r.req.body, body) || !body.is_object()) body = Json::object();
  if (body.contains("prompt_id")) {
    auto running = app.executor->current_prompt_id();
    if (running && *running == py_str(body["prompt_id"])) app.executor->set_interrupt(true);
    else std::fprintf(stderr, "Prompt %s is not currently running, skipping interrupt\n", py_str(body["prompt_id"]).c_str());
  } else {
    app.executor->set_interrupt(true);
  }
  resp.send(Response::empty());
}

void post_free(App& app, RouteRequest& r, Responder resp) {
  Json body;
  if (!parse_body(r, body, resp)) return;
  if (body.is_object()) {
    if (body.contains("unload_models")) app.queue.set_flag("unload_models", body["unload_models"]);
    if (body.contains("free_memory")) app.queue.set_flag("free_memory", body["free_memory"]);
  }
  resp.send(Response::empty());
}

void get_system_stats(App& app, RouteRequest&, Responder resp) {
  Json s = app.system_stats;
  auto [total, avail] = meminfo();
  if (s.contains("system")) {
    s["system"]["ram_total"] = total;
    s["system"]["ram_free"] = avail;
  }
  if (s.contains("devices"))
    for (auto& d : s["devices"])
      if (d.value("type", "") == "cpu") {
        d["vram_total"] = total;
        d["vram_free"] = avail;
        d["torch_vram_total"] = total;
        d["torch_vram_free"] = avail;
      }
  resp.send(Response::json(s));
}

// A route answered by Python: posted to the Python thread, answered from there.
http::RouteHandler python_route(App& app, std::string name) {
  App* a = &app;
  return [a, name](RouteRequest& r, Responder resp) {
    run_python_route(*a, name, std::make_shared<RouteRequest>(std::move(r)), std::move(resp));
  };
}
}  // namespace

void run_python_route(App& app, const std::string& name, std::shared_ptr<RouteRequest> rr, Responder resp,
                      std::function<Response(Response)> finish) {
  App* a = &app;
  app.bridge->post([a, name, rr, resp, finish] {
    Response out;
    try {
      out = a->python_route(name, *rr);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "ERROR: python route %s: %s\n", name.c_str(), e.what());
      out = Response::text("500 Internal Server Error\n\nServer got itself in trouble", 500);
    }
    resp.send(finish ? finish(std::move(out)) : std::move(out));
  });
}

Json status_payload(const App& app) {
  return {{"status", {{"exec_info", {{"queue_remaining", app.queue.remaining()}}}}}};
}

void register_routes(App& app) {
  auto& rt = *app.router;
  App* a = &app;
  auto bind = [a](void (*f)(App&, RouteRequest&, Responder)) {
    return [a, f](RouteRequest& r, Responder resp) { f(*a, r, std::move(resp)); };
  };
  rt.add("GET", "/prompt", bind(get_prompt));
  rt.add("POST", "/prompt", bind(post_prompt));
  rt.add("GET", "/queue", bind(get_queue));
  rt.add("POST", "/queue", bind(post_queue));
  rt.add("GET", "/history", bind(get_history));
  rt.add("GET", "/history/{prompt_id}", bind(get_history_item));
  rt.add("POST", "/history", bind(post_history));
  rt.add("POST", "/interrupt", bind(post_interrupt));
  rt.add("POST", "/free", bind(post_free));
  rt.add("GET", "/system_stats", bind(get_system_stats));
  rt.add("GET", "/features", [a](RouteRequest&, Responder resp) { resp.send(Response::json(a->features)); });
  for (const char* p : {"/object_info", "/object_info/{node_class}", "/embeddings", "/models", "/models/{folder}",
                        "/experiment/models", "/experiment/models/{folder}"})
    rt.add("GET", p, python_route(app, p));

  app.queue.set_listener([a] { a->hub->send_json("status", status_payload(*a), std::nullopt); });
  register_file_routes(app);
  register_frontend(app);
}

http::WsHooks make_ws_hooks(App& app) {
  App* a = &app;
  http::WsHooks h;
  h.on_open = [a](const std::shared_ptr<ws::Session>& s) {
    Json data = status_payload(*a);
    data["sid"] = s->sid;
    a->hub->send_text_to(s, ws::Hub::json_frame_text("status", data));
    if (auto node = a->executor->executing_node_for(s->sid))
      a->hub->send_text_to(s, ws::Hub::json_frame_text("executing", {{"node", *node}}));
  };
  h.on_text = [a](const std::shared_ptr<ws::Session>& s, const std::string& text) {
    Json msg;
    {
      std::lock_guard lk(s->mu);
      if (s->first_text_seen) return;
      if (!parse_json(text, msg)) {
        std::fprintf(stderr, "WARNING: invalid json in websocket message from %s\n", s->sid.c_str());
        return;
      }
      s->first_text_seen = true;
      if (!msg.is_object() || msg.value("type", Json(nullptr)) != Json("feature_flags")) return;
      if (msg.contains("data") && msg["data"].is_object()) s->feature_flags = msg["data"];
    }
    a->hub->send_text_to(s, ws::Hub::json_frame_text("feature_flags", a->features));
  };
  return h;
}

}  // namespace comfy
