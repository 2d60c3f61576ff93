"""The printed reading of a fused track: where the modalities disagree, beside the leading emotion over time."""

from runtime.fusion.affect import Disagreement, incongruence_reason
from runtime.timeline import CAVEAT, Timeline, reading_lines, spectrum_stretches
from runtime.track import CANONICAL_LABELS, Track, Window

HAPPY = [0.9 if label == "happy" else 0.1 / 7 for label in CANONICAL_LABELS]


def vs(voice: str, voice_confidence: float, label: str, confidence: float, modality: str = "face") -> Disagreement:
    """The voice naming ``voice`` against ``modality`` naming ``label``."""
    return Disagreement("audio", voice, voice_confidence, modality, label, confidence, divergence_bits=0.6)


def fused(disagreements: list[list[Disagreement]], reasons: dict[int, str] | None = None) -> Track:
    """A fused track of audio, face and body: happy 2 s windows every 0.5 s, each window flagged incongruent where
    pairs disagree, with their measurements and (unless ``reasons`` gives a window's own) their reason."""
    def measured(pairs: list[Disagreement]) -> dict[str, float]:
        return {"incongruent": float(bool(pairs))} | {name: v for d in pairs for name, v in d.measurements().items()}

    windows = [Window(0.5 * i, 0.5 * i + 2.0, HAPPY, 0.8, (reasons or {}).get(i, incongruence_reason(pairs)),
                      measured(pairs)) for i, pairs in enumerate(disagreements)]
    return Track("fused", list(CANONICAL_LABELS), windows, [], {}, {"modalities": ["audio", "face", "body"]})


def test_windows_flagged_incongruent_read_as_a_stretch_after_the_stretch_it_begins_in():
    track = fused([[], [], [vs("fearful", 0.79, "happy", 0.88)], [vs("fearful", 0.92, "happy", 0.90)], [], []])
    # each window stands for the time nearest its centre (1.0, 1.5, ...): its bounds half-way between
    # was: '0.0-4.5 s: happy (90%)' alone
    assert spectrum_stretches(track) == ["0.0-4.5 s: happy (90%)",
                                         "1.8-2.8 s: audio fearful vs face happy (incongruent)"]


def test_a_change_in_who_disagrees_or_a_window_between_parts_the_stretches_in_order_of_time():
    fearful, angry = vs("fearful", 0.80, "happy", 0.90), vs("angry", 0.70, "happy", 0.90)
    track = fused([[fearful], [angry], [], [fearful], [fearful, vs("fearful", 0.80, "happy", 0.60, "body")]])
    assert spectrum_stretches(track) == [
        "0.0-4.0 s: happy (90%)",
        "0.0-1.2 s: audio fearful vs face happy (incongruent)",
        "1.2-1.8 s: audio angry vs face happy (incongruent)",
        "2.2-2.8 s: audio fearful vs face happy (incongruent)",
        "2.8-4.0 s: audio fearful vs face happy; audio fearful vs body happy (incongruent)",
    ]


def test_who_disagrees_is_read_from_the_windows_measurements_whatever_their_reason_says():
    # a reason with a clause before the incongruence, or in other words: the same pair is read (was read from the
    # reason: 'no speech; incongruent: audio sad vs face happy (incongruent)', and the other wording as it stands)
    sad = vs("sad", 0.85, "happy", 0.90)
    track = fused([[sad], [sad], [sad]], reasons={0: f"no speech; {incongruence_reason([sad])}",
                                                 1: "the voice (sad) and the face (happy) disagree"})
    assert spectrum_stretches(track) == ["0.0-3.0 s: happy (90%)", "0.0-3.0 s: audio sad vs face happy (incongruent)"]


def test_the_reading_lines_of_an_analysis_say_where_the_modalities_disagree():
    track = fused([[], [vs("sad", 0.85, "happy", 0.90)], []])
    assert reading_lines(Timeline("x.mp4", 3.0, [track])) == [
        "fused: 3 windows, 3 with evidence", "fused, the leading emotion over time:", "  0.0-3.0 s: happy (90%)",
        "  1.2-1.8 s: audio sad vs face happy (incongruent)", CAVEAT]


