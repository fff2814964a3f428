"""A V3 node pack (comfy_api.latest): loaded through comfy_entrypoint, with hidden inputs,
validate_inputs, fingerprint_inputs, UI output and block_execution."""
from comfy_api.latest import ComfyExtension, io, ui


class V3Scale(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return io.Schema(
            node_id="V3Scale",
            display_name="V3 Scale",
            category="v3test",
            description="Multiplies an integer.",
            inputs=[io.Int.Input("value", default=1, min=0, max=1000), io.Float.Input("factor", default=2.0),
                    io.Boolean.Input("block", default=False, optional=True)],
            outputs=[io.Int.Output(display_name="scaled")],
            hidden=[io.Hidden.unique_id],
        )

    @classmethod
    def validate_inputs(cls, value, factor, block=False):
        if factor < 0:
            return "factor must not be negative"
        return True

    @classmethod
    def execute(cls, value, factor, block=False):
        if block:
            return io.NodeOutput(block_execution="v3 blocked")
        return io.NodeOutput(int(value * factor))


class V3Show(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return io.Schema(
            node_id="V3Show",
            display_name="V3 Show",
            category="v3test",
            inputs=[io.Int.Input("value", force_input=True)],
            outputs=[],
            hidden=[io.Hidden.unique_id, io.Hidden.prompt],
            is_output_node=True,
        )

    @classmethod
    def execute(cls, value):
        return io.NodeOutput(ui=ui.PreviewText(f"{value}@{cls.hidden.unique_id}"))


class V3Extension(ComfyExtension):
    async def get_node_list(self):
        return [V3Scale, V3Show]


async def comfy_entrypoint():
    return V3Extension()
