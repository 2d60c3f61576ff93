"""A track window's null probability for a label (a track edited by hand, or written by another tool) is that
modality abstaining on the label in that window, as on a label outside its labels list: not evidence of 0."""

from __future__ import annotations

import json

import numpy as np
import pytest

from runtime.fusion import make_fuser
from runtime.fusion.align import align_tracks
from runtime.models import load_card
from runtime.track import CANONICAL_LABELS, Track, Window

HAPPY = CANONICAL_LABELS.index("happy")
FACE_LABELS = [label for label in CANONICAL_LABELS if label != "calm"]
NO_HAPPY = [label for label in CANONICAL_LABELS if label != "happy"]
METHODS = ["mean", "weighted", "accuracy", "accuracy-class", "quality", "product", "stacking", "attention"]


def _identity(model_id: str, variant: str = "default") -> dict[str, str]:
    card = load_card(model_id)
    return {"id": model_id, "version": card.version, "variant": variant, "sha256": card.sha256.get(variant, "")}


def _voice_row(start_s: float) -> dict[str, float]:
    """A voice that leans sad, with happy 0.3 where it says it."""
    sad = 0.4 + 0.02 * start_s
    rest = (1.0 - sad - 0.3) / 6
    return {label: sad if label == "sad" else 0.3 if label == "happy" else rest for label in CANONICAL_LABELS}


def _voice(labels: list[str], happy_null: bool, identity: dict) -> Track:
    """Audio windows every 0.5 s, 2 s long; happy null in every window (``happy_null``), or left out of
    ``labels``, or given."""
    windows = []
    for i in range(12):
        start_s = i * 0.5
        row = _voice_row(start_s)
        probs = [None if label == "happy" and happy_null else row[label] for label in labels]
        windows.append(Window(start_s, start_s + 2.0, probs, 0.9))
    return Track("audio", labels, windows, [], identity)


def _face(identity: dict) -> Track:
    windows = []
    for i in range(6):
        row = [0.06] * len(FACE_LABELS)
        row[FACE_LABELS.index("happy")] = 0.64 - 0.04 * i
        windows.append(Window(float(i), i + 2.0, row, 0.8))
    return Track("face", list(FACE_LABELS), windows, ["calm"], identity)


def _read_back(track: Track) -> Track:
    """The track as a file written by hand or by another tool reads: JSON, nulls and all."""
    return Track.from_dict(json.loads(json.dumps(track.to_dict())))


@pytest.mark.parametrize("method", METHODS)
def test_a_null_probability_fuses_as_the_modality_abstaining_on_that_label(method):
    # Learned fusers fall back to quality fusion on tracks of other models: theirs carry the shipped identities.
    learned = method in ("stacking", "attention")
    voice_id = _identity("audio-emotion", "session") if learned else {}
    face = _face(_identity("face-expression") if learned else {})
    with_null = make_fuser(method).fuse([_read_back(_voice(list(CANONICAL_LABELS), True, voice_id)), face])
    without = make_fuser(method).fuse([_voice(NO_HAPPY, False, voice_id), face])
    assert "fallback" not in with_null.model
    claims = [(a, b) for a, b in zip(with_null.windows, without.windows, strict=True) if a.probs is not None]
    assert claims
    for a, b in claims:
        assert b.probs is not None
        assert a.probs == pytest.approx(b.probs, abs=1e-6), a.start_s
        assert a.reason == b.reason and a.measurements == pytest.approx(b.measurements, abs=1e-6)
    # the face's say on happy is all there is: the voice's null did not pull it down as a 0 would
    given = make_fuser(method).fuse([_voice(list(CANONICAL_LABELS), False, voice_id), face])
    assert any(abs(a.probs[HAPPY] - g.probs[HAPPY]) > 1e-3 for (a, _), g in
               zip(claims, [w for w in given.windows if w.probs is not None], strict=True))


@pytest.mark.parametrize("method", METHODS)
def test_a_label_the_only_modality_gives_null_gets_no_probability(method):
    learned = method in ("stacking", "attention")
    voice = _read_back(_voice(list(CANONICAL_LABELS), True, _identity("audio-emotion", "session") if learned else {}))
    fused = make_fuser(method).fuse([voice])
    claims = [w for w in fused.windows if w.probs is not None]
    assert claims
    for window in claims:
        assert window.probs[HAPPY] is None  # not 0, 'certainly not happy'
        assert sum(p for p in window.probs if p is not None) == pytest.approx(1.0)


def test_a_grid_window_takes_a_label_from_the_track_windows_that_give_it():
    # Two 1 s windows in one 2 s grid window: the first gives happy no probability, the second 0.6.
    first = [0.1] * 8
    first[HAPPY] = None
    second = [0.4 / 7] * 8
    second[HAPPY] = 0.6
    track = _read_back(Track("audio", list(CANONICAL_LABELS),
                             [Window(0.0, 1.0, first, 1.0), Window(1.0, 2.0, second, 1.0)]))
    data = align_tracks([track], 2.0, 2.0).emotion
    mean_given = np.array([(0.1 + 0.4 / 7) / 2] * 8)
    mean_given[HAPPY] = 0.6
    np.testing.assert_allclose(data.probs[0, 0], mean_given / mean_given.sum())
    assert data.present[0, 0] and data.speaks[0, 0, HAPPY]
    # on a grid window of the first alone the voice abstains on happy
    alone = align_tracks([track], 1.0, 1.0).emotion
    assert not alone.speaks[0, 0, HAPPY] and alone.speaks[1, 0, HAPPY]
    assert alone.probs[0, 0, HAPPY] == 0.0 and alone.probs[0, 0].sum() == pytest.approx(1.0)


