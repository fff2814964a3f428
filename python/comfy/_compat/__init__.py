"""Modules registered under ComfyUI's top-level names (sys.modules['folder_paths'], ...)
by the app, so custom node packs can import them as they do in ComfyUI."""
