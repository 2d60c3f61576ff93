"""The body classifier's fit, as its ONNX graph computes it, and its leave-one-video-out figure."""

import numpy as np
import onnxruntime as ort
import pytest
from sklearn.linear_model import LogisticRegression

from export.body.train import _leave_one_video_out, fit, onnx_graph


def _graph_probs(x: np.ndarray, n_classes: int, y: np.ndarray) -> np.ndarray:
    fill, mean, std, weights, bias = fit(x, y, n_classes)
    session = ort.InferenceSession(onnx_graph(mean, std, weights, bias).SerializeToString())
    return session.run(None, {"features": x.astype(np.float32)})[0]


def _separable(n_classes: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(n_classes), 30)
    return rng.normal(0, 1, (len(y), 4)) + 3.0 * np.eye(n_classes, 4)[y], y


@pytest.mark.parametrize("n_classes", [2, 3])
def test_the_graph_gives_the_probabilities_of_the_fitted_logistic_regression(n_classes):
    x, y = _separable(n_classes)
    mean, std = x.mean(0), x.std(0)
    reference = LogisticRegression(C=1.0, max_iter=2000, class_weight="balanced").fit((x - mean) / std, y)
    # was, for two labels: the sigmoid of twice the decision, far more confident than the regression
    np.testing.assert_allclose(_graph_probs(x, n_classes, y), reference.predict_proba((x - mean) / std), atol=1e-4)


def test_a_fold_holding_two_of_three_labels_tells_them_apart_and_never_picks_the_third():
    x, y = _separable(3)
    present = y != 1
    probs = _graph_probs(x[present], 3, y[present])
    # was: one weight column copied into both labels' places, one prediction for every window
    assert (probs.argmax(1) == y[present]).mean() > 0.9
    assert probs[:, 1].max() < 1e-6


def test_videos_of_one_label_each_are_named_not_a_crash():
    x, y = _separable(2)
    videos = ["calm.mp4" if label == 0 else "angry.mp4" for label in y]  # one video a label
    # was: sklearn's "needs samples of at least 2 classes", an internal error ending train body
    assert _leave_one_video_out(x, y, videos, 2) == {"not_measured": "every video's others hold one label alone"}
    videos = [f"{name}-{i % 2}" for i, name in enumerate(videos)]  # two videos a label
    measured = _leave_one_video_out(x, y, videos, 2)
    assert measured["windows"] == len(y) and measured["balanced_accuracy"] > 0.8


@pytest.mark.parametrize("label", ["fidgeting", "quality", "arousal", "Incongruent"])
def test_a_label_named_as_a_timeline_column_is_refused_when_the_manifest_is_read(tmp_path, label):
    from export.body.train import read_manifest
    from runtime.errors import InputError

    manifest = tmp_path / "segments.csv"
    manifest.write_text(f"video,start_s,end_s,label\na.mp4,0,4,calm\na.mp4,4,8,{label}\n")
    # was: trained, and every analysis with the model failed (or wrote two columns of one name)
    with pytest.raises(InputError, match=f"label '{label.lower()}' is the name of a timeline column"):
        read_manifest(manifest)


def test_a_label_spelt_as_a_column_with_underscores_reads_as_words_and_is_kept(tmp_path):
    # as train audio reads an own label: '_' is a space, so 'f0_median_hz' is no column's name
    from export.body.train import read_manifest

    manifest = tmp_path / "segments.csv"
    manifest.write_text("video,start_s,end_s,label\na.mp4,0,4,calm\na.mp4,4,8,f0_median_hz\nb.mp4,0,4,quality_audio\n")
    assert [s["label"] for s in read_manifest(manifest)] == ["calm", "f0 median hz", "quality audio"]


def test_a_manifest_that_is_a_folder_or_missing_is_said_as_such(tmp_path):
    from export.body.train import read_manifest
    from runtime.errors import InputError

    with pytest.raises(InputError, match="is a folder, not a file"):  # was: "no such manifest" for a folder
        read_manifest(tmp_path)
    with pytest.raises(InputError, match="no such file"):
        read_manifest(tmp_path / "gone.csv")


