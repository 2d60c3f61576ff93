"""Edges of 'emotrace train body': the manifest lines refused, what a missing or constant measurement becomes, the
fewest windows that train, and the card's figures (the video scan stood in for, as in test_body_train)."""

import json
import warnings

import numpy as np
import pytest

from export.body.train import FEATURES, fit, read_manifest
from runtime.cli import main
from runtime.errors import InputError
from tests.export.body.scans import body_window


def _manifest(tmp_path, lines: str):
    path = tmp_path / "segments.csv"
    path.write_text("video,start_s,end_s,label\n" + lines)
    return path


# --- the manifest -----------------------------------------------------------------------------------------------


def test_a_manifest_of_its_header_alone_is_refused(tmp_path):
    # was: 'manifest needs the columns video,start_s,end_s,label', though it has them
    with pytest.raises(InputError, match="manifest has its header alone: no labelled segment to train on"):
        read_manifest(_manifest(tmp_path, ""))


@pytest.mark.parametrize("times", ["4,4", "-0.5,4", "0,inf", "nan,4"], ids=["empty", "negative", "inf", "nan"])
def test_a_segment_that_is_not_a_finite_stretch_from_zero_on_is_refused_naming_its_line(tmp_path, times):
    manifest = _manifest(tmp_path, f"a.mp4,0,4,calm\na.mp4,{times},angry\n")
    with pytest.raises(InputError, match=r"segments\.csv: line 3: needs 0 <= start_s < end_s, both finite$"):
        read_manifest(manifest)


def test_a_cell_of_spaces_is_refused_as_an_empty_one(tmp_path):
    with pytest.raises(InputError, match=r"line 2: needs a video, start_s, end_s and a label$"):
        read_manifest(_manifest(tmp_path, "  ,0,4,calm\n"))


# --- the fit ----------------------------------------------------------------------------------------------------


def _two_labels(n: int = 40) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    y = np.arange(n) % 2
    return rng.normal(0, 1, (n, 3)) + 2.0 * y[:, None], y


def test_a_missing_measurement_is_filled_with_the_median_of_its_feature():
    x, y = _two_labels()
    x[:, 1] = np.where(np.arange(len(y)) < 30, 0.0, 10.0)  # median 0, mean 2.5
    x[0, 1] = np.nan
    fill = fit(x, y, 2)[0]
    assert fill[1] == pytest.approx(0.0)


def test_a_feature_never_measured_is_filled_with_zero_and_the_others_still_fit():
    x, y = _two_labels()
    x[:, 2] = np.nan  # a measurement no window of the segments had (no hands seen, say)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy's "All-NaN slice" as it takes the median
        fill, mean, std, weights, bias = fit(x, y, 2)
    assert fill[2] == 0.0
    scores = ((np.where(np.isfinite(x), x, fill) - mean) / std) @ weights + bias
    assert np.isfinite(scores).all() and (scores.argmax(axis=1) == y).mean() > 0.8


def test_a_feature_constant_over_every_window_gives_finite_scores():
    x, y = _two_labels()
    x[:, 0] = 3.0  # stillness 1 in every window, say: no spread to scale by
    fill, mean, std, weights, bias = fit(x, y, 2)
    assert std[0] == 1.0
    assert np.isfinite(((x - mean) / std) @ weights + bias).all()


def test_the_leave_one_video_out_figure_is_balanced_accuracy_not_accuracy():
    from sklearn.metrics import accuracy_score, balanced_accuracy_score

    from export.body.train import _leave_one_video_out

    rng = np.random.default_rng(1)
    y = rng.choice(2, 240, p=[0.85, 0.15])  # a rare label, easy to tell; the common one often taken for it
    x = np.where(y[:, None] == 1, rng.normal(1.5, 0.3, (len(y), 1)), rng.normal(0.0, 2.0, (len(y), 1)))
    videos = [f"v{i % 4}.mp4" for i in range(len(y))]
    predicted = np.zeros_like(y)
    for video in sorted(set(videos)):  # the same held-out predictions, made here
        held = np.array([v == video for v in videos])
        _, mean, std, weights, bias = fit(x[~held], y[~held], 2)
        predicted[held] = (((x[held] - mean) / std) @ weights + bias).argmax(axis=1)
    measured = _leave_one_video_out(x, y, videos, 2)
    assert measured["balanced_accuracy"] == pytest.approx(balanced_accuracy_score(y, predicted))
    assert abs(measured["balanced_accuracy"] - accuracy_score(y, predicted)) > 0.05


# --- training end to end ----------------------------------------------------------------------------------------


def test_four_windows_of_two_labels_train_and_three_are_refused(scanned, tmp_path, capsys):
    manifest = _manifest(tmp_path, "a.mp4,0,4,calm\na.mp4,4,8,angry\n")
    scanned += [body_window(start, start + 2, 1.0, start) for start in (0, 2, 4, 6)]
    assert main(["train", "body", str(manifest), "--out", str(tmp_path / "four")]) == 0
    scanned.pop()  # the last "angry" window gone
    assert main(["train", "body", str(manifest), "--out", str(tmp_path / "three")]) == 2
    assert "needs at least two labels and four body windows" in capsys.readouterr().err


def test_the_card_of_two_videos_counts_them_gives_their_leave_one_video_out_figures_and_its_fill(
        scanned, tmp_path):
    windows = [body_window(start, start + 2, 1.0, start) for start in (0, 2, 4, 6)]
    for window in windows:
        window.measurements["self_touch"] = np.nan if window.start_s == 0 else 1.0
    scanned += windows
    manifest = _manifest(tmp_path, "a.mp4,0,4,calm\na.mp4,4,8,angry\nb.mp4,0,4,calm\nb.mp4,4,8,angry\n")
    assert main(["train", "body", str(manifest), "--out", str(tmp_path / "body-mine")]) == 0
    card = json.loads((tmp_path / "body-mine" / "card.json").read_text())
    assert card["metrics"]["windows"] == 8 and card["metrics"]["videos"] == 2
    # each video judged by a classifier of the other: the windows rise with the label in both
    assert card["metrics"]["leave_one_video_out"] == {"balanced_accuracy": 1.0, "macro_f1": 1.0, "windows": 8}
    fill = dict(zip(card["features"], card["fill"], strict=True))
    assert card["features"] == list(FEATURES) and fill["self_touch"] == 1.0 and fill["stillness"] == 3.0
