"""comfy_execution.utils: the executing-node context (prompt id, node id, list index)."""
import contextvars
from typing import NamedTuple, Optional


class ExecutionContext(NamedTuple):
    prompt_id: str
    node_id: str
    list_index: Optional[int]


current_executing_context = contextvars.ContextVar("current_executing_context", default=None)


def _runtime_context():
    try:
        from comfy import _runtime
    except ImportError:
        return None
    getter = getattr(_runtime, "executing_context", None)
    if getter is not None:
        ctx = getter()
        if ctx is None:
            return None
        if isinstance(ctx, ExecutionContext):
            return ctx
        prompt_id, node_id, list_index = tuple(ctx)[:3]
        return ExecutionContext(prompt_id, node_id, list_index)
    # Older runtime: only the executing node id is known.
    executing = getattr(_runtime, "executing_node", None)
    node_id = executing() if executing is not None else None
    if node_id is None:
        return None
    prompt_id = getattr(_runtime, "_ctx", {}).get("prompt_id")
    return ExecutionContext(prompt_id, node_id, None)


def get_executing_context():
    """The context of the node call running now, or None outside node execution."""
    ctx = current_executing_context.get(None)
    if ctx is not None:
        return ctx
    return _runtime_context()


class CurrentNodeContext:
    """Context manager that sets the executing context for the code inside it."""

    def __init__(self, prompt_id, node_id, list_index=None):
        self.context = ExecutionContext(prompt_id=prompt_id, node_id=node_id, list_index=list_index)
        self.token = None

    def __enter__(self):
        self.token = current_executing_context.set(self.context)
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        if self.token is not None:
            current_executing_context.reset(self.token)
