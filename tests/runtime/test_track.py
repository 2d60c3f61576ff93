import json
import math

import numpy as np
import pytest

from runtime.track import (
    CANONICAL_LABELS,
    Coverage,
    InstantsByWindow,
    Track,
    Window,
    leading_label_index,
    window_grid,
)


def _track() -> Track:
    scores = [1, 2, 3, 4, 5, 6, 7, 8.123456789]
    return Track(
        name="audio",
        windows=[
            Window(0.0, 2.0, [score / sum(scores) for score in scores], 0.8, "",
                   {"f0_median_hz": 123.456789012345, "jitter_local": math.nan, "odd": math.inf}),
            Window(0.5, 2.5, None, 0.0, "no speech", {"speech_fraction": 0.0}),
        ],
        model={"id": "m", "version": "1"},
        settings={"window_s": 2.0},
    )


def test_track_round_trips_exactly_through_json_including_nan_and_inf():
    track = _track()
    text = json.dumps(track.to_dict(), allow_nan=False)
    back = Track.from_dict(json.loads(text))
    assert back.to_dict() == track.to_dict()
    assert back.windows[0].probs == track.windows[0].probs  # floats bit-exact
    assert math.isnan(back.windows[0].measurements["jitter_local"])
    assert back.windows[0].measurements["odd"] == math.inf
    assert back.windows[1].probs is None and back.windows[1].reason == "no speech"


def test_a_label_a_window_gives_no_probability_is_null_in_json_and_nan_in_the_matrix():
    # the fused track's calm where only a face spoke: no probability, not 0
    probs = [0.4, None, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1]
    track = Track(name="fused", windows=[Window(0.0, 2.0, probs, 0.9)])
    written = json.loads(json.dumps(track.to_dict(), allow_nan=False))
    assert written["windows"][0]["probs"][1] is None
    back = Track.from_dict(written)
    assert back.windows[0].probs == probs
    matrix = back.probs_matrix()
    assert np.isnan(matrix[0, 1]) and matrix[0, 0] == 0.4
    assert leading_label_index(back.windows[0].probs) == 0


def test_track_rejects_canonical_labels_out_of_order():
    with pytest.raises(ValueError):
        Track(name="x", labels=["happy", "neutral"])
    Track(name="physio", labels=["stress"])  # non-canonical labels are allowed


def test_probs_matrix_puts_zero_for_labels_the_track_lacks_and_nan_for_no_claim():
    track = Track(name="face", labels=["neutral", "happy"], unsupported_labels=["calm"],
                  windows=[Window(0, 1, [0.25, 0.75], 1.0), Window(1, 2, None, 0.0, "no face")])
    matrix = track.probs_matrix()
    assert matrix.shape == (2, len(CANONICAL_LABELS))
    assert matrix[0, CANONICAL_LABELS.index("happy")] == 0.75
    assert matrix[0, CANONICAL_LABELS.index("sad")] == 0.0
    assert np.isnan(matrix[1]).all()


def test_window_grid_covers_the_recording_with_regular_hops():
    grid = window_grid(3.2, 2.0, 0.5)
    assert grid[0] == (0.0, 2.0)
    assert all(b[0] - a[0] == pytest.approx(0.5) for a, b in zip(grid, grid[1:], strict=False))
    assert grid[-1][1] == pytest.approx(3.2)
    assert window_grid(1.2, 2.0, 0.5) == [(0.0, 1.2)]
    assert window_grid(0.0, 2.0, 0.5) == []


def test_window_grid_gives_no_tail_window_for_a_clock_jittering_past_the_last_window():
    # 600 s of samples whose last stamp sits 0.4 ms late: the regular grid covers it.
    assert window_grid(600.0004, 30.0, 5.0)[-1] == (570.0, 600.0)
    assert len(window_grid(600.0004, 30.0, 5.0)) == len(window_grid(600.0, 30.0, 5.0))
    assert window_grid(600.01, 30.0, 5.0)[-1] == (575.0, 600.01)
    assert window_grid(600.0004, 30.0, 60.0)[-1] == (540.0, 570.0)  # hop past the window: no 0.4 ms tail either


@pytest.mark.parametrize(("duration_s", "window_s", "hop_s"), [(40.0, 2.0, 5.0), (40.0, 2.0, 7.0), (40.02, 2.0, 7.0),
                                                                (3.2, 2.0, 0.5), (10.0, 2.0, 2.0), (1.0, 2.0, 3.0)])
def test_window_grid_never_gives_an_empty_or_inverted_window_nor_one_past_the_end(duration_s, window_s, hop_s):
    grid = window_grid(duration_s, window_s, hop_s)
    assert grid and all(end > start for start, end in grid)
    assert all(start < duration_s and end <= round(duration_s, 6) for start, end in grid)
    assert [start for start, _ in grid] == sorted(start for start, _ in grid)


def test_window_grid_of_an_unknown_length_says_so():
    with pytest.raises(ValueError, match="duration_s must be finite, not inf"):  # was: numpy's 'Maximum allowed size'
        window_grid(math.inf, 2.0, 0.5)


def test_window_grid_with_a_hop_longer_than_the_window_leaves_gaps_but_no_tail_past_the_end():
    assert window_grid(40.0, 2.0, 5.0)[-1] == (35.0, 37.0)  # was followed by (40.0, 40.0)
    assert window_grid(40.0, 2.0, 7.0)[-1] == (35.0, 37.0)  # was followed by (42.0, 40.0)


def _track_dict() -> dict:
    return json.loads(json.dumps(_track().to_dict(), allow_nan=False))


