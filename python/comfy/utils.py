"""comfy.utils: ProgressBar and its global hook (spec section 6.9), plus small helpers packs use."""
import io

PROGRESS_BAR_ENABLED = True
PROGRESS_BAR_HOOK = None


def set_progress_bar_enabled(enabled):
    global PROGRESS_BAR_ENABLED
    PROGRESS_BAR_ENABLED = enabled


def set_progress_bar_global_hook(function):
    global PROGRESS_BAR_HOOK
    PROGRESS_BAR_HOOK = function


class ProgressBar:
    def __init__(self, total, node_id=None):
        self.total = total
        self.current = 0
        self.hook = PROGRESS_BAR_HOOK
        self.node_id = node_id

    def update_absolute(self, value, total=None, preview=None):
        if total is not None:
            self.total = total
        if value > self.total:
            value = self.total
        self.current = value
        if self.hook is not None:
            self.hook(self.current, self.total, preview, node_id=self.node_id)

    def update(self, value):
        self.update_absolute(self.current + value)


def encode_preview(preview):
    """(format, PIL image, max_size) -> (1 JPEG | 2 PNG, bytes), as ComfyUI's preview encoder."""
    from PIL import Image, ImageOps
    image_type, image, max_size = preview
    if max_size is not None:
        image = ImageOps.contain(image, (max_size, max_size), Image.Resampling.BILINEAR)
    buf = io.BytesIO()
    if image_type == "PNG":
        image.save(buf, format="PNG", compress_level=1)
        return 2, buf.getvalue()
    image.convert("RGB").save(buf, format="JPEG", quality=95)
    return 1, buf.getvalue()


def _native_hook(value, total, preview_image, prompt_id=None, node_id=None):
    """The server's global progress hook: interrupts, then progress_state/progress/preview."""
    from comfy import _core, _runtime, model_management
    if node_id is None:
        node_id = _runtime.executing_node()
    model_management.throw_exception_if_processing_interrupted()
    fmt, data = (0, b"") if preview_image is None else encode_preview(preview_image)
    _core.report_progress(node_id, value, total, fmt, data)


def install_native_hook():
    set_progress_bar_global_hook(_native_hook)
