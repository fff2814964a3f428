"""comfy.model_base as custom nodes import it: the ModelType enum and the model classes packs
subclass or test with isinstance (`isinstance(model.model, comfy.model_base.SDXL)`). Building a
model needs ComfyUI's model library, which this server does not include yet."""
import enum

from comfy._missing import MissingModelLibraryMixin, unavailable


class ModelType(enum.Enum):
    EPS = 1
    V_PREDICTION = 2
    V_PREDICTION_EDM = 3
    STABLE_CASCADE = 4
    EDM = 5
    FLOW = 6
    V_PREDICTION_CONTINUOUS = 7
    FLUX = 8
    IMG_TO_IMG = 9
    FLOW_COSMOS = 10


model_sampling = unavailable("comfy.model_base.model_sampling")


class BaseModel(MissingModelLibraryMixin):
    """The diffusion model wrapper every architecture derives from (needs the model library)."""


class SD21UNCLIP(BaseModel):
    pass


class SD15_instructpix2pix(BaseModel):
    pass


class SDXLRefiner(BaseModel):
    pass


class SDXL(BaseModel):
    pass


class SDXL_instructpix2pix(SDXL):
    pass


class SVD_img2vid(BaseModel):
    pass


class SV3D_u(SVD_img2vid):
    pass


class SV3D_p(SVD_img2vid):
    pass


class Stable_Zero123(BaseModel):
    pass


class SD_X4Upscaler(BaseModel):
    pass


class IP2P:
    pass


class StableCascade_C(BaseModel):
    pass


class StableCascade_B(BaseModel):
    pass


class SD3(BaseModel):
    pass


class AuraFlow(BaseModel):
    pass


class StableAudio1(BaseModel):
    pass


class HunyuanDiT(BaseModel):
    pass


class PixArt(BaseModel):
    pass


class Flux(BaseModel):
    pass


class GenmoMochi(BaseModel):
    pass


class LTXV(BaseModel):
    pass


class HunyuanVideo(BaseModel):
    pass


class HunyuanVideoI2V(HunyuanVideo):
    pass


class HunyuanVideoSkyreelsI2V(HunyuanVideo):
    pass


class CosmosVideo(BaseModel):
    pass


class CosmosPredict2(BaseModel):
    pass


class Lumina2(BaseModel):
    pass


class WAN21(BaseModel):
    pass


class WAN21_Vace(WAN21):
    pass


class WAN21_Camera(WAN21):
    pass


class WAN22(WAN21):
    pass


class WAN22_S2V(WAN21):
    pass


class WAN21_HuMo(WAN21):
    pass


class WAN22_Animate(WAN21):
    pass


class Hunyuan3Dv2(BaseModel):
    pass


class HiDream(BaseModel):
    pass


class Chroma(Flux):
    pass


class ChromaRadiance(Chroma):
    pass


class ACEStep(BaseModel):
    pass


class Omnigen2(BaseModel):
    pass


class QwenImage(BaseModel):
    pass


class HunyuanImage21(BaseModel):
    pass


class HunyuanImage21Refiner(BaseModel):
    pass