@pytest.mark.parametrize(("edit", "problem"), [
    (lambda d: d["windows"][0].update(probs=[0.5] * 7), r"track 'audio', window 0 \(0.0-2.0 s\): 7 probabilities "
                                                         "for 8 labels"),
    (lambda d: d["windows"][0].update(probs=[0.1] * 9), "9 probabilities for 8 labels"),
    (lambda d: d["windows"][1].update(start_s=None), "track 'audio', window 1: start_s is null, not a number"),
    (lambda d: d["windows"][1].update(end_s="2.5"), "end_s is text '2.5', not a number"),
    (lambda d: d["windows"][1].update(end_s=0.5), r"window 1 \(0.5-0.5 s\): end_s 0.5 is not after start_s 0.5"),
    (lambda d: d["windows"][0].update(quality=math.nan), "quality is nan, not a finite number"),
    (lambda d: d["windows"][0].update(quality=1.5), r"quality 1.5 is outside \[0, 1\]"),
    (lambda d: d["windows"][0].update(probs=[math.nan] * 8), "probability nan is not a number from 0 to 1"),
    (lambda d: d["windows"][0].update(probs=[None] * 8), "no label has a probability"),
    (lambda d: d["windows"][0].update(measurements=[1, 2]), "measurements is a list of 2, not an object"),
    (lambda d: d["windows"][0]["measurements"].update(x="high"), "measurement 'x' is text 'high', not a number"),
    (lambda d: d["windows"][0]["measurements"].update(x=10**400), "measurement 'x' is .*, not a number"),
    (lambda d: d["windows"][1].update(end_s=10**400), "end_s is an integer of 401 digits, not a number"),
    (lambda d: d.update(windows=5), "track 'audio': windows is 5, not a list"),
    (lambda d: d.update(labels=None), "labels is null, not a list of labels"),
    (lambda d: d.update(labels=[*CANONICAL_LABELS, "stress", "stress"]), "a label is listed twice"),
    (lambda d: d["windows"].reverse(), "window 1 .*starts before the window ahead of it"),
    (lambda d: d["windows"].__setitem__(0, 3), "window 0: is 3, not an object"),
    (lambda d: d.update(model=[]), "track 'audio': model is a list of 0, not an object$"),  # was: 'not a object'
])
def test_an_edited_track_that_breaks_the_rules_is_refused_saying_where(edit, problem):
    from runtime.track import TrackFormatError

    data = _track_dict()
    edit(data)
    with pytest.raises(TrackFormatError, match=problem):
        Track.from_dict(data)


def test_instants_by_window_picks_what_a_mask_picks_in_the_original_order():
    rng = np.random.default_rng(0)
    times_s = np.round(rng.uniform(0, 60, 500), 1)  # unsorted, with repeated instants
    times_s[::50] = 10.0  # instants exactly on a window edge
    index = InstantsByWindow(times_s)
    for start_s, end_s in [*window_grid(60.0, 2.0, 0.5), (10.0, 10.0), (70.0, 72.0), (-5.0, 0.05)]:
        mask = (times_s >= start_s) & (times_s < end_s)
        assert index.indices(start_s, end_s).tolist() == np.flatnonzero(mask).tolist()
        assert index.count(start_s, end_s) == int(mask.sum())


def test_coverage_is_the_share_of_a_window_from_the_first_instant_to_the_reach_after_the_last():
    coverage = Coverage([0.5, 0.7, 3.0, 3.2], reach_s=0.5)  # seen from 0.5 s to 3.7 s, sparse or not
    assert coverage.fraction(0.0, 2.0) == pytest.approx(0.75)  # started late
    assert coverage.fraction(1.0, 3.0) == 1.0  # no frame between 0.7 and 3.0 s: a slow scan, not a blind camera
    assert coverage.fraction(2.5, 4.5) == pytest.approx(0.6)  # lost at 3.2 s
    assert coverage.fraction(4.0, 6.0) == 0.0
    assert Coverage([], reach_s=0.5).fraction(0.0, 2.0) == 0.0


@pytest.mark.parametrize("word", ["Joy_", "_anger", "pleasant  surprise", "Pleasant_Surprise", "JOY", "Cole\u0300re"])
def test_a_label_word_is_read_whatever_its_case_spaces_underscores_or_normal_form(word):
    from runtime.track import LABEL_SYNONYMS, canonical_label, tidy_label

    # was: 'Joy_', '_anger' and 'pleasant  surprise' no label by default, the same words with --labels-as-given one
    expected = {"Joy_": "happy", "_anger": "angry", "pleasant  surprise": "surprised", "Pleasant_Surprise": "surprised",
                "JOY": "happy", "Cole\u0300re": None}[word]
    assert canonical_label(word) == expected
    assert tidy_label("Cole\u0300re") == "col\u00e8re" and "col\u00e8re" not in LABEL_SYNONYMS


def test_a_measurement_of_no_name_is_said_to_have_none():
    # was: "a measurement's name is text '', not text"
    assert Window(0.0, 1.0, None, 0.0, "", {"": 1.0}).problem(8) == "a measurement's name is empty"
    assert Window(0.0, 1.0, None, 0.0, "", {5: 1.0}).problem(8) == "a measurement's name is 5, not text"


def test_a_track_says_why_its_stream_stopped_early_whichever_arm_recorded_it():
    cut = "stopped early: a.mp4: cut short: the audio ends at 3.0 s"
    assert Track("audio", settings={"status": "complete"}).stopped_reason() == ""
    assert Track("audio", settings={"status": cut}).stopped_reason() == cut
    assert Track("face", settings={"frames": {"sampled": 9, "stopped_reason": ""}}).stopped_reason() == ""
    assert Track("body", settings={"frames": {"stopped_reason": "camera stalled"}}).stopped_reason() == "camera stalled"
    assert Track("fused").stopped_reason() == ""  # nothing recorded: read to its end
