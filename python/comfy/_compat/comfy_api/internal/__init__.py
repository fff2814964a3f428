"""comfy_api.internal: helpers shared by the V3 API versions, and what the executor uses to
recognise and describe V3 nodes (is_v3, node_info_v1)."""
import asyncio
import inspect
from dataclasses import asdict

from .api_registry import (  # noqa: F401  (re-exported names)
    ComfyAPIBase as ComfyAPIBase,
    ComfyAPIWithVersion as ComfyAPIWithVersion,
    get_all_versions as get_all_versions,
    register_versions as register_versions,
)


def first_real_override(cls, name, *, base=None):
    """The attribute `name` as seen on `cls` if some class between `cls` and `base` (default:
    cls.GET_BASE_CLASS()) defines it with a function other than `base`'s placeholder; else None."""
    if base is None:
        if not hasattr(cls, "GET_BASE_CLASS"):
            raise ValueError("base is required if cls does not have a GET_BASE_CLASS; "
                             "is this a valid ComfyNode subclass?")
        base = cls.GET_BASE_CLASS()
    placeholder = getattr(base, name, None)
    if placeholder is None:
        return None
    placeholder = getattr(placeholder, "__func__", placeholder)
    for klass in cls.__mro__:
        if klass is base:
            break
        if name in klass.__dict__:
            found = getattr(klass, name)
            if getattr(found, "__func__", found) is not placeholder:
                return getattr(cls, name)
    return None


class _ComfyNodeInternal:
    """Base of every V3 node class (what the executor tests with issubclass)."""

    @classmethod
    def GET_NODE_INFO_V1(cls):
        ...


class _NodeOutputInternal:
    """Base of every V3 node output class."""


def is_v3(cls):
    """True for V3 node classes (io.ComfyNode subclasses)."""
    return isinstance(cls, type) and issubclass(cls, _ComfyNodeInternal)


def node_info_v1(cls, display_names=None):
    """ComfyUI's /object_info entry of a V3 node: dataclasses.asdict(NodeInfoV1) of its schema,
    every key present (nulls included). As in ComfyUI the name and display name come from the
    schema, so `display_names` (NODE_DISPLAY_NAME_MAPPINGS) is not consulted."""
    return cls.GET_NODE_INFO_V1()


def as_pruned_dict(dataclass_obj):
    return prune_dict(asdict(dataclass_obj))


def prune_dict(d):
    """`d` without the None values."""
    return {k: v for k, v in d.items() if v is not None}


def is_class(obj):
    """True for a class, False for an instance."""
    return isinstance(obj, type)


def copy_class(cls):
    """A subclass of `cls` carrying a copy of its attributes (so the copy can be changed freely)."""
    if cls is None:
        return None
    namespace = {k: v for k, v in cls.__dict__.items()
                 if k not in ("__dict__", "__weakref__", "__module__", "__doc__")}
    new_cls = type(cls.__name__, (cls,), namespace)
    new_cls.__module__ = cls.__module__
    new_cls.__doc__ = cls.__doc__
    return new_cls


class classproperty(object):
    """A read-only property evaluated on the class."""

    def __init__(self, f):
        self.f = f

    def __get__(self, obj, owner):
        return self.f(owner)


def shallow_clone_class(cls, new_name=None):
    """A throwaway subclass of `cls`: attributes set on it do not reach `cls`."""
    return type(new_name or f"{cls.__name__}Clone", (cls,),
                {"__module__": cls.__module__, "__doc__": cls.__doc__,
                 "__qualname__": cls.__qualname__})


_locked_metas = {}


def _locked_meta(meta):
    locked = _locked_metas.get(meta)
    if locked is None:
        def __setattr__(cls_, name, value):
            if name in ("__abstractmethods__", "_abc_impl"):  # ABCMeta initialising the class
                return meta.__setattr__(cls_, name, value)
            raise AttributeError(f"Cannot modify class attribute '{name}' on locked class '{cls_.__name__}'")
        locked = _locked_metas[meta] = type("LockedMeta", (meta,), {"__setattr__": __setattr__})
    return locked


def _locked_instance_setattr(self, name, value):
    raise AttributeError(f"Cannot set attribute '{name}' on immutable instance of {type(self).__name__}")


def lock_class(cls):
    """A subclass of `cls` whose class attributes cannot be assigned."""
    return _locked_meta(type(cls))(cls.__name__, (cls,), {
        "__setattr__": _locked_instance_setattr, "__module__": cls.__module__,
        "__qualname__": cls.__qualname__, "__doc__": cls.__doc__})


def make_locked_method_func(type_obj, func, class_clone):
    """A function calling the classmethod `func` of `type_obj` with a locked `class_clone` as cls."""
    locked = lock_class(class_clone)
    method = getattr(type_obj, func).__func__
    if asyncio.iscoroutinefunction(method) or inspect.iscoroutinefunction(method):
        async def wrapped_async_func(**inputs):
            return await method(locked, **inputs)
        return wrapped_async_func

    def wrapped_func(**inputs):
        return method(locked, **inputs)
    return wrapped_func


def _hidden_kwarg_names():
    from comfy_api.latest._io import HIDDEN_KWARGS
    return frozenset(HIDDEN_KWARGS.values())


def __getattr__(name):
    # V3_HIDDEN_KWARGS: the keyword names under which V3 classes declare hidden inputs in
    # INPUT_TYPES (executor-facing view); resolved lazily to avoid an import cycle.
    if name == "V3_HIDDEN_KWARGS":
        return _hidden_kwarg_names()
    raise AttributeError(name)
