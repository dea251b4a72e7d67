"""MobileNetV2 (torchvision, official ImageNet weights): embeddings and ImageNet labels.

Loads on first use. On CUDA it runs in fp16 with channels_last; on CPU in fp32 through
onnxruntime (TorchScript if the export fails) with the configured number of threads. Torch
stays inside this adapter (and the GPU decoder next to it).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..weights import checkpoint_path, seed

_MEAN = (0.485, 0.456, 0.406)
_STD = (0.229, 0.224, 0.225)


def _embedder(model: Any) -> Any:
    """features -> global average pool -> (pooled embedding, logits), as one module."""
    import torch
    import torch.nn.functional as F

    class Embedder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.features = model.features
            self.classifier = model.classifier

        def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            pooled = F.adaptive_avg_pool2d(self.features(x), 1).flatten(1)
            return pooled, self.classifier(pooled)

    return Embedder().eval()


def _frozen(module: Any) -> Any:
    """TorchScript-freeze for CPU inference (folds batch norms, fuses oneDNN ops: ~1.8x
    faster on the CPU); falls back to the eager module if tracing fails."""
    import warnings

    import torch

    example = torch.zeros(2, 3, 224, 224).contiguous(memory_format=torch.channels_last)
    try:
        with warnings.catch_warnings(), torch.inference_mode():
            warnings.simplefilter("ignore")
            frozen = torch.jit.freeze(torch.jit.trace(module, example))
            frozen(example)
        return frozen
    except Exception:  # noqa: BLE001 - eager is always correct, just slower
        return module


class _OnnxRuntimeNet:
    """The embedder exported to ONNX (in memory, from the same module and weights) and run by
    onnxruntime on the CPU: ~2x less CPU than the frozen TorchScript, outputs within 2e-5."""

    def __init__(self, module: Any, threads: int) -> None:
        import io
        import warnings

        import onnxruntime as ort
        import torch

        buffer = io.BytesIO()
        with warnings.catch_warnings(), torch.inference_mode():
            warnings.simplefilter("ignore")
            torch.onnx.export(module, torch.zeros(1, 3, 224, 224), buffer, dynamo=False,
                              input_names=["image"], output_names=["pooled", "logits"],
                              dynamic_axes={"image": {0: "n"}}, opset_version=17)
        options = ort.SessionOptions()
        options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
        # idle threads sleep: spinning ones would take the decoders' cores between batches
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(buffer.getvalue(), options,
                                             providers=["CPUExecutionProvider"])

    def __call__(self, batch: Any) -> tuple[Any, Any]:
        import torch

        pooled, logits = self._session.run(None, {"image": batch.contiguous().numpy()})
        return torch.from_numpy(pooled), torch.from_numpy(logits)


def _cpu_runtime(module: Any, threads: int) -> Any:
    """onnxruntime, else the frozen TorchScript (an export can fail on a new torch), else eager."""
    try:
        return _OnnxRuntimeNet(module, threads)
    except Exception as exc:  # noqa: BLE001 - TorchScript gives the same outputs, slower
        from gemroll_common.logging import get_logger

        get_logger(__name__).warning("onnx_export_failed_using_torchscript",
                                     error_type=type(exc).__name__, error=str(exc)[:300])
        return _frozen(module)


def resolve_device(wanted: str) -> str:
    import torch

    if wanted == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device=cuda but torch sees no CUDA device")
    if wanted == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return wanted


class MobileNetV2:
    """The image model port: `infer(inputs) -> (embeddings, probabilities)`."""

    name = "mobilenet_v2"
    version = "imagenet1k_v1"

    def __init__(self, *, torch_home: Path, wheel_dir: Path, device: str = "auto",
                 threads: int = 2, freeze: bool = True) -> None:
        self._freeze = freeze
        self._torch_home = Path(torch_home)
        self._wheel_dir = Path(wheel_dir)
        self._wanted = device
        self._threads = threads
        self._lock = threading.Lock()
        self._model: Any = None
        self._categories: list[str] = []
        self.device = "unloaded"

    @property
    def loaded(self) -> bool:
        return self._model is not None

    @property
    def categories(self) -> list[str]:
        self.load()
        return self._categories

    def load(self) -> None:
        if self._model is not None:
            return
        with self._lock:
            if self._model is not None:
                return
            import torch
            from torchvision.models import MobileNet_V2_Weights, mobilenet_v2

            seed(self._torch_home, self._wheel_dir)  # instant when already seeded
            torch.hub.set_dir(str(checkpoint_path(self._torch_home).parent.parent))
            device = resolve_device(self._wanted)
            if device == "cpu":
                torch.set_num_threads(self._threads)
            weights = MobileNet_V2_Weights.IMAGENET1K_V1
            model = mobilenet_v2(weights=weights).eval()
            model = model.to(device=device, memory_format=torch.channels_last)
            if device == "cuda":
                model = model.half()
                torch.backends.cudnn.benchmark = True
            net = _embedder(model)
            if device == "cpu" and self._freeze:
                net = _cpu_runtime(net, self._threads)
            self._mean = torch.tensor(_MEAN, device=device).view(1, 3, 1, 1)
            self._std = torch.tensor(_STD, device=device).view(1, 3, 1, 1)
            self._categories = list(weights.meta["categories"])
            self.device = device
            self._model = net

    def _batch(self, inputs: Sequence[Any]) -> Any:
        import torch

        if all(isinstance(item, np.ndarray) for item in inputs):  # N x H x W x 3 uint8
            batch = torch.from_numpy(np.stack(inputs)).permute(0, 3, 1, 2)
            if self.device == "cuda":
                batch = batch.pin_memory()
        else:  # some are 3 x H x W uint8 tensors already on the device (GPU decoding)
            parts = [torch.from_numpy(np.array(item)).permute(2, 0, 1)
                     if isinstance(item, np.ndarray) else item for item in inputs]
            batch = torch.stack([part.to(self.device) for part in parts])
        batch = batch.to(self.device, non_blocking=True)
        dtype = torch.float16 if self.device == "cuda" else torch.float32
        batch = batch.to(dtype).div_(255.0)
        batch = (batch - self._mean.to(dtype)) / self._std.to(dtype)
        return batch.contiguous(memory_format=torch.channels_last)

    def infer(self, inputs: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
        """L2-normalised 1280-d embeddings and softmax probabilities over 1000 classes."""
        import torch
        import torch.nn.functional as F

        self.load()
        if not inputs:
            return np.zeros((0, 1280), np.float32), np.zeros((0, 1000), np.float32)
        with torch.inference_mode():
            pooled, logits = self._model(self._batch(inputs))
            probs = torch.softmax(logits.float(), dim=1)
            emb = F.normalize(pooled.float(), dim=1)
        return emb.cpu().numpy(), probs.cpu().numpy()
