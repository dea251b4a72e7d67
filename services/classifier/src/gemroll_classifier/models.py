"""The models a classifier runs: the image model and (optionally) the NSFW model."""

from __future__ import annotations

from dataclasses import dataclass

from .adapters.nsfw import OpenNsfw
from .adapters.torch_model import MobileNetV2, resolve_device
from .ports import ImageModel, NsfwModel
from .settings import ClassifierSettings


@dataclass
class Models:
    """Tests share one instance across apps."""

    image: ImageModel
    nsfw: NsfwModel | None

    def load(self) -> None:
        """Load the weights now (blocking), so the first batch is not a slow one."""
        for model in (self.image, self.nsfw):
            load = getattr(model, "load", None)
            if load is not None:
                load()

    async def ready(self) -> bool:
        return bool(getattr(self.image, "loaded", True))


def build_models(settings: ClassifierSettings) -> Models:
    device = resolve_device(settings.device)
    image = MobileNetV2(torch_home=settings.torch_home, wheel_dir=settings.wheel_dir,
                        device=device, threads=settings.threads)
    nsfw = OpenNsfw(threads=settings.threads, device=device) if settings.nsfw_enabled else None
    return Models(image=image, nsfw=nsfw)
