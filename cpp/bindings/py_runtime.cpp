#include "bindings/py_runtime.h"

#include "bindings/pyconv.h"

#include <cstring>
#include "queue/prompt_queue.h"

namespace comfy::py {
namespace {
// Outputs of a Python node: a list (per slot) of lists (per call). Dropped under the GIL.
struct PyOutputs : OutputHandle {
  pyb::object lists;
  explicit PyOutputs(pyb::object o) : lists(std::move(o)) {}
  ~PyOutputs() override {
    pyb::gil_scoped_acquire gil;
    lists = pyb::object();
  }
};

PyError to_pyerror(pyb::error_already_set& e) {
  std::string type = pyb::cast<std::string>(e.type().attr("__name__"));
  auto mod = pyb::getattr(e.type(), "__module__", pyb::none());
  if (!mod.is_none() && pyb::cast<std::string>(mod) != "builtins") type = pyb::cast<std::string>(mod) + "." + type;
  Json tb = Json::array();
  try {
    auto traceback = pyb::module_::import("traceback");
    tb = to_json(traceback.attr("format_tb")(e.trace()));
  } catch (...) {
  }
  std::string msg = pyb::cast<std::string>(pyb::str(e.value()));
  return PyError(type, msg, tb);
}
}  // namespace

PythonRuntime::PythonRuntime(pyb::object helpers) : helpers_(std::move(helpers)) {}

PythonRuntime::~PythonRuntime() {
  pyb::gil_scoped_acquire gil;  // every Python object this runtime holds goes while it is held
  described_.clear();
  fast_.clear();
  objects_ = pyb::object();
  executing_var_ = pyb::object();
  prefix_var_ = pyb::object();
  helpers_ = pyb::object();
}

void PythonRuntime::thread_started() {
  gil_state_ = PyGILState_Ensure();
  thread_state_ = PyEval_SaveThread();
}

void PythonRuntime::thread_stopping() {
  PyEval_RestoreThread(thread_state_);
  PyGILState_Release(gil_state_);
}

void PythonRuntime::reset_defs() {
  std::lock_guard lk(mu_);
  defs_.clear();
}

std::shared_ptr<NodeDef> PythonRuntime::describe(const std::string& class_type) {
  pyb::gil_scoped_acquire gil;
  pyb::object d;
  try {
    d = helpers_.attr("describe")(class_type);
  } catch (pyb::error_already_set& e) {
    throw to_pyerror(e);
  }
  if (d.is_none()) return nullptr;
  // The same description object as last time (INPUT_TYPES answered the same): the same definition.
  auto last = described_.find(class_type);
  if (last != described_.end() && last->second.first.is(d)) return last->second.second;
  Json j = to_json(d);
  auto def = std::make_shared<NodeDef>();
  def->class_type = class_type;
  for (const auto& in : j["inputs"]) {
    InputSpec s;
    s.name = in["name"];
    s.category = in["category"];
    s.type = in["type"];
    s.options = in["options"];
    s.lazy = in["lazy"];
    s.raw_link = in["raw_link"];
    s.custom_type = in["custom_type"];
    def->inputs.push_back(std::move(s));
  }
  for (const auto& t : j["return_types"]) def->return_types.push_back(t);
  for (const auto& t : j["return_custom"]) def->return_custom.push_back(t.get<bool>());
  for (const auto& t : j["output_is_list"]) def->output_is_list.push_back(t.get<bool>());
  def->output_node = j["output_node"];
  def->input_is_list = j["input_is_list"];
  def->has_validate = j["has_validate"];
  for (const auto& p : j["validate_params"]) def->validate_params.push_back(p);
  def->validate_kwargs = j["validate_kwargs"];
  def->has_is_changed = j["has_is_changed"];
  def->not_idempotent = j["not_idempotent"];
  def->has_unique_id = j["has_unique_id"];
  def->has_check_lazy = j.value("has_check_lazy", false);
  def->is_async = j.value("is_async", false);
  described_[class_type] = {d, def};
  return def;
}

std::shared_ptr<const NodeDef> PythonRuntime::get(const std::string& class_type) {
  {
    std::lock_guard lk(mu_);
    auto it = defs_.find(class_type);
    if (it != defs_.end()) return it->second;
  }
  auto d = describe(class_type);
  std::lock_guard lk(mu_);
  defs_[class_type] = d;
  return d;
}

void PythonRuntime::begin_prompt(const QueueItem& item) {
  reset_defs();
  pyb::gil_scoped_acquire gil;
  // The prompt is converted to Python only if a node asks for it (the item outlives the prompt's
  // run; end_prompt drops the loader).
  const Json* prompt = &item.prompt;
  pyb::cpp_function loader([prompt]() { return to_py(*prompt); });
  helpers_.attr("begin_prompt")(item.prompt_id, loader, to_py(item.extra_data));
}

void PythonRuntime::end_prompt() {
  pyb::gil_scoped_acquire gil;
  helpers_.attr("end_prompt")();
}

pyb::dict PythonRuntime::build_inputs(const NodeCall& call, pyb::list* missing) {
  pyb::dict d;
  for (const auto& [name, arg] : call.inputs) {
    if (arg.constant && !call.def->find_input(name)) continue;  // undeclared constants are dropped
    if (arg.constant) {
      pyb::list l;
      l.append(to_py(*arg.constant));
      d[pyb::str(name)] = l;
    } else if (arg.source) {
      auto* o = static_cast<PyOutputs*>(arg.source.get());
      pyb::list lists = o->lists;
      if (arg.slot >= 0 && static_cast<size_t>(arg.slot) < lists.size()) d[pyb::str(name)] = lists[arg.slot];
      else d[pyb::str(name)] = pyb::make_tuple(pyb::none());
    } else {
      d[pyb::str(name)] = pyb::make_tuple(pyb::none());
      if (missing && arg.missing) missing->append(name);
    }
  }
  return d;
}

Json PythonRuntime::is_changed(const NodeCall& call, bool record) {
  pyb::gil_scoped_acquire gil;
  pyb::dict inputs;
  for (const auto& [name, arg] : call.inputs) {
    bool link = arg.constant && arg.constant->is_array() && arg.constant->size() == 2 && (*arg.constant)[0].is_string();
    if (!link && !call.def->find_input(name)) continue;
    pyb::list l;
    l.append(arg.constant && !(arg.constant->is_array() && arg.constant->size() == 2 && (*arg.constant)[0].is_string())
                 ? to_py(*arg.constant)
                 : pyb::none());
    inputs[pyb::str(name)] = l;
  }
  return to_json(helpers_.attr("is_changed")(call.node_id, call.class_type, inputs, record));
}

const PythonRuntime::FastClass& PythonRuntime::fast_class(const std::string& class_type,
                                                          const std::shared_ptr<const NodeDef>& def) {
  auto it = fast_.find(class_type);
  if (it != fast_.end() && it->second.def == def) return it->second;
  FastClass fc;
  fc.def = def;
  pyb::object info = helpers_.attr("fast_class")(class_type);
  if (!info.is_none()) {
    pyb::tuple t = info;
    fc.ok = true;
    fc.cls = t[0];
    fc.function = t[1];
    fc.outputs = pyb::cast<size_t>(t[2]);
  }
  if (!objects_) {
    objects_ = helpers_.attr("_objects");
    executing_var_ = helpers_.attr("_executing");
    prefix_var_ = helpers_.attr("_graph_prefix_var")();
  }
  return fast_.insert_or_assign(class_type, std::move(fc)).first->second;
}

static bool is_blocker(PyObject* v) { return std::strcmp(Py_TYPE(v)->tp_name, "ExecutionBlocker") == 0; }

// An input value the fast path can pass as is: not an ExecutionBlocker and not a stand-in for a
// Python object of an expansion graph ({"__py_ref__": n}).
static bool plain_value(PyObject* v) {
  if (PyDict_CheckExact(v)) return PyDict_GetItemString(v, "__py_ref__") == nullptr;
  if (v == Py_None || PyLong_CheckExact(v) || PyFloat_CheckExact(v) || PyUnicode_CheckExact(v) || PyBool_Check(v) ||
      PyList_CheckExact(v) || PyTuple_CheckExact(v))
    return true;
  return !is_blocker(v);
}

std::optional<NodeResult> PythonRuntime::fast_execute(const NodeCall& call) {
  const FastClass& fc = fast_class(call.class_type, call.def);
  if (!fc.ok) return std::nullopt;
  pyb::dict kwargs;
  for (const auto& [name, arg] : call.inputs) {
    pyb::object v;
    if (arg.constant) {
      if (!call.def->find_input(name)) continue;  // undeclared constants are dropped
      v = to_py(*arg.constant);
    } else if (arg.source) {
      pyb::list lists = static_cast<PyOutputs*>(arg.source.get())->lists;
      if (arg.slot < 0 || static_cast<size_t>(arg.slot) >= lists.size()) return std::nullopt;
      PyObject* l = PyList_GET_ITEM(lists.ptr(), arg.slot);
      if (!PyList_CheckExact(l) || PyList_GET_SIZE(l) != 1) return std::nullopt;
      v = pyb::reinterpret_borrow<pyb::object>(PyList_GET_ITEM(l, 0));
    } else {
      v = pyb::none();  // a lazy input not evaluated
    }
    if (!plain_value(v.ptr())) return std::nullopt;
    kwargs[pyb::str(name)] = v;
  }
  pyb::tuple key = pyb::make_tuple(call.node_id, call.class_type);
  PyObject* found = PyDict_GetItemWithError(objects_.ptr(), key.ptr());
  pyb::object obj;
  if (found) {
    obj = pyb::reinterpret_borrow<pyb::object>(found);
  } else {
    try {  // a constructor that raises is the node's error, reported like any other
      obj = helpers_.attr("_instance")(call.node_id, call.class_type, fc.cls);
    } catch (pyb::error_already_set& err) {
      return parse_result(helpers_.attr("fast_error")(err.value(), err.trace(), kwargs));
    }
  }
  // ComfyUI's per-call context: the executing node (a context variable, reset after the call)
  // and GraphBuilder's default id prefix (left set, as set_default_prefix leaves it).
  pyb::object ctx = pyb::make_tuple(call.node_id, 0);
  PyObject* token = PyContextVar_Set(executing_var_.ptr(), ctx.ptr());
  if (!token) throw pyb::error_already_set();
  pyb::object prefix = pyb::make_tuple(call.node_id, 0, 0);
  Py_XDECREF(PyContextVar_Set(prefix_var_.ptr(), prefix.ptr()));
  PyObject* fn = PyObject_GetAttr(obj.ptr(), fc.function.ptr());
  PyObject* res = fn ? PyObject_Call(fn, pyb::tuple().ptr(), kwargs.ptr()) : nullptr;
  Py_XDECREF(fn);
  if (!res) {
    pyb::error_already_set err;  // fetches the exception
    PyContextVar_Reset(executing_var_.ptr(), token);
    Py_DECREF(token);
    return parse_result(helpers_.attr("fast_error")(err.value(), err.trace(), kwargs));
  }
  PyContextVar_Reset(executing_var_.ptr(), token);
  Py_DECREF(token);
  pyb::object result = pyb::reinterpret_steal<pyb::object>(res);
  bool plain = PyTuple_CheckExact(res) && static_cast<size_t>(PyTuple_GET_SIZE(res)) == fc.outputs;
  for (Py_ssize_t i = 0; plain && i < PyTuple_GET_SIZE(res); ++i) {
    PyObject* x = PyTuple_GET_ITEM(res, i);
    plain = !is_blocker(x);
  }
  if (!plain)  // UI dicts, expansions, blockers, NodeOutput: the general merge
    return parse_result(helpers_.attr("fast_finish")(call.node_id, fc.cls, result, kwargs));
  pyb::list outputs(fc.outputs);
  for (size_t i = 0; i < fc.outputs; ++i) {
    pyb::list one(1);
    PyObject* x = PyTuple_GET_ITEM(res, i);
    Py_INCREF(x);
    PyList_SET_ITEM(one.ptr(), 0, x);
    PyList_SET_ITEM(outputs.ptr(), i, one.release().ptr());
  }
  NodeResult r;
  r.outputs = std::make_shared<PyOutputs>(std::move(outputs));
  return r;
}

NodeResult PythonRuntime::execute(const NodeCall& call) {
  note_instance(call.node_id);
  pyb::gil_scoped_acquire gil;
  if (auto fast = fast_execute(call)) return std::move(*fast);
  return parse_result(helpers_.attr("execute")(call.node_id, call.class_type, build_inputs(call)));
}

NodeResult PythonRuntime::parse_result(const pyb::tuple& res) {
  NodeResult r;
  std::string kind = pyb::cast<std::string>(res[0]);
  if (res.size() > 3)
    for (auto m : res[3]) r.block_messages.push_back(pyb::cast<std::string>(pyb::str(m)));
  if (kind == "ok") {
    r.kind = NodeResult::Ok;
    r.outputs = std::make_shared<PyOutputs>(pyb::reinterpret_borrow<pyb::object>(res[1]));
    r.ui = to_json(res[2]);
  } else if (kind == "expand") {
    r.kind = NodeResult::Ok;
    r.expand = true;
    r.new_nodes = to_json(res[1]);
    r.ui = to_json(res[2]);
    for (auto link : res[4]) {
      pyb::sequence l = pyb::reinterpret_borrow<pyb::sequence>(link);
      r.expand_links.emplace_back(pyb::cast<std::string>(l[0]), pyb::cast<int>(l[1]));
    }
  } else if (kind == "interrupted") {
    r.kind = NodeResult::Interrupted;
  } else if (kind == "pending") {
    r.kind = NodeResult::Pending;
  } else {
    r.kind = NodeResult::Error;
    r.error = to_json(res[1]);
  }
  return r;
}

std::vector<std::string> PythonRuntime::wait_async(double timeout_s) {
  pyb::gil_scoped_acquire gil;
  std::vector<std::string> done;
  for (auto id : helpers_.attr("wait_async")(timeout_s)) done.push_back(pyb::cast<std::string>(id));
  return done;
}

LazyCheck PythonRuntime::check_lazy(const NodeCall& call) {
  pyb::gil_scoped_acquire gil;
  LazyCheck lc;
  pyb::list missing;
  pyb::dict inputs = build_inputs(call, &missing);
  note_instance(call.node_id);
  pyb::tuple res = helpers_.attr("check_lazy")(call.node_id, call.class_type, inputs, missing);
  std::string kind = pyb::cast<std::string>(res[0]);
  if (kind == "ok") {
    for (auto n : res[1]) lc.needed.push_back(pyb::cast<std::string>(n));
  } else if (kind == "interrupted") {
    lc.kind = NodeResult::Interrupted;
  } else {
    lc.kind = NodeResult::Error;
    lc.error = to_json(res[1]);
  }
  return lc;
}

NodeResult PythonRuntime::resolve_expansion(
    const NodeCall& call, const std::unordered_map<std::string, std::shared_ptr<OutputHandle>>& sources) {
  pyb::gil_scoped_acquire gil;
  pyb::dict srcs;
  for (const auto& [id, h] : sources) srcs[pyb::str(id)] = static_cast<PyOutputs*>(h.get())->lists;
  pyb::tuple res = helpers_.attr("resolve_expansion")(call.node_id, call.class_type, srcs);
  NodeResult r;
  if (pyb::cast<std::string>(res[0]) == "ok") {
    r.outputs = std::make_shared<PyOutputs>(pyb::reinterpret_borrow<pyb::object>(res[1]));
  } else {
    r.kind = NodeResult::Error;
    r.error = to_json(res[1]);
  }
  return r;
}

void PythonRuntime::retain_objects(const std::shared_ptr<const ObjectList>& keep) {
  // A re-queued prompt keeps the same (id, class) pairs: nothing to drop, no Python call. Any
  // node created since (an expansion's) is dropped by the next differing call, as before.
  if (last_kept_ && !objects_changed_ && (keep == last_kept_ || *keep == *last_kept_)) return;
  last_kept_ = keep;
  kept_ids_.clear();
  for (const auto& [id, _] : *keep) kept_ids_.insert(id);
  objects_changed_ = false;
  pyb::gil_scoped_acquire gil;
  pyb::list l;
  for (const auto& [id, ct] : *keep) l.append(pyb::make_tuple(id, ct));
  helpers_.attr("retain_objects")(l);
}

void PythonRuntime::clear_objects() {
  last_kept_.reset();
  kept_ids_.clear();
  pyb::gil_scoped_acquire gil;
  helpers_.attr("clear_objects")();
}

bool PythonRuntime::types_match(const NodeDef& src, size_t slot, const NodeDef& dst, const InputSpec& in) {
  pyb::gil_scoped_acquire gil;
  try {
    return pyb::cast<bool>(helpers_.attr("types_match")(src.class_type, slot, dst.class_type, in.name));
  } catch (pyb::error_already_set& e) {
    throw to_pyerror(e);
  }
}

std::vector<Json> PythonRuntime::call_validate(const NodeDef& def, const std::string& node_id, const Json& inputs,
                                               const Json& received_types) {
  pyb::gil_scoped_acquire gil;
  try {
    Json res = to_json(helpers_.attr("validate")(node_id, def.class_type, to_py(inputs), to_py(received_types)));
    return std::vector<Json>(res.begin(), res.end());
  } catch (pyb::error_already_set& e) {
    throw to_pyerror(e);
  }
}

}  // namespace comfy::py
