"""The models a classifier runs: the image model and (optionally) the NSFW model and the face
detector."""

from __future__ import annotations

from dataclasses import dataclass

from .adapters.faces import MtcnnFaceDetector
from .adapters.head_weights import packaged_heads
from .adapters.nsfw import OpenNsfw
from .adapters.torch_model import MobileNetV2, resolve_device
from .domain.head import LearnedHeads
from .ports import FaceDetector, ImageModel, NsfwModel
from .settings import ClassifierSettings


@dataclass
class Models:
    """Tests share one instance across apps."""

    image: ImageModel
    nsfw: NsfwModel | None
    heads: LearnedHeads | None = None  # the learned scorer; None: the rules (tests only)
    faces: FaceDetector | None = None  # None: no face detection (GEMROLL_CLASSIFIER_FACES)

    def load(self) -> None:
        """Load the weights now (blocking), so the first batch is not a slow one."""
        for model in (self.image, self.nsfw, self.faces):
            load = getattr(model, "load", None)
            if load is not None:
                load()

    async def ready(self) -> bool:
        return bool(getattr(self.image, "loaded", True))


def build_models(settings: ClassifierSettings, *, learned_heads: bool = True) -> Models:
    """`learned_heads=False`: without the head (its training builds on these models)."""
    device = resolve_device(settings.device)
    image = MobileNetV2(torch_home=settings.torch_home, wheel_dir=settings.wheel_dir,
                        device=device, threads=settings.threads)
    nsfw = OpenNsfw(threads=settings.threads, device=device) if settings.nsfw_enabled else None
    faces = MtcnnFaceDetector(device=device) if settings.faces else None
    return Models(image=image, nsfw=nsfw, heads=packaged_heads() if learned_heads else None,
                  faces=faces)
