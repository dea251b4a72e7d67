"""The learned head's mechanics: standardised contributions, thresholds, reasons; the shipped
weights file loads and has every head."""

from __future__ import annotations

import numpy as np
import pytest
from gemroll_classifier.adapters.head_weights import packaged_heads
from gemroll_classifier.domain.head import heads_from_dict, run_head


def _doc(threshold: float = 0.5) -> dict:
    one = {"features": ["sharp_best", "energy_best"], "uses_embedding": False,
           "mean": [0.5, 2.0], "scale": [0.25, 1.0], "weights": [-3.0, -0.5], "bias": 0.0,
           "threshold": threshold}
    emb = {**one, "uses_embedding": True, "mean": [0.5, 2.0, 0.0, 0.0],
           "scale": [0.25, 1.0, 1.0, 1.0], "weights": [0.0, 0.0, 2.0, -2.0]}
    return {"version": "test", "heads": {"blurry": one, "dark": one, "screenshot": emb,
                                         "document": emb}}


def test_a_soft_photo_fires_the_blur_head_with_its_largest_contribution_as_reason():
    heads = heads_from_dict(_doc())
    soft = run_head(heads["blurry"], {"sharp_best": 0.26, "energy_best": 1.9}, None)
    crisp = run_head(heads["blurry"], {"sharp_best": 0.9, "energy_best": 2.8}, None)
    assert soft.fired and soft.probability > 0.9
    assert soft.reasons[0] == "blurry:soft_detail"
    assert not crisp.fired and crisp.reasons == ()


def test_the_embedding_contributes_as_one_reason():
    heads = heads_from_dict(_doc())
    named = {"sharp_best": 0.5, "energy_best": 2.0}
    out = run_head(heads["screenshot"], named, np.array([1.0, -1.0]))
    assert out.fired and out.reasons == ("screenshot:looks_like_a_screen",)
    assert not run_head(heads["screenshot"], named, np.array([-1.0, 1.0])).fired


def test_the_threshold_is_the_calibrated_one():
    named = {"sharp_best": 0.45, "energy_best": 2.0}
    assert run_head(heads_from_dict(_doc(0.5))["blurry"], named, None).fired
    assert not run_head(heads_from_dict(_doc(0.9))["blurry"], named, None).fired


def test_a_weights_file_without_every_head_is_refused():
    doc = _doc()
    del doc["heads"]["dark"]
    with pytest.raises(ValueError, match="dark"):
        heads_from_dict(doc)


def test_the_shipped_weights_load_with_every_head_and_sane_thresholds():
    heads = packaged_heads()
    assert set(heads.heads) == {"screenshot", "document", "blurry", "dark"}
    for head in heads.heads.values():
        assert 0.05 <= head.threshold <= 0.95
        assert head.weights.size == head.mean.size == head.scale.size
        assert np.all(head.scale > 0) and np.isfinite(head.weights).all()
    assert heads["screenshot"].uses_embedding and not heads["blurry"].uses_embedding
