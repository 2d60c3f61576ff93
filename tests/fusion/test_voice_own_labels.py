"""A voice track of a model trained on a clinic's own labels (train audio --labels-as-given) before fusion, which works
over the canonical labels: its canonical labels fuse weighed by their share, its own are left out and that is said."""

from __future__ import annotations

import logging

import numpy as np
import pytest

import runtime.pipeline as pipeline
from export.fusion.synthetic import synthetic_track
from runtime.config import load_settings
from runtime.fusion import fuse_with_settings
from runtime.track import CANONICAL_LABELS, Track, Window


def voice(labels: list[str], probs: list[float], n: int = 6, hop_s: float = 0.5, quality: float = 1.0) -> Track:
    windows = [Window(i * hop_s, i * hop_s + 2.0, list(probs), quality, "", {"speech_fraction": 1.0})
               for i in range(n)]
    return Track("audio", labels=labels, windows=windows,
                 unsupported_labels=[label for label in CANONICAL_LABELS if label not in labels])


def face() -> Track:
    return synthetic_track("face", [CANONICAL_LABELS.index("sad")] * 6, 3.0, unsupported=["calm"], seed=1)


def test_a_voice_track_of_own_labels_alone_is_not_fused_and_the_timeline_says_why():
    settings = load_settings(None, {"fusion.when": "always"})
    track = voice(["high", "low"], [0.7, 0.3])
    skipped = pipeline.fusion_skipped([track], settings)
    # was: fused into a track of no claim, as if the voice had said nothing of the emotions; then 'left out of the
    # fused track', of a session that has none
    assert skipped == ("too few tracks with something to say for fusion.when = 'always'; audio's labels high, low "
                       "are none of the canonical emotions fusion works over, so it reads nothing of this track")
    assert pipeline.fused_tracks([track], settings) == []
    # beside a face (fusion.when = "multiple", the default) the face alone has something to say: not fused either
    beside_face = pipeline.fusion_skipped([track, face()], load_settings(None))
    assert beside_face.startswith("too few tracks with something to say for fusion.when = 'multiple'; audio's labels "
                                  "high, low are none of the canonical emotions")
    assert "fused track" not in beside_face


def test_an_own_label_named_for_arousal_is_something_to_say():
    settings = load_settings(None, {"fusion.when": "always", "fusion.arousal_from": ["audio.high"]})
    track = voice(["high", "low"], [0.7, 0.3])
    assert pipeline.fusion_skipped([track], settings) is None
    fused = pipeline.fused_tracks([track], settings)[0]
    assert fused.settings["left_out_labels"] == {"audio": ["high", "low"]}
    # its 'high' moves arousal as physio's stress does; no emotion is claimed from it
    arousal = [w.measurements["arousal"] for w in fused.windows if "arousal" in w.measurements]
    assert arousal and all(value == pytest.approx(0.4) for value in arousal)  # 2 * 0.7 - 1
    assert all(w.probs is None for w in fused.windows)


def test_a_voice_tracks_canonical_labels_fuse_by_their_share_and_its_own_are_left_out_and_said(caplog):
    settings = load_settings(None)
    mixed = voice(["happy", "sad", "anxious"], [0.1, 0.3, 0.6])
    with caplog.at_level(logging.WARNING, logger="runtime.fusion"):
        fused = fuse_with_settings([mixed, face()], settings["fusion"])
    assert fused.settings["left_out_labels"] == {"audio": ["anxious"]}
    assert fused.settings["modalities"] == ["audio", "face"] and fused.labels == list(CANONICAL_LABELS)
    assert [r.getMessage() for r in caplog.records if "anxious" in r.getMessage()] == [
        "fusion: audio's label anxious is none of the canonical emotions fusion works over: left out of the fused "
        "track (happy, sad are fused, weighed by their share)"]  # was 'fused as usual', which they are not
    # the same as a voice model of happy and sad alone, saying them in the same proportion, with the share of its
    # belief on them (0.4) as its quality: a window mostly 'anxious' says little of happy or sad
    fewer = voice(["happy", "sad"], [0.25, 0.75], quality=0.4)
    alone = fuse_with_settings([fewer, face()], settings["fusion"])
    np.testing.assert_allclose(fused.probs_matrix(), alone.probs_matrix())
    assert alone.settings["left_out_labels"] == {}


