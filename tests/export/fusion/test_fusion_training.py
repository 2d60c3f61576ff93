"""Training the learned fusers (export.fusion.learn) on small hand-built windows: how C is chosen, what the
stacking graph outputs, and which sessions the attention model fits on."""

from __future__ import annotations

import json

import numpy as np
import pytest

from export.fusion import learn
from export.fusion.learn import choose_c, train_stacking
from runtime.fusion.learned import StackingFusion
from runtime.track import CANONICAL_LABELS
from tests.export.cards import assert_card_as_exports_write_it
from tests.export.fusion.learning import HAPPY, SAD, attention_sessions_seen, leaning_windows


def _two_class(n_sessions=6, per_session=10, seed=0):
    targets = np.tile(np.repeat([HAPPY, SAD], per_session // 2), n_sessions)
    sessions = np.repeat(np.arange(n_sessions), per_session)
    return leaning_windows(targets, sessions, seed=seed), targets


def _graph(folder):
    import onnx
    from onnx import numpy_helper

    weights = {t.name: numpy_helper.to_array(t) for t in onnx.load(folder / "stacking.onnx").graph.initializer}
    return weights["W"], weights["b"]


def test_c_is_the_strongest_regularisation_that_still_tells_every_class_apart():
    # three classes on one line: heavy regularisation flattens the weights and loses the middle class
    rng = np.random.default_rng(0)
    targets = np.tile(np.repeat([0, 1, 2], 2), 8)
    features = (targets - 1.0)[:, None] + rng.normal(0, 0.05, (len(targets), 1))
    groups = np.repeat(np.arange(8), 6)
    assert choose_c(features, targets, groups, 0) == 0.03  # 0.003 and 0.01 miss the middle class; ties: stronger


def test_c_is_chosen_with_balanced_classes_so_the_strongest_still_finds_a_rare_class():
    # 9 to 1, the rare class a clear shift: balanced, even C=0.003 finds it; unbalanced, a weak C would say
    # "always the common class" and the search would wander to C=1
    rng = np.random.default_rng(0)
    targets = np.tile([0] * 9 + [1], 8)
    features = targets[:, None] * 1.0 + rng.normal(0, 0.3, (len(targets), 1))
    assert choose_c(features, targets, np.repeat(np.arange(8), 10), 0) == 0.003


def test_c_is_chosen_by_folds_that_keep_a_session_whole(tmp_path, monkeypatch):
    from sklearn.model_selection import GroupKFold

    data, targets = _two_class()
    # train_stacking uses each window twice (as is, and with modalities dropped): both copies are one session
    session_of_row = np.concatenate([data.sequence, data.sequence])
    folds = []
    split = GroupKFold.split

    def spy(self, x, y=None, groups=None):
        for train, test in split(self, x, y, groups):
            folds.append((train, test))
            yield train, test

    monkeypatch.setattr(GroupKFold, "split", spy)
    train_stacking(data, targets, tmp_path)
    assert folds
    for train, test in folds:
        assert not set(session_of_row[train]) & set(session_of_row[test])


def test_a_two_class_stacking_graph_tells_the_classes_apart_and_never_outputs_an_unseen_one(tmp_path):
    data, targets = _two_class()
    train_stacking(data, targets, tmp_path, c=1.0)
    held_out, held_targets = _two_class(n_sessions=3, seed=1)
    probs = StackingFusion(model=tmp_path).fuse_arrays(held_out)
    ua = np.mean([np.mean(probs[held_targets == k].argmax(1) == k) for k in (HAPPY, SAD)])
    assert ua > 0.9
    unseen = np.ones(len(CANONICAL_LABELS), dtype=bool)
    unseen[[HAPPY, SAD]] = False
    assert probs[:, unseen].max() < 1e-6  # the graph gives all 8 labels, but no mass to those never trained on


def test_a_stacking_fuser_is_written_with_a_card_the_loader_accepts_dated_as_every_export(tmp_path):
    data, targets = _two_class()
    train_stacking(data, targets, tmp_path, c=1.0)
    assert assert_card_as_exports_write_it(tmp_path).task == learn.FUSION_TASK


def test_a_two_class_stacking_graph_gives_the_fitted_regressions_probabilities(tmp_path, monkeypatch):
    import onnxruntime as ort
    from sklearn.linear_model import LogisticRegression

    fitted = []
    fit = LogisticRegression.fit

    def spy(self, x, y, *args, **kwargs):
        fitted.append((self, x))
        return fit(self, x, y, *args, **kwargs)

    monkeypatch.setattr(LogisticRegression, "fit", spy)
    data, targets = _two_class()
    train_stacking(data, targets, tmp_path, c=1.0)
    model, features = fitted[-1]  # the final fit (C given: no search)
    session = ort.InferenceSession(str(tmp_path / "stacking.onnx"), providers=["CPUExecutionProvider"])
    probs = session.run(None, {"features": features.astype(np.float32)})[0]
    # was softmax(-z, z), sigmoid(2z): every probability pushed towards 0 or 1
    np.testing.assert_allclose(probs[:, [HAPPY, SAD]], model.predict_proba(features), atol=1e-5)


def test_modality_dropout_lets_the_learner_weigh_a_lone_modality(tmp_path):
    # In training every window has both modalities: only the dropped copies show a modality alone, so the
    # "lone" features (the last 2 x 8 rows of W) are learnt only with dropout.
    data, targets = _two_class()
    train_stacking(data, targets, tmp_path / "dropout", c=1.0, drop_window=0.3)
    train_stacking(data, targets, tmp_path / "none", c=1.0, drop_window=0.0)
    lone = slice(-2 * len(CANONICAL_LABELS), None)
    assert np.abs(_graph(tmp_path / "dropout")[0][lone]).max() > 1e-3
    assert np.abs(_graph(tmp_path / "none")[0][lone]).max() == 0
    card = json.loads((tmp_path / "dropout" / "card.json").read_text())
    assert card["training"]["modality_dropout"] == 0.3 and card["training"]["C"] == 1.0


def test_stacking_balances_classes_so_a_rare_class_is_not_drowned_by_a_common_one(tmp_path):
    # Evidence that says nothing (the same probabilities in every window), 9 happy windows to 1 sad:
    # balanced, the learner gives each class half; unbalanced, it would give happy 0.9.
    targets = np.tile([HAPPY] * 9 + [SAD], 6)
    sessions = np.repeat(np.arange(6), 10)
    data = leaning_windows(targets, sessions)
    data.probs[:] = data.probs[0]
    train_stacking(data, targets, tmp_path, c=1.0)
    probs = StackingFusion(model=tmp_path).fuse_arrays(data)
    assert probs[:, SAD].mean() == pytest.approx(0.5, abs=0.1)


def test_attention_early_stopping_sessions_are_never_trained_on(monkeypatch, tmp_path):
    seen = attention_sessions_seen(monkeypatch, tmp_path, 10)
    assert seen["validation"] and seen["fit"]
    assert not seen["validation"] & seen["fit"]
    assert seen["validation"] | seen["fit"] == set(range(10))
