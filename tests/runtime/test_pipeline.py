"""The file pipeline: which arm runs when, and what reaches the timeline."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from runtime import checks, pipeline
from runtime.config import load_settings
from runtime.errors import InputError
from runtime.media import wav_bytes
from runtime.timeline import Timeline, software_record, write_timeline
from runtime.track import Track, Window
from tests.runtime.model_folders import body_model_labelled
from tests.runtime.pipeline_fakes import EXAMPLE, fake_arm, refused_before_any_arm


@pytest.fixture
def media(tmp_path):
    path = tmp_path / "session.wav"
    path.write_bytes(wav_bytes(np.zeros(16000, dtype=np.float32), 16000))
    return path


def test_a_bad_physio_recording_fails_before_any_video_or_audio_work(tmp_path, media, monkeypatch):
    calls: list[str] = []
    arms = [("audio", fake_arm("audio", calls)), ("physio", fake_arm("physio", calls, fails=True))]
    monkeypatch.setattr(pipeline, "ARMS", arms)
    with pytest.raises(InputError, match="physio.csv"):
        pipeline.analyze_file(media, tmp_path / "out", load_settings(None, {"physio.enabled": True}))
    assert calls == ["physio"]
    assert not (tmp_path / "out").exists()


def test_the_timeline_keeps_the_arms_order_whatever_ran_first(tmp_path, media, monkeypatch):
    calls: list[str] = []
    arms = [("audio", fake_arm("audio", calls)), ("physio", fake_arm("physio", calls))]
    monkeypatch.setattr(pipeline, "ARMS", arms)
    timeline = pipeline.analyze_file(media, tmp_path / "out", load_settings(None, {"physio.enabled": True}),
                                     fuse=False)
    assert calls == ["physio", "audio"]
    assert [t.name for t in timeline.tracks] == ["audio", "physio"]


def test_a_timeline_that_cannot_be_written_leaves_no_folder(tmp_path, monkeypatch):
    timeline = Timeline(input_path="x.wav", duration_s=1.0, tracks=[], settings={}, software={})
    monkeypatch.setattr(Timeline, "to_csv", lambda _self: (_ for _ in ()).throw(ValueError("not a number")))
    with pytest.raises(ValueError):
        write_timeline(timeline, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_analyze_refuses_to_write_its_timeline_over_its_own_input(tmp_path, media, monkeypatch):
    out = tmp_path / "outB"
    out.mkdir()
    recording = out / "timeline.csv"
    recording.write_bytes(media.read_bytes())
    refused_before_any_arm(monkeypatch, recording, out, load_settings(None), "output would overwrite the input")
    assert recording.read_bytes() == media.read_bytes()


def test_analyze_refuses_to_write_over_the_physio_recording(tmp_path, media, monkeypatch):
    wearable = tmp_path / "timeline.csv"
    wearable.write_text("t,hr\n0,70\n")
    refused_before_any_arm(monkeypatch, media, tmp_path, load_settings(None), "output would overwrite the input",
                           extras={"physio_path": wearable})


def test_a_folder_where_the_timeline_goes_is_refused_before_any_work(tmp_path, media, monkeypatch):
    (tmp_path / "out" / "timeline.json").mkdir(parents=True)
    refused_before_any_arm(monkeypatch, media, tmp_path / "out", load_settings(None), "timeline.json: is a folder")


def test_a_physio_recording_given_to_an_arm_switched_off_is_refused(tmp_path, media, monkeypatch):
    config = tmp_path / "clinic.toml"
    config.write_text("[physio]\nenabled = false\n")
    error = refused_before_any_arm(monkeypatch, media, tmp_path / "out", load_settings(config),
                                   "setting 'physio.enabled' = False: --physio .* was given, but the physio arm is "
                                   "off", extras={"physio_path": tmp_path / "e4.csv"})
    assert error.source == str(config)


@pytest.mark.parametrize(("text", "setting", "problem"), [
    ('[fusion]\nmodel = "no-such-model"\n', "fusion.model", "no-such-model"),
    ('[face]\nmodel = "no-such-expression-model"\n', "face.model", "no-such-expression-model"),
    ('[audio]\nmodel = "/nowhere/audio-model"\n', "audio.model", "no model card"),
])
def test_a_missing_model_is_refused_naming_the_setting_and_file_before_any_arm_runs(tmp_path, monkeypatch, text,
                                                                                    setting, problem):
    config = tmp_path / "clinic.toml"
    config.write_text(text)
    error = refused_before_any_arm(monkeypatch, EXAMPLE, tmp_path / "out", load_settings(config),
                                   f"setting '{setting}' = .*{problem}")
    assert error.source == str(config)


def _fusion_model(tmp_path, edit) -> Path:
    import json
    import shutil

    from runtime.models.card import REPO_MODELS_DIR

    folder = Path(shutil.copytree(REPO_MODELS_DIR / "fusion-stacking", tmp_path / "fusion"))
    card = json.loads((folder / "card.json").read_text())
    edit(card)
    (folder / "card.json").write_text(json.dumps(card))
    return folder


@pytest.mark.parametrize(("edit", "problem"), [
    (lambda card: card.update(modalities=["audio", "face", "body"]),
     "the stacking model does not run on the modalities its card names \\(audio, face, body\\)"),
    (lambda card: card.pop("modalities"), "fusion model card lacks 'modalities'"),
    # was: accepted, and the session's audio track left out of the fused track with no word but the windows' reasons
    (lambda card: card.update(modalities=["voice", "face"]),
     "the stacking model's card names voice, which no arm's track is \\(audio, face, body\\): it would never be "
     "fused$"),
])
def test_a_fusion_model_that_disagrees_with_its_card_is_refused_before_any_arm_runs(tmp_path, media, monkeypatch,
                                                                                   edit, problem):
    settings = load_settings(None, {"fusion.model": str(_fusion_model(tmp_path, edit))})
    error = refused_before_any_arm(monkeypatch, media, tmp_path / "out", settings, problem)
    assert error.source == "command line" and "setting 'fusion.model'" in str(error)


def test_an_arousal_source_no_track_carries_is_refused_before_any_arm_runs(tmp_path, monkeypatch):
    config = tmp_path / "clinic.toml"
    config.write_text('[fusion]\narousal_from = ["body.activaton"]\n')
    error = refused_before_any_arm(monkeypatch, EXAMPLE, tmp_path / "out", load_settings(config),
                                   "setting 'fusion.arousal_from' = \\['body.activaton'\\]: the body track carries "
                                   "no 'activaton' \\(arousal can read: activation\\)$")
    assert error.source == str(config)


@pytest.mark.parametrize("source, scale", [("body.shoulder_width_px", "activation"),
                                           ("audio.f0_median_hz", "nothing"), ("face.face_coverage", "nothing")])
def test_an_arousal_source_on_a_scale_of_its_own_is_refused_before_any_arm_runs(tmp_path, monkeypatch, source,
                                                                                 scale):
    # was: accepted, and read as a z-score: a pitch of 200 Hz (tanh 200 = 1) held arousal at its top all session
    track, _, name = source.partition(".")
    settings = load_settings(None, {"fusion.arousal_from": [source]})
    refused_before_any_arm(monkeypatch, EXAMPLE, tmp_path / "out", settings,
                           f"the {track} track's '{name}' is a measurement on a scale of its own, not an activation "
                           f"score \\(arousal can read: {scale}\\)$")


def test_a_label_that_is_no_activation_is_refused_as_an_arousal_source(tmp_path, monkeypatch):
    settings = load_settings(None, {"fusion.arousal_from": ["physio.no_stress"], "physio.enabled": True})
    # was: accepted, and a calm patient's no_stress probability raised arousal
    refused_before_any_arm(monkeypatch, EXAMPLE, tmp_path / "out", settings,
                           "the physio track's 'no_stress' is a label that is not an activation \\(arousal can "
                           "read: stress\\)$", extras={"physio_path": str(tmp_path / "e4.zip")})


def test_the_default_arousal_sources_and_each_arms_measurements_are_known(tmp_path):
    from runtime.arms.body.arm import add_relative, window_measurements
    from runtime.arms.registry import arm_named
    from runtime.models import load_card
    from tests.arms.body.poses import seated_pose

    points, visible = seated_pose(10)
    values = window_measurements(np.arange(10) / 5.0, points, visible, 0.0, 2.0)
    add_relative([values])
    assert set(values) == arm_named("body").measurement_names()
    assert checks.activation_names("body", {}) == {"activation"}
    assert checks.activation_names("physio", {"model": load_card("physio-stress")}) == {"stress"}
    assert {"pause_s", "speech_fraction"} <= arm_named("audio").measurement_names()
    assert {"face_coverage", "gaze_away_fraction"} <= arm_named("face").measurement_names()


def test_a_video_stream_without_frames_is_analysed_without_the_face_and_body_when_another_arm_reads_the_input(
        tmp_path, monkeypatch, caplog):
    from tests.media_factory import tone, write_media

    video = write_media(tmp_path / "blind.mkv", tone(2.0, 16000), 16000, "pcm_s16le", video_codec="libx264",
                        video_s=0.0)  # a video stream without a packet, beside the sound
    calls: list[str] = []
    arms = dict(pipeline.ARMS)
    monkeypatch.setattr(pipeline, "ARMS", [("audio", fake_arm("audio", calls)), ("face", arms["face"]),
                                           ("body", arms["body"])])
    with caplog.at_level("WARNING"):
        timeline = pipeline.analyze_file(video, tmp_path / "out", load_settings(None), fuse=False)
    # was: face and body tracks whose every window said "no video frames (gap or unreadable frames)", and
    # "no face found in 0 sampled frames"
    assert [t.name for t in timeline.tracks] == ["audio"]
    assert caplog.messages == [f"{video}: video stream holds no frames; analysed without the face and body"]
    assert timeline.settings["face"] == timeline.settings["body"] == {
        "enabled": False, "why": "found nothing it could read in the input"}  # as for an empty sound stream
    without_voice = load_settings(None, {"audio.enabled": False})
    with pytest.raises(InputError, match="video stream holds no frames$"):  # nothing else to read: refused
        pipeline.analyze_file(video, tmp_path / "out2", without_voice, fuse=False)


def test_a_video_stream_without_frames_beside_a_physio_recording_is_analysed_for_the_recording_alone(
        tmp_path, monkeypatch, caplog):
    from tests.media_factory import tone, write_media

    video = write_media(tmp_path / "blind.mkv", tone(2.0, 16000), 16000, "pcm_s16le", video_codec="libx264",
                        video_s=0.0)  # a video stream without a packet; its sound not read (the audio arm off)
    recording = tmp_path / "rec.csv"
    recording.write_text("time_s,eda\n" + "".join(f"{t / 4:.2f},2.0\n" for t in range(40)))
    calls: list[str] = []
    arms = dict(pipeline.ARMS)
    monkeypatch.setattr(pipeline, "ARMS", [("face", arms["face"]), ("body", arms["body"]),
                                           ("physio", fake_arm("physio", calls))])
    settings = load_settings(None, {"audio.enabled": False, "physio.enabled": True})
    with caplog.at_level("WARNING"):
        timeline = pipeline.analyze_file(video, tmp_path / "out", settings, {"physio_path": str(recording)},
                                         fuse=False)
    assert [t.name for t in timeline.tracks] == ["physio"]  # the recording is read beside the picture
    assert caplog.messages == [f"{video}: video stream holds no frames; analysed without the face and body"]


def _mp4_without_packets(path: Path, fragmented: bool) -> Path:
    """An MP4 of a video and a sound stream, neither given a packet, as a recorder stopped before its first frame
    leaves it: fragmented, its header keeps both streams; plain, it keeps no stream without a packet, so none."""
    import av

    options = {"movflags": "frag_keyframe+empty_moov"} if fragmented else {}
    with av.open(str(path), "w", format="mp4", options=options) as container:
        video = container.add_stream("mpeg4", rate=10)
        video.width, video.height, video.pix_fmt = 64, 64, "yuv420p"
        container.add_stream("aac", rate=16000).codec_context.layout = "mono"
        container.start_encoding()
    return path


def test_a_recording_whose_every_stream_is_empty_is_one_error_naming_both_not_warnings_before_it(tmp_path, caplog):
    video = _mp4_without_packets(tmp_path / "empty.mp4", fragmented=True)
    with caplog.at_level("WARNING"), pytest.raises(InputError) as refused:
        pipeline.analyze_file(video, tmp_path / "out", load_settings(None), fuse=False)
    assert refused.value.problem == "nothing to analyse: audio stream holds no samples; video stream holds no frames"
    assert caplog.messages == []  # was: 'analysed without the voice', '... without the face and body', then the error
    assert not (tmp_path / "out").exists()


def test_a_container_without_streams_is_said_to_lack_every_stream_the_enabled_arms_read(tmp_path):
    path = _mp4_without_packets(tmp_path / "nothing.mp4", fragmented=False)
    with pytest.raises(InputError) as refused:
        pipeline.analyze_file(path, tmp_path / "out", load_settings(None), fuse=False)
    assert refused.value.problem == "has no audio or video stream"  # was: 'has no audio stream', face and body on
    voice_off = load_settings(None, {"audio.enabled": False})
    with pytest.raises(InputError, match="has no video stream$"):
        pipeline.analyze_file(path, tmp_path / "out", voice_off, fuse=False)


@pytest.mark.parametrize(("name", "audio_codec"), [
    ("mute.mkv", "pcm_s16le"),
    ("mute.ts", "aac"),  # MPEG-TS declares no rate for it (0): was refused, 'declares 0 samples a second'
    ("mute.m2ts", "pcm_bluray"),  # a camcorder's LPCM, its rate in its packets: none to find
])
def test_a_video_whose_sound_stream_holds_nothing_is_analysed_without_the_voice_when_a_video_arm_runs(
        tmp_path, monkeypatch, caplog, name, audio_codec):
    from tests.media_factory import write_media

    video = write_media(tmp_path / name, np.zeros(0, dtype=np.float32), 48000, audio_codec,
                        video_codec="mpeg4", video_s=2.0)  # a sound stream without a packet
    calls: list[str] = []
    monkeypatch.setattr(pipeline, "ARMS", [("audio", dict(pipeline.ARMS)["audio"]), ("face", fake_arm("face", calls))])
    with caplog.at_level("WARNING"):
        timeline = pipeline.analyze_file(video, tmp_path / "out", load_settings(None), fuse=False)
    assert [t.name for t in timeline.tracks] == ["face"]  # was: refused, losing the face and body as well
    assert caplog.messages == [f"{video}: audio stream holds no samples; analysed without the voice"]
    without_video_arms = load_settings(None, {"face.enabled": False, "body.enabled": False})
    with pytest.raises(InputError, match="audio stream holds no samples$"):
        pipeline.analyze_file(video, tmp_path / "out2", without_video_arms, fuse=False)
    assert not (tmp_path / "out2").exists()


@pytest.mark.parametrize("name", ["photo.jpg", "photo.png", "photo.gif"])
def test_a_photograph_is_refused_as_no_recording_before_any_arm_runs(tmp_path, monkeypatch, name):
    from PIL import Image

    photo = tmp_path / name
    Image.fromarray(np.full((48, 64, 3), 120, dtype=np.uint8)).save(photo)
    # was: analysed as a 0.04 s recording, a face track and all, exit 0
    refused_before_any_arm(monkeypatch, photo, tmp_path / "out", load_settings(None),
                           "a still image, not a recording \\(emotrace face classify reads photographs\\)")
    assert not (tmp_path / "out").exists()


def test_an_analysis_never_replaces_a_live_sessions_timeline(tmp_path, media, monkeypatch):
    out = tmp_path / "session"
    live = Timeline("default", 2.0, [Track("audio", labels=["neutral"], windows=[Window(0.0, 2.0, [1.0], 1.0)])],
                    software=software_record(0.0, started_at_utc="2026-12-05T09:00:00+00:00"))
    write_timeline(live, out)
    before = (out / "timeline.json").read_bytes()
    # was: replaced without a word, though a session cannot be recorded again
    refused_before_any_arm(monkeypatch, media, out, load_settings(None), "holds a live session's timeline")
    assert (out / "timeline.json").read_bytes() == before
    (out / "timeline.json").write_text((out / "timeline.json").read_text().replace("started_at_utc", "elapsed"))
    monkeypatch.setattr(pipeline, "ARMS", [("audio", fake_arm("audio", []))])
    pipeline.analyze_file(media, out, load_settings(None), fuse=False)  # an earlier analysis is replaced
    assert Timeline.from_dict(json.loads((out / "timeline.json").read_text())).input_path == str(media)


@pytest.mark.parametrize("method", ["stacking", "mean"])
def test_a_backend_that_is_not_installed_is_named_as_the_backend_setting_whatever_fuses(tmp_path, media,
                                                                                        monkeypatch, method):
    from runtime.models import runner

    class Missing(runner.OnnxRuntimeBackend):
        name = "openvino"

        @classmethod
        def unavailable(cls) -> str:
            return "backend not installed: pip install -e '.[openvino]' in the project"

    monkeypatch.setitem(runner.BACKENDS, "openvino", Missing)
    settings = load_settings(None, {"runtime.backend": "openvino", "fusion.method": method})
    # was: "setting 'fusion.model' = '': openvino: ..." (a learned fuser), or the arm's own words naming no setting
    refused_before_any_arm(monkeypatch, media, tmp_path / "out", settings,
                           "setting 'runtime.backend' = 'openvino': backend not installed")


def test_a_timeline_records_the_libraries_that_made_it_and_when_it_was_analysed(tmp_path, media, monkeypatch):
    from importlib.metadata import version

    monkeypatch.setattr(pipeline, "ARMS", [("audio", fake_arm("audio", []))])
    software = pipeline.analyze_file(media, tmp_path / "out", load_settings(None), fuse=False).software
    assert software["libraries"]["numpy"] == version("numpy") and "onnxruntime" in software["libraries"]
    assert software["analysed_at_utc"].endswith("+00:00") and "started_at_utc" not in software  # not live
    written = json.loads((tmp_path / "out" / "timeline.json").read_text())["software"]
    assert written == software


def test_an_animated_gif_is_a_recording_not_a_photograph(tmp_path):
    from PIL import Image

    from runtime.media import probe

    frames = [Image.fromarray(np.full((48, 64, 3), 40 * i, dtype=np.uint8)) for i in range(5)]
    frames[0].save(tmp_path / "moving.gif", save_all=True, append_images=frames[1:], duration=100)
    assert not probe(tmp_path / "moving.gif").still_image


def test_a_model_whose_label_is_a_timeline_column_is_refused_before_any_arm_runs(tmp_path, media, monkeypatch):
    folder = body_model_labelled(tmp_path / "body-old", ["calm", "arousal"])
    video = tmp_path / "v.mkv"
    from tests.media_factory import write_media

    write_media(video, np.zeros(16000, dtype=np.float32), 16000, "pcm_s16le", video_codec="mpeg4", video_s=1.0)
    settings = load_settings(None, {"body.model": str(folder)})
    # was: every arm ran, then "internal error: TrackFormatError: 'arousal' would name two columns"
    refused_before_any_arm(monkeypatch, video, tmp_path / "out", settings,
                           "setting 'body.model' = .*: the model's label 'arousal' is the name of a timeline column")


def test_a_voice_models_own_error_is_not_taken_for_a_video_without_sound(tmp_path, monkeypatch):
    from runtime.arms.audio import arm
    from tests.media_factory import write_media

    video = write_media(tmp_path / "v.mkv", np.zeros(16000, dtype=np.float32), 16000, "pcm_s16le",
                        video_codec="mpeg4", video_s=1.0)

    def rejecting(*_args):
        raise InputError("models/voice/card.json", "the model rejects its input")

    monkeypatch.setattr(arm, "_read_and_judge", rejecting)
    monkeypatch.setattr(pipeline, "ARMS", [("audio", dict(pipeline.ARMS)["audio"]), ("face", fake_arm("face", []))])
    # was: one warning, "analysed without the voice", and exit 0 with a broken voice model
    with pytest.raises(InputError, match="the model rejects its input"):
        pipeline.analyze_file(video, tmp_path / "out", load_settings(None), fuse=False)


def test_an_input_no_enabled_arm_reads_is_refused_and_nothing_written(tmp_path, media, monkeypatch):
    monkeypatch.setattr(pipeline, "ARMS", [("audio", lambda _request: None)])  # the voice off: no track
    with pytest.raises(InputError, match="has no video stream$"):  # the face and body on, a sound file
        pipeline.analyze_file(media, tmp_path / "out", load_settings(None, {"audio.enabled": False}))
    assert not (tmp_path / "out").exists()


def test_a_physio_model_is_not_asked_for_when_no_physio_recording_is_given(tmp_path, media, monkeypatch):
    physio_arm = dict(pipeline.ARMS)["physio"]
    monkeypatch.setattr(pipeline, "ARMS", [("audio", fake_arm("audio", [])), ("physio", physio_arm)])
    settings = load_settings(None, {"physio.enabled": True, "physio.model": "./no-such-model"})
    timeline = pipeline.analyze_file(media, tmp_path / "out", settings, fuse=False)  # a voice-only analysis
    assert [t.name for t in timeline.tracks] == ["audio"]


def test_the_timeline_lasts_as_long_as_its_longest_track(tmp_path, media, monkeypatch):
    def long_arm(_request):  # a track past the 1 s recording's end
        return Track(name="audio", labels=["neutral"], windows=[Window(0.0, 5.0, [1.0], 1.0)])

    monkeypatch.setattr(pipeline, "ARMS", [("audio", long_arm)])
    assert pipeline.analyze_file(media, tmp_path / "out", load_settings(), fuse=False).duration_s == 5.0


def test_the_fuser_runs_on_the_backend_the_settings_choose(monkeypatch):
    import runtime.fusion as fusion

    asked = []
    monkeypatch.setattr(fusion, "fuse_with_settings", lambda tracks, section, backend: asked.append(backend))
    monkeypatch.setattr(fusion, "should_fuse", lambda tracks, when, arousal_from=(): True)
    settings = load_settings(None, {"runtime.backend": "openvino"})
    pipeline.fused_tracks([], settings)
    assert asked == ["openvino"]


@pytest.mark.parametrize("enabled, due, why", [(False, True, "switched off"), (True, False, "fusion.when"),
                                               (True, True, "the fuser failed")])
def test_fusion_runs_exactly_where_no_reason_says_why_not(monkeypatch, enabled, due, why):
    import runtime.fusion as fusion

    monkeypatch.setattr(fusion, "should_fuse", lambda tracks, when, arousal_from=(): due)
    monkeypatch.setattr(fusion, "fuse_with_settings", lambda tracks, section, backend: "fused")
    settings = load_settings(None, {"fusion.enabled": enabled})
    skipped = pipeline.fusion_skipped([], settings)
    assert (skipped is None) == (enabled and due)
    assert pipeline.fused_tracks([], settings) == ([] if skipped else ["fused"])
    # what a timeline records where nothing was fused: the reason it did not run, else the fuser's failure
    assert why in pipeline.why_not_fused([], settings)


def test_an_analysis_does_not_write_over_a_live_session_begun_in_its_folder_meanwhile(tmp_path, media, monkeypatch):
    out = tmp_path / "out"
    session = '{"format": "emotrace-timeline", "software": {"started_at_utc": "2026-12-05T10:00:00+00:00"}}'

    def session_begins(_request):  # a live session claims the folder while the arm works
        out.mkdir()
        (out / "timeline.json").write_text(session)
        return Track(name="audio", labels=["neutral"], windows=[Window(0.0, 1.0, [1.0], 1.0)])

    monkeypatch.setattr(pipeline, "ARMS", [("audio", session_begins)])
    # was: the analysis replaced the session's timeline at its end
    with pytest.raises(InputError, match="holds a live session's timeline, which this analysis would replace"):
        pipeline.analyze_file(media, out, load_settings(None), fuse=False)
    assert (out / "timeline.json").read_text() == session


def test_an_analysis_does_not_write_over_a_sessions_claim_of_its_folder(tmp_path, media, monkeypatch):
    out = tmp_path / "out"

    def session_claims(_request):  # a live session has just made its empty timeline.json, as it starts
        out.mkdir()
        (out / "timeline.json").write_bytes(b"")
        return Track(name="audio", labels=["neutral"], windows=[Window(0.0, 1.0, [1.0], 1.0)])

    monkeypatch.setattr(pipeline, "ARMS", [("audio", session_claims)])
    # was: an empty file read as no session, and the analysis written over the session's claim
    # the empty file is said as what it is (was: 'holds a live session's timeline', though it holds none)
    with pytest.raises(InputError, match="holds an empty timeline.json: a live session's, cut off as it started or "
                                         "starting now"):
        pipeline.analyze_file(media, out, load_settings(None), fuse=False)
    assert (out / "timeline.json").read_bytes() == b""


def test_an_arousal_source_of_an_arm_that_does_not_run_is_checked_by_what_the_arm_declares(tmp_path, monkeypatch):
    settings = load_settings(None, {"fusion.arousal_from": ["body.activation", "physio.strees"]})
    # was: skipped without --physio, and refused only on the first run with a recording
    refused_before_any_arm(monkeypatch, EXAMPLE, tmp_path / "out", settings,
                           "the physio track carries no 'strees' \\(arousal can read: stress\\)$")


def test_the_recorded_settings_say_which_steps_ran_and_why_the_others_did_not(tmp_path, media, monkeypatch):
    physio_arm = dict(pipeline.ARMS)["physio"]  # the real one: no recording given, no track
    arms = [("audio", fake_arm("audio", [])), ("face", lambda _request: None), ("body", fake_arm("body", [])),
            ("physio", physio_arm)]
    monkeypatch.setattr(pipeline, "ARMS", arms)
    settings = load_settings(None, {"body.enabled": False})
    pipeline.analyze_file(media, tmp_path / "out", settings)
    recorded = json.loads((tmp_path / "out" / "timeline.json").read_text())["settings"]
    assert recorded["audio"] == settings["audio"] and recorded["runtime"] == settings["runtime"]  # as they ran
    # was: each as configured, enabled, as if it had run
    assert recorded["face"] == {"enabled": False, "why": "the input has no video stream"}
    assert recorded["physio"] == {"enabled": False, "why": "no recording was given for it beside the input"}
    assert recorded["body"] == {"enabled": False, "why": pipeline.SWITCHED_OFF}
    assert recorded["fusion"]["enabled"] is False and "fusion.when = 'multiple'" in recorded["fusion"]["why"]


def test_an_analysis_asked_not_to_fuse_records_fusion_as_not_run(tmp_path, media, monkeypatch):
    monkeypatch.setattr(pipeline, "ARMS", [("audio", fake_arm("audio", [])), ("face", fake_arm("face", []))])
    timeline = pipeline.analyze_file(media, tmp_path / "out", load_settings(None, {"body.enabled": False}),
                                     fuse=False)
    assert timeline.settings["fusion"] == {"enabled": False, "why": pipeline.NOT_FUSED_ON_REQUEST}
    assert timeline.settings["face"]["enabled"] is True  # a fake face track on a sound file: it ran


OFF = {"audio.enabled": False, "face.enabled": False, "body.enabled": False}


@pytest.mark.parametrize("physio_on, said", [
    (False, "nothing to analyse: every arm is switched off in the settings"),
    (True, "nothing to analyse: the arms switched on (physio) read no stream of it, and no --physio recording was "
           "given")])
def test_settings_that_leave_no_arm_to_run_are_refused_saying_so_not_blaming_the_inputs_streams(
        tmp_path, media, monkeypatch, physio_on, said):
    # was: 'no stream that an enabled arm reads', blaming a file whose streams were all there
    settings = load_settings(None, {**OFF, "physio.enabled": physio_on})
    refused = refused_before_any_arm(monkeypatch, media, tmp_path / "out", settings, "nothing to analyse")
    assert refused.problem == said and not (tmp_path / "out").exists()


def test_settings_that_switch_every_arm_off_are_refused_naming_the_config_file_not_the_input(
        tmp_path, media, monkeypatch):
    config = tmp_path / "site.toml"
    config.write_text("".join(f"[{arm}]\nenabled = false\n" for arm in ("audio", "face", "body", "physio")))
    refused = refused_before_any_arm(monkeypatch, media, tmp_path / "out", load_settings(config),
                                     "every arm is switched off")
    assert refused.source == str(config)  # was: the input, whose streams had nothing to do with it