def test_the_own_labels_line_speaks_of_a_fused_track_only_where_one_is_made(caplog):
    from runtime.fusion.align import own_labels_line

    settings = load_settings(None, {"fusion.when": "always"})
    own = voice(["high", "low"], [0.7, 0.3])
    with caplog.at_level(logging.WARNING, logger="runtime.fusion"):
        fused = pipeline.fused_tracks([own, face()], settings)
    assert [track.name for track in fused] == ["fused"]
    assert "fusion: audio's labels high, low are none of the canonical emotions fusion works over: left out of the " \
           "fused track, so nothing of this track is fused" in caplog.messages
    mixed = voice(["happy", "sad", "anxious"], [0.1, 0.3, 0.6])
    assert own_labels_line(mixed).endswith(": left out of the fused track (happy, sad are fused, weighed by their "
                                           "share)")
    assert pipeline.fusion_skipped([own], load_settings(None)).endswith(
        "fusion works over, so it reads nothing of this track")


def test_the_own_labels_line_names_an_own_label_arousal_reads_and_leaves_out_the_rest(caplog):
    from runtime.fusion.align import own_labels_line

    settings = load_settings(None, {"fusion.when": "always", "fusion.arousal_from": ["audio.high"]})
    own = voice(["high", "low"], [0.7, 0.3])
    with caplog.at_level(logging.WARNING, logger="runtime.fusion"):
        fused = pipeline.fused_tracks([own, face()], settings)[0]
    assert "arousal_audio_high" in fused.windows[0].measurements  # high moves the fused track's arousal
    said = [message for message in caplog.messages if "audio's labels" in message]
    # was: 'left out of the fused track, so nothing of this track is fused', of a label that moves its arousal
    assert said == ["fusion: audio's labels high, low are none of the canonical emotions fusion works over: high moves "
                    "the fused track's arousal (fusion.arousal_from), low is left out of the fused track"]
    # beside canonical labels, which fuse by their share; both own labels read: none left out
    mixed = voice(["happy", "sad", "anxious"], [0.1, 0.3, 0.6])
    assert own_labels_line(mixed, arousal_from=["audio.anxious"]).endswith(
        ": anxious moves the fused track's arousal (fusion.arousal_from); happy, sad are fused, weighed by their share")
    assert own_labels_line(own, arousal_from=["audio.low", "audio.high"]).endswith(
        ": high, low move the fused track's arousal (fusion.arousal_from)")
    # an entry of another track, or naming nothing this one carries, reads nothing of it
    assert own_labels_line(own, arousal_from=["face.high", "audio.hgih"]) == own_labels_line(own)


def test_the_own_labels_line_of_a_track_whose_measurement_arousal_reads_does_not_say_nothing_of_it_fuses(caplog):
    from runtime.fusion.align import own_labels_line

    settings = load_settings(None)  # arousal_from reads body.activation by default
    with caplog.at_level(logging.WARNING, logger="runtime.fusion"):
        fused = pipeline.fused_tracks([body(["slumped", "upright"], [0.8, 0.2]), face()], settings)[0]
    assert "arousal_body_activation" in fused.windows[0].measurements
    # was: '..., so nothing of this track is fused', of a track whose activation moves the fused track's arousal
    assert "fusion: body's labels slumped, upright are none of the canonical emotions fusion works over: left out of " \
           "the fused track; its activation moves the fused track's arousal (fusion.arousal_from)" in caplog.messages
    # an own label read too: the measurement is still named (was: left unsaid beside it)
    both = own_labels_line(body(["slumped", "upright"], [0.8, 0.2]), arousal_from=["body.slumped", "body.activation"])
    assert both.endswith(": slumped moves the fused track's arousal (fusion.arousal_from), upright is left out of "
                         "the fused track; its activation moves the fused track's arousal (fusion.arousal_from)")
    # beside a canonical label too (was: the activation unsaid there)
    mixed = own_labels_line(body(["happy", "slumped"], [0.3, 0.7]), arousal_from=["body.activation"])
    assert mixed.endswith(": left out of the fused track (happy is fused, weighed by its share); its activation "
                          "moves the fused track's arousal (fusion.arousal_from)")


def test_a_window_mostly_of_an_own_label_weighs_little_in_fusion():
    from runtime.fusion.align import align_tracks

    settings = load_settings(None)["fusion"]
    mostly_anxious = voice(["happy", "sad", "anxious"], [0.05, 0.05, 0.9])
    mostly_sad = voice(["happy", "sad", "anxious"], [0.05, 0.85, 0.1])
    quality = [align_tracks([track], settings["window_s"], settings["hop_s"]).emotion.quality[:, 0].max()
               for track in (mostly_anxious, mostly_sad)]
    # was 1.0 for both: a window 90 % 'anxious' made a full-quality claim between happy and sad (50/50)
    assert quality == pytest.approx([0.1, 0.9])


