"""Versioned ComfyAPI classes and their registry."""
import re
from typing import NamedTuple

from .singleton import ProxiedSingleton


class ComfyAPIBase(ProxiedSingleton):
    """Base of every versioned API object. Annotated nested API groups (`execution: Execution`)
    are created as attributes of the instance."""

    def __init__(self):
        super().__init__()
        seen = set()
        for klass in type(self).__mro__:
            for name, annotation in getattr(klass, "__annotations__", {}).items():
                if name in seen or name in self.__dict__:
                    continue
                seen.add(name)
                group = annotation if isinstance(annotation, type) else getattr(type(self), str(annotation), None)
                if isinstance(group, type) and issubclass(group, ProxiedSingleton):
                    setattr(self, name, group.get_instance())


class ComfyAPIWithVersion(NamedTuple):
    version: str
    api_class: type


def parse_version(version_str):
    """"latest" sorts after every numbered version."""
    if version_str == "latest":
        return (9999999, 9999999, 9999999)
    return tuple(int(p) if p.isdigit() else 0 for p in re.split(r"[.\-+]", version_str))


registered_versions = []


def register_versions(versions):
    global registered_versions
    versions.sort(key=lambda v: parse_version(v.version))
    registered_versions = versions


def get_all_versions():
    return registered_versions