def test_a_fused_track_that_claims_nothing_leaves_the_reading_to_the_first_emotion_track():
    # a learned fuser given two people's faces alone fuses nothing: the reading was '0.0-2.5 s: no evidence' of the
    # fused track, though the faces carried evidence
    faces = [Track(name, list(CANONICAL_LABELS), fused([[]]).windows, [], {}) for name in ("face-1", "face-2")]
    nothing = Track("fused", list(CANONICAL_LABELS), [Window(0.0, 2.0, None, 0.0, "no input of fusion-stacking")],
                    [], {})
    lines = reading_lines(Timeline("x.mp4", 2.0, [*faces, nothing]))
    assert "face-1, the leading emotion over time:" in lines and "  0.0-2.0 s: happy (90%)" in lines
    assert not any(line.startswith("fused, the leading") for line in lines)


def test_where_no_track_claims_the_fused_tracks_no_evidence_is_still_the_reading():
    # was (with the fallback above): no emotion lines at all, only the summaries and the caveat
    silent = Track("audio", list(CANONICAL_LABELS), [Window(0.0, 2.0, None, 0.0, "no speech")], [], {})
    nothing = Track("fused", list(CANONICAL_LABELS), [Window(0.0, 2.0, None, 0.0, "no modality claimed")], [], {})
    lines = reading_lines(Timeline("x.wav", 2.0, [silent, nothing]))
    assert lines[-3:] == ["fused, the leading emotion over time:", "  0.0-2.0 s: no evidence", CAVEAT]


def _happy_then_sad(spans_s: list[tuple[float, float]], sad_from_s: float) -> Track:
    sad = [0.9 if label == "sad" else 0.1 / 7 for label in CANONICAL_LABELS]
    return Track("fused", list(CANONICAL_LABELS),
                 [Window(a, b, HAPPY if a < sad_from_s else sad, 0.8) for a, b in spans_s], [], {})


def test_time_between_windows_a_hop_longer_than_the_window_leaves_is_read_as_no_evidence():
    from runtime.track import window_grid

    track = _happy_then_sad(window_grid(20.0, 1.0, 5.0), sad_from_s=8.0)
    # was: '0.0-8.0 s: happy (90%)', '8.0-16.0 s: sad (90%)', 16 s claimed from 4 s of windows
    assert spectrum_stretches(track) == [
        "0.0-1.0 s: happy (90%)", "1.0-5.0 s: no evidence", "5.0-6.0 s: happy (90%)", "6.0-10.0 s: no evidence",
        "10.0-11.0 s: sad (90%)", "11.0-15.0 s: no evidence", "15.0-16.0 s: sad (90%)"]


def test_a_gap_inside_a_track_is_no_evidence_and_overlapping_windows_still_meet_half_way():
    track = _happy_then_sad([(0.0, 2.0), (0.5, 2.5), (20.0, 22.0)], sad_from_s=10.0)
    # was: '0.0-11.2 s: happy (90%)', '11.2-22.0 s: sad (90%)'
    assert spectrum_stretches(track) == ["0.0-2.5 s: happy (90%)", "2.5-20.0 s: no evidence", "20.0-22.0 s: sad (90%)"]


def test_a_gap_beside_windows_without_a_claim_reads_as_one_stretch_of_no_evidence():
    track = Track("fused", list(CANONICAL_LABELS), [Window(0.0, 2.0, None, 0.0, "no speech"),
                                                    Window(5.0, 6.0, None, 0.0, "no speech")], [], {})
    assert spectrum_stretches(track) == ["0.0-6.0 s: no evidence"]


def test_stretches_past_a_screenful_are_counted_and_the_csv_named_for_the_windows_it_holds():
    sad = [0.9 if label == "sad" else 0.1 / 7 for label in CANONICAL_LABELS]
    windows = [Window(2.0 * i, 2.0 * i + 2.0, HAPPY if i % 2 else sad, 0.8) for i in range(45)]
    lines = reading_lines(Timeline("x.wav", 90.0, [Track("fused", list(CANONICAL_LABELS), windows, [], {})]))
    # was: '... 5 more stretches in timeline.csv', a file that holds windows, not stretches
    assert lines[-2] == "  ... 5 more stretches (timeline.csv holds every window)"