def test_an_arousal_entry_naming_nothing_the_track_carries_does_not_make_it_fused():
    from runtime.fusion import fuses_nothing_of

    track = voice(["high", "low"], [0.7, 0.3])
    assert not fuses_nothing_of(track, ["audio.high"]) and not fuses_nothing_of(track, ["audio.speech_fraction"])
    # was: any 'audio.' entry counted, and a typo fused the track into one of no claim
    assert fuses_nothing_of(track, ["audio.hgih"]) and fuses_nothing_of(track, ["face.high"])
    settings = load_settings(None, {"fusion.when": "always", "fusion.arousal_from": ["audio.hgih"]})
    assert pipeline.fused_tracks([track], settings) == []


def body(labels: list[str], probs: list[float], n: int = 6, hop_s: float = 0.5, quality: float = 1.0) -> Track:
    windows = [Window(i * hop_s, i * hop_s + 2.0, list(probs), quality, "", {"activation": 0.6}) for i in range(n)]
    return Track("body", labels=labels, windows=windows,
                 unsupported_labels=[label for label in CANONICAL_LABELS if label not in labels])


def test_a_body_classifiers_own_words_are_left_out_of_fusion_as_a_voice_models_are(caplog):
    # a train body classifier's labels are any words: those outside the canonical ones are its own, as the voice's
    settings = load_settings(None)
    with caplog.at_level(logging.WARNING, logger="runtime.fusion"):
        fused = fuse_with_settings([body(["happy", "slumped"], [0.3, 0.7]), face()], settings["fusion"])
    assert fused.settings["left_out_labels"] == {"body": ["slumped"]}
    assert "fusion: body's label slumped is none of the canonical emotions fusion works over: left out of the fused " \
           "track (happy is fused, weighed by its share); its activation moves the fused track's arousal " \
           "(fusion.arousal_from)" in caplog.messages  # arousal_from reads body.activation by default
    # its happy weighs the share of its belief on it (0.3; 0.2 would sit on the weak-quality bound, which the share
    # computed in floating point may fall just below), as the voice's canonical labels do
    alone = fuse_with_settings([body(["happy"], [1.0], quality=0.3), face()], settings["fusion"])
    assert fused.settings["modalities"] == alone.settings["modalities"] == ["body", "face"]
    # was: not allclose to a full-quality happy, which any change of weight passed
    np.testing.assert_allclose(fused.probs_matrix(), alone.probs_matrix())
    # a classifier of own words alone speaks to fusion through what arousal_from reads of it (body.activation by
    # default), and without that says nothing fusion reads
    slumped = body(["slumped", "upright"], [0.8, 0.2])
    assert pipeline.fusion_skipped([slumped, face()], settings) is None
    skipped = pipeline.fusion_skipped([slumped, face()], load_settings(None, {"fusion.arousal_from": []}))
    assert skipped.endswith("body's labels slumped, upright are none of the canonical emotions fusion works over, so "
                            "it reads nothing of this track")  # no fused track was made to leave them out of


def test_a_mistyped_arousal_entry_of_a_voice_that_does_not_run_is_blamed_on_the_entry_not_its_card():
    from runtime.checks import check_models
    from runtime.errors import InputError

    settings = load_settings(None, {"audio.model": "/nowhere/audio-model", "fusion.arousal_from": ["audio.hgih"]})
    # was: "setting 'audio.model' = '/nowhere/audio-model': no model card", of a voice that does not run here
    with pytest.raises(InputError, match=r"setting 'fusion.arousal_from' = \['audio.hgih'\]: the audio track carries "
                                         r"no 'hgih' \(arousal can read: nothing; its model's labels are unknown: "
                                         r"setting 'audio.model' = '/nowhere/audio-model': no model card"):
        check_models(settings, [])
    # a measurement's name needs no card to be judged
    with pytest.raises(InputError, match=r"the audio track's 'pause_s' is a measurement on a scale of its own"):
        check_models(load_settings(None, {"audio.model": "/nowhere/audio-model",
                                          "fusion.arousal_from": ["audio.pause_s"]}), [])
    # where the voice runs, its card is refused as its own setting, as before
    with pytest.raises(InputError, match=r"setting 'audio.model' = '/nowhere/audio-model': no model card"):
        check_models(settings, ["audio"])


def test_a_voice_of_own_and_canonical_labels_alone_is_fused_for_its_canonical_ones():
    # Only a track whose labels are all its model's own says nothing to fusion; one that also gives happy and sad
    # has something to say, so fusion.when = 'always' fuses it alone (its own label left out).
    from runtime.fusion import fuses_nothing_of, should_fuse

    mixed = voice(["happy", "sad", "anxious"], [0.1, 0.3, 0.6])
    assert not fuses_nothing_of(mixed)
    assert should_fuse([mixed], "always") and should_fuse([mixed, face()], "multiple")
    settings = load_settings(None, {"fusion.when": "always"})
    assert pipeline.fusion_skipped([mixed], settings) is None
