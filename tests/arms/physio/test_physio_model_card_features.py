"""A stress model whose card names a feature the device does not compute is refused as it is loaded, naming the
feature (runtime/arms/physio/stress.py, model_features), not at its first window with a KeyError."""

from __future__ import annotations

import json
import shutil

import pytest

from runtime.arms.physio.stress import load_physio_model
from runtime.errors import InputError
from runtime.models.card import REPO_MODELS_DIR


def test_a_card_naming_a_feature_the_device_lacks_is_refused_as_it_is_loaded_naming_it(tmp_path):
    folder = tmp_path / "physio-stress-renamed"
    shutil.copytree(REPO_MODELS_DIR / "physio-stress", folder)
    card = json.loads((folder / "card.json").read_text())
    card["features"] = [*card["features"][:-1], "hr_mean_bpm_v3"]  # a newer feature set's name
    (folder / "card.json").write_text(json.dumps(card))
    with pytest.raises(InputError, match="unknown features hr_mean_bpm_v3"):
        load_physio_model(str(folder))
