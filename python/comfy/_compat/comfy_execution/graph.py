"""comfy_execution.graph: the prompt as the executor sees it (DynamicPrompt), input lookup,
and the errors the scheduler raises. ExecutionBlocker is re-exported from graph_utils."""
from __future__ import annotations

from .graph_utils import ExecutionBlocker, is_link  # noqa: F401  (re-exported names)

ExecutionBlocker = ExecutionBlocker


class DependencyCycleError(Exception):
    pass


class NodeInputError(Exception):
    pass


class NodeNotFoundError(Exception):
    pass


class DynamicPrompt:
    """The user's prompt plus the ephemeral nodes that node expansion adds while it runs.
    Ephemeral nodes remember their parent (the expanding node) and their display id."""

    def __init__(self, original_prompt):
        self.original_prompt = original_prompt
        self.ephemeral_prompt = {}
        self.ephemeral_parents = {}
        self.ephemeral_display = {}

    def get_node(self, node_id):
        if node_id in self.ephemeral_prompt:
            return self.ephemeral_prompt[node_id]
        if node_id in self.original_prompt:
            return self.original_prompt[node_id]
        raise NodeNotFoundError(f"Node {node_id} not found")

    def has_node(self, node_id):
        return node_id in self.original_prompt or node_id in self.ephemeral_prompt

    def add_ephemeral_node(self, node_id, node_info, parent_id, display_id):
        self.ephemeral_prompt[node_id] = node_info
        self.ephemeral_parents[node_id] = parent_id
        self.ephemeral_display[node_id] = display_id

    def get_real_node_id(self, node_id):
        """The id of the original-prompt node this (possibly nested) ephemeral node came from."""
        while node_id in self.ephemeral_parents:
            node_id = self.ephemeral_parents[node_id]
        return node_id

    def get_parent_node_id(self, node_id):
        return self.ephemeral_parents.get(node_id, None)

    def get_display_node_id(self, node_id):
        while node_id in self.ephemeral_display:
            node_id = self.ephemeral_display[node_id]
        return node_id

    def all_node_ids(self):
        return set(self.original_prompt.keys()) | set(self.ephemeral_prompt.keys())

    def get_original_prompt(self):
        return self.original_prompt


def get_input_info(class_def, input_name, valid_inputs=None):
    """-> (input type, "required" | "optional" | "hidden", option dict), or (None, None, None)
    when the class does not declare `input_name`."""
    valid_inputs = valid_inputs or class_def.INPUT_TYPES()
    for category in ("required", "optional", "hidden"):
        section = valid_inputs.get(category)
        if section is not None and input_name in section:
            info = section[input_name]
            break
    else:
        return None, None, None
    if info is None:
        return None, None, None
    extra = info[1] if len(info) > 1 else {}
    return info[0], category, extra


__all__ = [
    "ExecutionBlocker", "DependencyCycleError", "NodeInputError", "NodeNotFoundError",
    "DynamicPrompt", "get_input_info",
]
