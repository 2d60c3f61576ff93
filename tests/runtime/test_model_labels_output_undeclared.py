"""A backend that declares no outputs: a card's labels naming an output the first run does not give is one line
naming the model file (and stays refused), not an IndexError."""

import numpy as np
import pytest

from runtime.errors import InputError
from runtime.models import load_card
from runtime.models.runner import Backend, Model
from tests.runtime.model_folders import toy_classifier


class _OneOutputUndeclared(Backend):
    name = "fake"

    def __init__(self):
        pass

    def run(self, inputs):
        return [np.zeros((1, 2), np.float32)]


@pytest.mark.parametrize("labels_output", [1, 2])
def test_a_labels_output_past_the_outputs_a_run_gives_is_one_line_naming_the_model(tmp_path, labels_output):
    card = load_card(toy_classifier(tmp_path / "toy", ["a", "b"]))
    model = Model(card, _OneOutputUndeclared(), "default", labels_output=labels_output)
    for _ in range(2):  # refused on the first run, and on every run after it
        with pytest.raises(InputError, match=f"the model has 1 output\\(s\\); its card's labels name output "
                                             f"{labels_output}") as caught:
            model.run({"x": np.zeros((1, 2), np.float32)})
        assert caught.value.source == str(card.path("default"))


def test_a_labels_output_a_run_gives_with_the_cards_width_runs(tmp_path):
    card = load_card(toy_classifier(tmp_path / "toy", ["a", "b"]))
    model = Model(card, _OneOutputUndeclared(), "default", labels_output=0)
    assert model.run({"x": np.zeros((1, 2), np.float32)})[0].shape == (1, 2)
