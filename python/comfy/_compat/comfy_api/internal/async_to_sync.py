"""Synchronous twins of the async API classes (ComfyAPISync)."""
import asyncio
import concurrent.futures
import contextvars
import functools
import inspect
import threading

from .singleton import ProxiedSingleton

_pool = None
_pool_lock = threading.Lock()
_local = threading.local()
_sync_classes = {}


def _thread_pool():
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = concurrent.futures.ThreadPoolExecutor(thread_name_prefix="async_to_sync_")
        return _pool


def run_coroutine_sync(coro_func, *args, **kwargs):
    """Runs `await coro_func(*args, **kwargs)` to completion from synchronous code. On a thread
    without a running loop it runs right here (the caller's context variables stay visible);
    otherwise on a worker thread with a copy of the caller's context."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        loop = getattr(_local, "loop", None)
        if loop is None or loop.is_closed():
            loop = _local.loop = asyncio.new_event_loop()
        return loop.run_until_complete(coro_func(*args, **kwargs))
    context = contextvars.copy_context()

    def in_thread():
        return context.run(asyncio.run, coro_func(*args, **kwargs))
    return _thread_pool().submit(in_thread).result()


def _wrap_instance(instance):
    sync_cls = create_sync_class(type(instance))
    wrapper = object.__new__(sync_cls)
    wrapper._async_instance = instance
    for name, value in vars(instance).items():
        if isinstance(value, ProxiedSingleton):
            setattr(wrapper, name, _wrap_instance(value))
    return wrapper


def create_sync_class(async_class, thread_pool_size=10):
    """A class whose instances wrap an instance of `async_class`: coroutine methods become
    blocking calls, other public methods are forwarded, nested API groups are wrapped too."""
    cached = _sync_classes.get(async_class)
    if cached is not None:
        return cached

    def __init__(self, *args, **kwargs):
        self._async_instance = async_class(*args, **kwargs)
        for name, value in vars(self._async_instance).items():
            if isinstance(value, ProxiedSingleton):
                setattr(self, name, _wrap_instance(value))

    namespace = {
        "__init__": __init__,
        "__doc__": async_class.__doc__,
        "__module__": async_class.__module__,
        "__qualname__": "ComfyAPISyncStub",
        "__orig_class__": async_class,
    }
    for name, method in inspect.getmembers(async_class, predicate=inspect.isfunction):
        if name.startswith("_"):
            continue
        if inspect.iscoroutinefunction(method):
            def sync_method(self, *args, _name=name, **kwargs):
                return run_coroutine_sync(getattr(self._async_instance, _name), *args, **kwargs)
        else:
            def sync_method(self, *args, _name=name, **kwargs):
                return getattr(self._async_instance, _name)(*args, **kwargs)
        namespace[name] = functools.wraps(method)(sync_method)
    sync_cls = type("ComfyAPISyncStub", (object,), namespace)
    _sync_classes[async_class] = sync_cls
    return sync_cls
