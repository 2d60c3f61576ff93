"""What fusion.arousal_from may read of a track: an arm's activation label (physio's "stress") only where the model
the arm runs has that label; a model's own labels only where its card says they were given (labels_as_given)."""

from __future__ import annotations

from types import SimpleNamespace

from runtime import checks


def test_physios_stress_is_readable_only_where_its_model_has_the_label():
    with_stress = SimpleNamespace(labels=["no_stress", "stress"], extra={})
    without = SimpleNamespace(labels=["calm", "tense"], extra={})  # a clinic's own physio model
    assert checks.activation_names("physio", {"model": with_stress}) == {"stress"}
    assert checks.activation_names("physio", {"model": without}) == set()
    assert checks.activation_names("physio", {}) == set()  # no model: no label to read


def test_a_models_own_labels_are_readable_only_where_its_card_says_they_were_given():
    given = SimpleNamespace(labels=["neutral", "high", "low"], extra={"labels_as_given": True})
    assert checks.given_labels(given) == {"high", "low"}
    assert checks.given_labels(SimpleNamespace(labels=["neutral", "high", "low"], extra={})) == set()
