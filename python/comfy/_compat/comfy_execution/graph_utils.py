"""comfy_execution.graph_utils: GraphBuilder for node expansion, link helpers, ExecutionBlocker.

Kept free of heavy imports: test clients import it to build prompts."""
import contextvars


def is_link(obj):
    """A link is a two-item list [node_id: str, output_index: int | float]."""
    return (isinstance(obj, list) and len(obj) == 2 and isinstance(obj[0], str)
            and isinstance(obj[1], (int, float)))


class GraphBuilder:
    """Builds an API-format graph for node expansion. Ids get a unique prefix
    "<root>.<call_index>.<graph_index>." taken from the executing node unless one is given."""

    # (root, call_index, next graph_index); the executor sets it before each node call.
    _default_prefix = contextvars.ContextVar("graph_builder_default_prefix", default=("", 0, 0))

    def __init__(self, prefix=None):
        self.prefix = GraphBuilder.alloc_prefix() if prefix is None else prefix
        self.nodes = {}
        self.id_gen = 1

    @classmethod
    def set_default_prefix(cls, prefix_root, call_index, graph_index=0):
        cls._default_prefix.set((prefix_root, call_index, graph_index))

    @classmethod
    def alloc_prefix(cls, root=None, call_index=None, graph_index=None):
        cur_root, cur_call, cur_graph = cls._default_prefix.get()
        prefix = "{}.{}.{}.".format(cur_root if root is None else root,
                                    cur_call if call_index is None else call_index,
                                    cur_graph if graph_index is None else graph_index)
        cls._default_prefix.set((cur_root, cur_call, cur_graph + 1))
        return prefix

    def node(self, class_type, id=None, **kwargs):
        if id is None:
            id = str(self.id_gen)
            self.id_gen += 1
        full_id = self.prefix + id
        existing = self.nodes.get(full_id)
        if existing is not None:
            return existing
        created = Node(full_id, class_type, kwargs)
        self.nodes[full_id] = created
        return created

    def lookup_node(self, id):
        return self.nodes.get(self.prefix + id)

    def finalize(self):
        return {node_id: node.serialize() for node_id, node in self.nodes.items()}

    def replace_node_output(self, node_id, index, new_value):
        """Points every input linked to output `index` of `node_id` at `new_value`
        (None removes those inputs)."""
        full_id = self.prefix + node_id
        removals = []
        for node in self.nodes.values():
            for key, value in node.inputs.items():
                if is_link(value) and value[0] == full_id and value[1] == index:
                    if new_value is None:
                        removals.append((node, key))
                    else:
                        node.inputs[key] = new_value
        for node, key in removals:
            del node.inputs[key]

    def remove_node(self, id):
        del self.nodes[self.prefix + id]


class Node:
    def __init__(self, id, class_type, inputs):
        self.id = id
        self.class_type = class_type
        self.inputs = inputs
        self.override_display_id = None

    def out(self, index):
        return [self.id, index]

    def set_input(self, key, value):
        if value is None:
            self.inputs.pop(key, None)
        else:
            self.inputs[key] = value

    def get_input(self, key):
        return self.inputs.get(key)

    def set_override_display_id(self, override_display_id):
        self.override_display_id = override_display_id

    def serialize(self):
        out = {"class_type": self.class_type, "inputs": self.inputs}
        if self.override_display_id is not None:
            out["override_display_id"] = self.override_display_id
        return out


def add_graph_prefix(graph, outputs, prefix):
    """Returns (graph with every id and internal link prefixed, outputs tuple with links prefixed)."""
    new_graph = {}
    for node_id, info in graph.items():
        inputs = {}
        for name, value in info.get("inputs", {}).items():
            inputs[name] = [prefix + value[0], value[1]] if is_link(value) else value
        new_graph[prefix + node_id] = {"class_type": info["class_type"], "inputs": inputs}
    new_outputs = tuple([prefix + o[0], o[1]] if is_link(o) else o for o in outputs)
    return new_graph, new_outputs


class ExecutionBlocker:
    """Returned instead of a value (or as the whole result): every consumer is skipped.
    With a message, the first consumer reports it as an execution error; None blocks silently."""

    def __init__(self, message):
        self.message = message