def test_a_voice_that_gives_happy_no_probability_cannot_disagree_with_a_happy_face():
    # A sad voice and a happy face disagree where the voice says happy is unlikely; where it gives happy no
    # probability it says nothing against the face, as a voice without happy in its labels.
    def voice(happy: float | None) -> Track:
        row = [0.1 / 6] * 8
        row[CANONICAL_LABELS.index("sad")], row[HAPPY] = 0.9, happy
        return _read_back(Track("audio", list(CANONICAL_LABELS), [Window(0.0, 2.0, row, 1.0)]))

    face_row = [0.1 / 6] * len(FACE_LABELS)
    face_row[FACE_LABELS.index("happy")] = 0.9
    face = Track("face", list(FACE_LABELS), [Window(0.0, 2.0, face_row, 1.0)], ["calm"])
    said = make_fuser("quality").fuse([voice(0.0), face], 2.0, 2.0).windows[0]
    withheld = make_fuser("quality").fuse([voice(None), face], 2.0, 2.0).windows[0]
    assert said.measurements["incongruent"] == 1.0 and said.reason.startswith("incongruent")
    assert withheld.measurements["incongruent"] == 0.0 and withheld.reason == ""


def test_a_null_label_moves_arousal_by_what_the_window_gives_not_by_a_zero():
    # A voice of own labels too (train audio --labels-as-given): 'anxious' feeds the fused arousal. A window giving
    # happy null still moves arousal by its anxious; one giving anxious null does not move it at all (was: both read
    # as 0, the first dropping the window's anxious, the second reading it as 'certainly calm', arousal -1).
    labels = [*CANONICAL_LABELS, "anxious"]
    happy_null = [0.05] * 8 + [0.6]
    happy_null[HAPPY] = None
    anxious_null = [0.1] * 8 + [None]
    voice = _read_back(Track("audio", labels, [Window(0.0, 2.0, happy_null, 1.0), Window(2.0, 4.0, anxious_null, 1.0)]))
    fused = make_fuser("quality").fuse([voice], 2.0, 2.0, arousal_from=["audio.anxious"])
    first, second = fused.windows
    assert first.measurements["arousal_audio_anxious"] == pytest.approx(2 * 0.6 - 1)
    assert "arousal_audio_anxious" not in second.measurements


def _truth_withheld_in(share: float) -> tuple:
    """Voice and face evidence with happy the truth of every window; the voice names it 0.7 where it names it, and
    withholds it (null) in ``share`` of the windows."""
    from runtime.fusion.align import FusionInput

    n, labels = 40, len(CANONICAL_LABELS)
    probs = np.full((n, 2, labels), 0.3 / (labels - 1))
    probs[:, :, HAPPY] = 0.7
    withheld = np.zeros(probs.shape, dtype=bool)
    withheld[: int(share * n), 0, HAPPY] = True
    data = FusionInput(["audio", "face"], probs, np.ones((n, 2)), np.ones((2, labels), dtype=bool),
                       withheld=withheld)
    return data, np.full(n, HAPPY)


def test_a_withheld_true_label_is_not_scored_as_a_miss_when_a_method_is_fitted():
    from runtime.fusion.base import modality_metrics

    plain, targets = _truth_withheld_in(0.0)
    nulled, _ = _truth_withheld_in(0.3)
    # was: the windows withholding the truth counted as misses (UA 0.7), and product's check threshold fell to 0
    assert modality_metrics(nulled, targets)["audio"] == modality_metrics(plain, targets)["audio"]
    fitted = [make_fuser("product").fit(data, targets).metrics["audio"] for data in (plain, nulled)]
    assert fitted[1]["contradiction_threshold"] == pytest.approx(fitted[0]["contradiction_threshold"])
    assert fitted[1]["temperature"] == pytest.approx(fitted[0]["temperature"])


def test_quality_fusion_gives_no_probability_to_a_label_only_a_weak_claim_names():
    row = [0.3 / 7] * len(CANONICAL_LABELS)
    row[HAPPY] = 0.7
    strong_voice = Track("audio", list(CANONICAL_LABELS), [Window(0.0, 2.0, [None if k == HAPPY else p for k, p in
                                                                            enumerate(row)], 0.9)])
    weak_face = Track("face", list(CANONICAL_LABELS), [Window(0.0, 2.0, row, 0.1)])
    fused = make_fuser("quality").fuse([strong_voice, weak_face], 2.0, 2.0).windows[0]
    # quality fusion leaves the weak face out, so no claim it read names happy (was: 0, 'certainly not happy')
    assert fused.probs[HAPPY] is None
    assert all(p is not None for k, p in enumerate(fused.probs) if k != HAPPY)