@pytest.mark.parametrize(("edit", "problem"), [
    (lambda card: card.update(fill=[0.0, 0.0]), "'fill' holds 2 values for 3 features"),
    (lambda card: card.pop("features"), "card lacks 'features'"),
])
def test_a_body_card_whose_settings_do_not_fit_its_model_is_refused_at_load(tmp_path, edit, problem):
    import json

    from runtime.arms.body.classifier import BodyClassifier
    from runtime.errors import InputError
    from runtime.models.card import file_sha256

    x, y = _separable(2)
    (tmp_path / "body.onnx").write_bytes(onnx_graph(*fit(x[:, :3], y, 2)[1:]).SerializeToString())
    card = {"id": "body", "version": "1", "task": "body", "labels": ["calm", "angry"],
            "files": {"default": "body.onnx"}, "sha256": {"default": file_sha256(tmp_path / "body.onnx")},
            "features": ["a", "b", "c"], "fill": [0.0, 0.0, 0.0]}
    edit(card)
    (tmp_path / "card.json").write_text(json.dumps(card))
    # was, for the short fill: loaded, then a numpy broadcast error at the first window, after the video's scan
    with pytest.raises(InputError, match=problem):
        BodyClassifier(tmp_path)


def _predict(x: np.ndarray, fitted) -> np.ndarray:
    fill, mean, std, weights, bias = fitted
    return (((np.where(np.isfinite(x), x, fill) - mean) / std) @ weights + bias).argmax(axis=1)


def test_leave_one_video_out_never_judges_a_video_by_a_classifier_that_saw_it():
    from sklearn.metrics import balanced_accuracy_score

    # 30 videos, each a tight cluster of its own with a coin-flip label: nothing carries over to an unseen video
    rng = np.random.default_rng(1)
    n_videos, per_video, dims = 30, 4, 40
    video_labels = np.arange(n_videos) % 2
    rng.shuffle(video_labels)
    x = np.repeat(rng.normal(0, 1, (n_videos, dims)), per_video, axis=0) + rng.normal(0, 0.1, (n_videos * per_video,
                                                                                              dims))
    y = np.repeat(video_labels, per_video)
    videos = [f"v{i:02d}.mp4" for i in np.repeat(np.arange(n_videos), per_video)]
    # a classifier that has seen a video recognises it: a leak would show as a near-perfect figure
    assert balanced_accuracy_score(y, _predict(x, fit(x, y, 2))) > 0.95
    assert 0.3 < _leave_one_video_out(x, y, videos, 2)["balanced_accuracy"] < 0.7  # chance, as it should be


def test_a_rare_label_is_weighed_as_much_as_a_common_one():
    from sklearn.metrics import recall_score

    rng = np.random.default_rng(0)
    y = np.array([0] * 200 + [1] * 20)  # ten windows of "calm" to one of the rare label
    x = rng.normal(0, 1, (len(y), 4))
    x[y == 1, 0] += 1.0  # overlapping classes: unweighted, the regression would all but never name the rare one
    recall = recall_score(y, _predict(x, fit(x, y, 2)), average=None)
    assert recall[1] > 0.6 and recall[0] > 0.6


def test_the_leave_one_video_out_macro_f1_is_the_mean_of_each_labels_f1():
    from sklearn.metrics import accuracy_score, f1_score

    rng = np.random.default_rng(1)
    y = rng.choice(3, 240, p=[0.7, 0.2, 0.1])  # imbalanced and overlapping: micro-F1 (accuracy) differs
    x = rng.normal(0, 1, (len(y), 4)) + 1.2 * np.eye(3, 4)[y]
    videos = [f"v{i % 4}.mp4" for i in range(len(y))]
    predicted = np.zeros_like(y)
    for video in sorted(set(videos)):  # the same held-out predictions, made here
        held = np.array([v == video for v in videos])
        predicted[held] = _predict(x[held], fit(x[~held], y[~held], 3))
    measured = _leave_one_video_out(x, y, videos, 3)
    assert measured["macro_f1"] == pytest.approx(f1_score(y, predicted, average="macro"))
    assert abs(measured["macro_f1"] - accuracy_score(y, predicted)) > 0.05


def test_a_label_no_judged_window_holds_counts_in_neither_figure():
    # video a holds both labels; b only "calm" (0), so a, whose other video holds one label, is not judged, and
    # b is judged by a classifier that can say "angry" (1) though none of b's windows is
    x = np.array([[-1.0], [-1.1], [-0.9], [1.0], [1.1], [0.9], [-1.0], [-1.2], [1.0], [1.2]])
    y = np.array([0, 0, 0, 1, 1, 1, 0, 0, 0, 0])
    videos = ["a.mp4"] * 6 + ["b.mp4"] * 4
    measured = _leave_one_video_out(x, y, videos, 2)
    assert measured["videos_not_judged"] == ["a.mp4"] and measured["balanced_accuracy"] == 0.5
    # calm: precision 1, recall 0.5; as the balanced accuracy does, the macro-F1 leaves out the label b never holds
    assert measured["macro_f1"] == pytest.approx(2 / 3)
