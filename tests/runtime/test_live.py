import json
import math
import os
import re
import signal
import threading
from pathlib import Path

import pytest

from runtime.config import load_settings
from runtime.errors import InputError
from runtime.live import describe_window, run_live_audio
from runtime.track import CANONICAL_LABELS, Window
from tests.runtime.stops import stopped_after_its_first_window


def test_live_session_from_an_ffmpeg_input_device_prints_each_window_and_writes_the_timeline(tmp_path):
    lines = []
    # the noise seeded: a random one may now and then hold a stretch the voice activity detector takes for speech
    timeline = run_live_audio(tmp_path / "live", load_settings(), device="anoisesrc=c=pink:a=0.05:r=16000:s=1",
                              input_format="lavfi", duration_s=4.0, on_line=lines.append)
    track = timeline.tracks[0]
    assert track.settings["mode"] == "live" and track.settings["status"] == "complete"
    *window_lines, last = lines
    assert len(window_lines) == len(track.windows) >= 4
    assert all(line.startswith("at ") for line in window_lines)
    assert re.fullmatch(r"session ended at \d+\.\d s; writing its timeline", last)  # said before the wrap-up
    assert not any(w.has_claim for w in track.windows)  # pink noise is not speech
    assert json.loads((tmp_path / "live" / "timeline.json").read_text())["tracks"][0]["name"] == "audio"


def test_a_live_voice_track_ends_with_the_session_not_a_chunk_after_it(tmp_path):
    paced = "anoisesrc=c=pink:a=0.05:r=16000,arealtime"  # at a microphone's pace: arrival and sample time agree
    timeline = run_live_audio(tmp_path / "live", load_settings(), device=paced, input_format="lavfi",
                              duration_s=2.01, on_line=None)
    track = timeline.tracks[0]
    assert track.windows[-1].end_s == pytest.approx(2.01, abs=1e-3)  # was: the end of the chunk holding 2.01 s
    assert timeline.duration_s == pytest.approx(2.01, abs=1e-3)


def test_a_session_too_short_for_any_audio_says_so_not_complete(tmp_path):
    with pytest.raises(InputError, match=r"no audio captured \(the session ended before any audio arrived\)"):
        run_live_audio(tmp_path / "live", load_settings(), device="anoisesrc=c=pink:a=0.05:r=16000",
                       input_format="lavfi", duration_s=1e-9, on_line=None)  # was: "(complete)"
    assert not (tmp_path / "live" / "timeline.json").exists()


def test_a_microphone_whose_stream_ends_is_recorded_as_stopped_early(tmp_path):
    timeline = run_live_audio(tmp_path / "live", load_settings(), device="anoisesrc=d=3:c=pink:a=0.05:r=16000",
                              input_format="lavfi", on_line=None)
    track = timeline.tracks[0]
    assert track.settings["status"].startswith("stopped early: lavfi:anoisesrc=d=3")  # was: "complete"
    assert track.settings["status"].endswith("audio stream ended after 3.0 s")
    assert track.windows[-1].end_s == pytest.approx(3.0, abs=0.2)  # what came before the end is kept


def test_a_live_voice_far_too_quiet_is_named_as_the_session_ends(tmp_path):
    lines = []
    tone = "sine=frequency=220:duration=3:sample_rate=16000,volume=0.024"  # 1/8 of full scale x 0.024: -50.5 dBFS
    timeline = run_live_audio(tmp_path / "live", load_settings(), device=tone, input_format="lavfi",
                              on_line=lines.append)
    track = timeline.tracks[0]
    assert track.settings["peak_dbfs"] == pytest.approx(20 * math.log10(0.003), abs=0.3)
    said = [line for line in lines if line.startswith("voice: ")][-1]
    assert said.startswith("voice: very quiet audio (loudest -50.") and said.endswith("microphone's gain")


def test_a_microphone_that_cannot_be_opened_is_one_clear_error(tmp_path):
    with pytest.raises(InputError, match="alsa:missing-mic"):
        run_live_audio(tmp_path / "x", load_settings(), device="missing-mic", input_format="alsa")
    assert not (tmp_path / "x").exists()


def test_describe_window_reads_like_a_timestamped_sentence():
    labels = list(CANONICAL_LABELS)
    probs = [0.0] * 8
    probs[labels.index("sad")] = 1.0
    assert describe_window(Window(10.5, 12.5, probs, 1.0), labels) == "at 12.5 s: sad (100%)"
    assert describe_window(Window(0, 2, None, 0.0, "no speech"), labels) == "at 2.0 s: - (no speech)"
    # was "at 12.5 s: sad (100%)" for a face seen in a tenth of its window: the line says how little stands behind it
    assert describe_window(Window(10.5, 12.5, probs, 0.089), labels) == \
        "at 12.5 s: sad (100%; little evidence, quality 0.09)"
    assert describe_window(Window(10.5, 12.5, probs, 0.089), labels, "voice", "no speaker baseline yet") == \
        "at 12.5 s: voice sad (100%; little evidence, quality 0.09; no speaker baseline yet)"
    assert describe_window(Window(0, 2, None, 0.0, "no speech"), labels, "voice", "no speaker baseline yet") == \
        "at 2.0 s: voice - (no speech)"


def test_a_live_session_stopped_by_sigterm_is_saved_as_one_stopped_by_ctrl_c(tmp_path):
    # a microphone that never ends: only a signal stops the session
    code, err = stopped_after_its_first_window(["--mic", "anoisesrc=c=pink:a=0.05:r=16000", "--input-format", "lavfi",
                                                "--out", str(tmp_path / "live")], tmp_path)
    assert code == 0, err  # was: -15, killed, and the session's timeline never written
    track = json.loads((tmp_path / "live" / "timeline.json").read_text())["tracks"][0]
    assert track["name"] == "audio" and track["windows"]


REPLAY_8_S = ["--replay", "examples/session.mp4", "--no-mic", "--duration-s", "8"]


def test_a_live_session_whose_terminal_hangs_up_is_written_with_what_it_captured(tmp_path):
    import signal

    from runtime.stopping import STOPPED_BY_USER

    code, err = stopped_after_its_first_window([*REPLAY_8_S, "--out", str(tmp_path / "live")], tmp_path,
                                               stop=signal.SIGHUP)
    assert code == 0, err  # was: -1, killed by the hangup, and nothing written
    timeline = json.loads((tmp_path / "live" / "timeline.json").read_text())
    assert timeline["input"]["duration_s"] < 8  # ended by the hangup, not by its duration
    face = next(track for track in timeline["tracks"] if track["name"] == "face")
    assert face["windows"] and face["settings"]["frames"]["stopped_reason"] == STOPPED_BY_USER


def test_a_session_whose_closing_lines_have_no_reader_left_still_ends_written_and_well(tmp_path):
    import signal

    code, err = stopped_after_its_first_window([*REPLAY_8_S, "--out", str(tmp_path / "live")], tmp_path,
                                               stop=signal.SIGHUP, reader_gone=True)
    assert code == 0 and "error" not in err and "Traceback" not in err, err  # was: internal error, exit 1
    assert json.loads((tmp_path / "live" / "timeline.json").read_text())["tracks"]


def test_a_first_stop_that_comes_as_the_session_is_wrapped_up_leaves_it_written(tmp_path, monkeypatch):
    import os
    import signal
    import threading

    import runtime.live as live
    from runtime.stopping import stop_asked, stopping_on_signals

    fuse = live.fused_tracks
    fused = []

    def fused_as_the_service_stops(tracks, settings):  # the duration ends as a service manager stops the appliance
        # at the end, not in a checkpoint (the first, before the session starts, has no track; later ones run in a
        # thread of their own)
        if tracks and threading.current_thread() is threading.main_thread():
            fused.append(True)
            os.kill(os.getpid(), signal.SIGTERM)
        return fuse(tracks, settings)

    monkeypatch.setattr(live, "fused_tracks", fused_as_the_service_stops)
    try:
        with stopping_on_signals():
            run_live_audio(tmp_path / "live", load_settings(), device="anoisesrc=d=3:c=pink:a=0.05:r=16000",
                           input_format="lavfi", on_line=lambda _line: None)
            assert stop_asked()  # kept, for the command to end on
    except KeyboardInterrupt:  # (pytest would take it as its own Ctrl-C)
        pytest.fail("the stop broke into the wrap-up: the session was never written")
    assert fused and (tmp_path / "live" / "timeline.json").exists()


def test_only_the_first_stop_is_raised(tmp_path):
    from runtime.stopping import ask_to_stop, stop_asked, stopping_on_signals

    with stopping_on_signals():
        with pytest.raises(KeyboardInterrupt):
            ask_to_stop()
        try:
            ask_to_stop()  # an impatient second Ctrl-C, as the session writes what the first one ended
        except KeyboardInterrupt:  # (pytest would take it as its own Ctrl-C)
            pytest.fail("the second stop was raised")
        assert stop_asked()


def test_a_folder_holding_an_earlier_sessions_csv_alone_is_refused_and_kept(tmp_path):
    earlier = tmp_path / "live" / "timeline.csv"
    earlier.parent.mkdir()
    earlier.write_text("track,start_s,end_s\n")
    with pytest.raises(InputError, match="holds an earlier session's timeline.csv; give a new folder"):
        run_live_audio(tmp_path / "live", load_settings(), device="anoisesrc=d=1:c=pink:a=0.05:r=16000",
                       input_format="lavfi", on_line=None)
    assert earlier.read_text() == "track,start_s,end_s\n" and not (tmp_path / "live" / "timeline.json").exists()


@pytest.mark.parametrize("name", ["timeline.json", "timeline.csv"])
@pytest.mark.parametrize("kind", ["a folder", "a link to nothing", "a device, pipe or socket"])
def test_a_folder_or_link_where_a_timeline_file_goes_is_said_to_be_so_not_an_earlier_session(tmp_path, name, kind):
    import os
    import stat

    there = tmp_path / "live" / name
    there.parent.mkdir()
    make = {"a folder": there.mkdir, "a link to nothing": lambda: there.symlink_to(tmp_path / "nowhere"),
            "a device, pipe or socket": lambda: os.mkfifo(there)}
    make[kind]()
    # was: 'holds an earlier session's timeline.json', of a folder or a link to nothing no session writes; a pipe
    # was 'something other than a file (a device, pipe or socket)', where the files' checks say 'a device, pipe or
    # socket'
    with pytest.raises(InputError, match=rf"live: holds {kind} named {name}, where the session writes its {name}; "
                                         "give a new folder$"):
        run_live_audio(tmp_path / "live", load_settings(), device="anoisesrc=d=1:c=pink:a=0.05:r=16000",
                       input_format="lavfi", on_line=None)
    kept = {"a folder": there.is_dir, "a link to nothing": lambda: there.is_symlink() and not there.exists(),
            "a device, pipe or socket": lambda: stat.S_ISFIFO(there.lstat().st_mode)}
    assert kept[kind]()


def test_the_end_of_session_summary_counts_windows_with_evidence_and_says_why_a_track_stopped():
    from runtime.timeline import Timeline, summary_lines
    from runtime.track import Track, Window

    voice = Track("audio", list(CANONICAL_LABELS), [Window(0.0, 2.0, None, 0.0, "no speech"),
                                                     Window(0.5, 2.5, [1 / 8] * 8, 0.7, "")],
                  settings={"status": "stopped early: the microphone stalled"})
    assert summary_lines(Timeline("live", 2.5, [voice])) == [
        "audio: 2 windows, 1 with evidence (stopped early: the microphone stalled)"]


def test_the_printed_face_line_is_the_patients_expression_not_the_mean_of_everyone_in_view():
    import numpy as np

    from runtime.arms.face.arm import FaceSettings
    from runtime.arms.face.observer import FaceObservation
    from runtime.arms.video.scan import VideoScan
    from runtime.live import FaceLines
    from runtime.sources.video import VideoFrame

    labels = ["neutral", "happy", "sad"]
    sad, happy = np.array([0.1, 0.1, 0.8]), np.array([0.1, 0.8, 0.1])
    faces = [FaceObservation(t, person, 1.0, 1.0, 100.0, probs=probs)
             for t in (0.5, 1.0, 1.5) for person, probs in ((1, sad), (2, happy), (3, happy))]
    lines = []
    FaceLines(FaceSettings(window_s=2.0, hop_s=1.0), labels, lines.append)(
        VideoFrame(2.0, np.zeros((4, 4, 3), np.uint8)), VideoScan([0.5, 1.0, 1.5], faces=faces, patient_id=1))
    assert lines == ["at 2.0 s: face sad (80%)"]  # the two others in view smile: their faces are not the patient's


def test_each_live_face_line_says_what_the_face_track_records_across_a_stall_in_the_frames():
    import numpy as np

    from runtime.arms.face.arm import FaceSettings, face_track
    from runtime.arms.face.observer import FaceObservation
    from runtime.arms.video.scan import VideoScan
    from runtime.live import FaceLines
    from runtime.sources.video import VideoFrame

    labels = ["neutral", "happy", "sad"]
    settings = FaceSettings(window_s=2.0, hop_s=1.0)  # 5 frames a second
    times_s = [i / 5 for i in range(31) if not 1.0 < i / 5 < 2.4]  # the camera stalls from 1.0 s to 2.4 s
    faces = {t: FaceObservation(t, 1, 0.5, 0.5, 100.0, probs=np.array([0.2, 0.7, 0.1])) for t in times_s}  # weak
    lines: list[str] = []
    face_lines, scan = FaceLines(settings, labels, lines.append), VideoScan(patient_id=1)
    for t_s in times_s:  # frame by frame, as the camera's thread scans them
        scan.frame_times_s.append(t_s)
        scan.faces.append(faces[t_s])
        face_lines(VideoFrame(t_s, np.zeros((4, 4, 3), np.uint8)), scan)
    track = face_track(scan, 1, times_s[-1], settings, labels)
    # was: the 0-2 s window's line said the camera saw it only to half a second after its last frame before 2 s
    # (quality 0.19, 'little evidence'), where the track, seeing the frames go on at 2.4 s, records 0.25
    assert lines == [describe_window(window, labels, "face") for window in track.windows]
    assert len(lines) == 5


def test_a_folder_holding_a_sessions_checkpoint_is_refused_as_a_session_not_ended_not_an_earlier_one(tmp_path):
    out = tmp_path / "live"
    out.mkdir()
    checkpoint = {"software": {"session_id": "s1", "started_at_utc": "2026-12-07T10:00:00+00:00",
                               "checkpoint_at_s": 612.5}, "tracks": []}
    (out / "timeline.json").write_text(json.dumps(checkpoint))
    # was: 'holds an earlier session's timeline.json', of a session that may be running now
    with pytest.raises(InputError, match=r"holds the timeline\.json of a session saved 612\.5 s in and not ended: "
                                         r"running now, or cut off; give a new folder"):
        run_live_audio(out, load_settings(), device="anoisesrc=d=1:c=pink:a=0.05:r=16000", input_format="lavfi",
                       on_line=lambda _line: None)
    assert json.loads((out / "timeline.json").read_text()) == checkpoint


def test_a_session_is_never_recorded_over_an_earlier_one(tmp_path):
    run_live_audio(tmp_path / "live", load_settings(), device="anoisesrc=d=3:c=pink:a=0.05:r=16000",
                   input_format="lavfi", on_line=lambda _line: None)
    earlier = (tmp_path / "live" / "timeline.json").read_bytes()
    with pytest.raises(InputError, match="holds an earlier session's timeline.json; give a new folder"):
        run_live_audio(tmp_path / "live", load_settings(), device="anoisesrc=d=3:c=pink:a=0.05:r=16000",
                       input_format="lavfi", on_line=lambda _line: None)  # was: the earlier session replaced
    assert (tmp_path / "live" / "timeline.json").read_bytes() == earlier


def _stick_pulled(tmp_path, monkeypatch, temporary_folder_fails: bool = False):
    """``write_timeline`` failing for the folder ``stick/live`` (and, if asked, for the temporary folder too)."""
    import tempfile

    import runtime.live as live

    write = live.write_timeline

    def stick_pulled(timeline, out_dir, **options):
        if out_dir == tmp_path / "stick" / "live" and "checkpoint_at_s" not in timeline.software:  # at the end
            raise InputError(out_dir, "cannot make the folder: Read-only file system")
        if temporary_folder_fails and out_dir.parent == tmp_path / "tmp":
            raise InputError(out_dir / "timeline.csv", "cannot write it: No space left on device")
        return write(timeline, out_dir, **options)

    monkeypatch.setattr(live, "write_timeline", stick_pulled)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()


def _session_into_the_pulled_stick(tmp_path) -> str:
    with pytest.raises(InputError) as refused:
        run_live_audio(tmp_path / "stick" / "live", load_settings(), device="anoisesrc=d=3:c=pink:a=0.05:r=16000",
                       input_format="lavfi", on_line=lambda _line: None)
    return str(refused.value)


def test_a_session_whose_folder_cannot_be_written_at_the_end_is_saved_elsewhere_and_said(tmp_path, monkeypatch):
    import os
    import stat

    _stick_pulled(tmp_path, monkeypatch)
    umask = os.umask(0o027)  # a clinic's service: its group may read the sessions
    try:
        said = _session_into_the_pulled_stick(tmp_path)  # was: the error alone, the session lost
    finally:
        os.umask(umask)
    (saved,) = (tmp_path / "tmp").iterdir()
    assert said == f"{tmp_path / 'stick' / 'live'}: cannot be written (cannot make the folder: Read-only file " \
                   f"system); the session was saved in {saved}"
    assert json.loads((saved / "timeline.json").read_text())["tracks"][0]["windows"]
    assert stat.S_IMODE(saved.stat().st_mode) == 0o750  # as any new folder, not mkdtemp's 0700


def test_a_session_that_cannot_be_saved_anywhere_says_it_is_lost_in_one_line(tmp_path, monkeypatch):
    _stick_pulled(tmp_path, monkeypatch, temporary_folder_fails=True)
    said = _session_into_the_pulled_stick(tmp_path)  # was: an error naming only the temporary folder's file
    assert said == f"{tmp_path / 'stick' / 'live'}: cannot be written (cannot make the folder: Read-only file " \
                   "system), nor could the session be saved in the temporary folder (cannot write it: No space left " \
                   "on device): it is lost"
    assert list((tmp_path / "tmp").iterdir()) == []  # no empty folder left


def test_a_stop_that_comes_as_the_last_voice_windows_are_judged_leaves_the_session_written(tmp_path, monkeypatch):
    import os
    import signal

    from runtime.arms.audio.stream import AudioStream
    from runtime.stopping import stopping_on_signals

    finish = AudioStream.finish

    def finished_as_the_service_stops(self):  # the microphone's end, and a service manager's stop
        os.kill(os.getpid(), signal.SIGTERM)
        return finish(self)

    monkeypatch.setattr(AudioStream, "finish", finished_as_the_service_stops)
    try:
        with stopping_on_signals():
            run_live_audio(tmp_path / "live", load_settings(), device="anoisesrc=d=3:c=pink:a=0.05:r=16000",
                           input_format="lavfi", on_line=lambda _line: None)
    except KeyboardInterrupt:  # (pytest would take it as its own Ctrl-C)
        pytest.fail("the stop broke into the last windows: the session was never written")
    assert (tmp_path / "live" / "timeline.json").exists()


def test_a_microphone_that_cannot_be_opened_is_said_in_our_line_alone(tmp_path, capfd):
    from runtime.cli import main

    assert main(["live", "--out", str(tmp_path / "x"), "--mic", "no-such-mic", "--input-format", "alsa"]) == 2
    err = capfd.readouterr().err
    assert err.startswith("emotrace: error: alsa:no-such-mic: cannot open audio device (")
    assert "ALSA lib" not in err  # was: ALSA's own "Unknown PCM no-such-mic" line above ours


def test_a_live_voice_model_trained_on_other_features_is_refused_before_the_session(tmp_path):
    import shutil

    from runtime.arms.audio.model import DEFAULT_AUDIO_MODEL
    from runtime.models.card import REPO_MODELS_DIR

    model = tmp_path / "other-features"
    shutil.copytree(REPO_MODELS_DIR / DEFAULT_AUDIO_MODEL, model)
    card = json.loads((model / "card.json").read_text())
    card["feature_set"] = "another-feature-set"
    (model / "card.json").write_text(json.dumps(card))
    settings = load_settings()
    settings["audio"]["model"] = str(model)
    with pytest.raises(InputError, match="model expects features 'another-feature-set', this runtime computes"):
        run_live_audio(tmp_path / "live", settings, device="anoisesrc=c=pink:a=0.05:r=16000", input_format="lavfi",
                       duration_s=2.0, on_line=None)  # was: judged every window on numbers of another meaning
    assert not (tmp_path / "live").exists()


def test_live_voice_windows_of_another_length_than_the_models_are_said_as_the_session_starts(tmp_path, caplog):
    settings = load_settings()
    settings["audio"]["window_s"] = 0.5
    with caplog.at_level("WARNING"):
        run_live_audio(tmp_path / "live", settings, device="anoisesrc=c=pink:a=0.05:r=16000", input_format="lavfi",
                       duration_s=1.0, on_line=None)
    assert caplog.messages.count("voice: 0.5 s windows, but audio-emotion was trained on 2 s windows; its emotion "
                                 "figures are not measured for these settings") == 1


def test_a_replayed_call_of_two_streams_at_8_khz_says_both_as_file_mode_does(tmp_path):
    import numpy as np

    from runtime.live import LiveInputs, run_live
    from tests.media_factory import tone, write_audio_streams

    replay = write_audio_streams(tmp_path / "call.mka", [np.zeros(8000 * 2, dtype=np.float32),
                                                         tone(2.0, sample_rate_hz=8000)], sample_rate_hz=8000)
    lines: list[str] = []
    settings = load_settings(None, {"face.enabled": False, "body.enabled": False, "physio.enabled": False})
    timeline = run_live(tmp_path / "out", settings, LiveInputs(replay=replay), duration_s=1.0, on_line=lines.append)
    voice = timeline.track("audio")  # was: neither said nor kept, though analyze says both
    assert voice.settings["audio_stream"] == "1 of 2"
    assert voice.settings["bandwidth"].startswith("recorded at 8000 Hz")
    assert "voice: 2 audio streams; the voice is read from stream 1 only (audio.stream, or --audio-stream, " \
           "chooses another)" in lines
    assert any(line.startswith("voice: recorded at 8000 Hz") for line in lines)


def test_a_replayed_call_at_a_wideband_rate_says_once_that_its_speech_is_telephone_band(tmp_path, ravdess_dir):
    import numpy as np
    from scipy.signal import resample_poly

    from runtime.live import LiveInputs, run_live
    from runtime.media import read_audio, wav_bytes

    speech = np.concatenate([read_audio(c) for c in sorted((ravdess_dir / "Actor_03").glob("*.flac"))[:3]])
    replay = tmp_path / "call.wav"  # through a telephone line, stored at 16 kHz
    replay.write_bytes(wav_bytes(resample_poly(resample_poly(speech, 1, 2), 2, 1).astype(np.float32), 16000))
    lines: list[str] = []
    settings = load_settings(None, {"face.enabled": False, "body.enabled": False, "physio.enabled": False})
    timeline = run_live(tmp_path / "out", settings, LiveInputs(replay=replay), on_line=lines.append)
    assert timeline.track("audio").settings["bandwidth"].startswith("speech has no energy above about 4 kHz")
    said = [line for line in lines if "no energy above about 4 kHz" in line]
    assert len(said) == 1 and said[0].startswith("voice: speech has")  # was: kept in the track, never said


def test_a_replayed_voice_clipped_at_the_microphone_is_named_once_as_the_session_ends(tmp_path, ravdess_dir):
    import numpy as np

    from runtime.live import LiveInputs, run_live
    from runtime.media import read_audio, wav_bytes

    angry = sorted((ravdess_dir / "Actor_03").glob("03-01-05-02-*.flac"))[:2]  # strong: loud enough to clip
    speech = np.concatenate([read_audio(c) for c in angry])
    replay = tmp_path / "loud.wav"  # the gain twenty times too high: clipped at full scale
    replay.write_bytes(wav_bytes(np.clip(speech * 20, -1, 1), 16000))
    lines: list[str] = []
    settings = load_settings(None, {"face.enabled": False, "body.enabled": False, "physio.enabled": False})
    timeline = run_live(tmp_path / "out", settings, LiveInputs(replay=replay), on_line=lines.append)
    said = [line for line in lines if "clipped audio" in line]  # was: neither said nor kept
    assert len(said) == 1 and said[0] == f"voice: {timeline.track('audio').settings['clipping']}"


def test_a_replay_whose_voice_is_not_read_is_not_refused_over_the_voice_s_stream(tmp_path):
    import numpy as np

    from runtime.live import LiveInputs, run_live
    from tests.media_factory import write_audio_streams

    replay = write_audio_streams(tmp_path / "two.mka", [np.zeros(16000, dtype=np.float32)] * 2, sample_rate_hz=16000)
    settings = load_settings(None, {"audio.stream": 3})
    with pytest.raises(InputError, match="nothing to capture"):  # was: "setting 'audio.stream' = 3", with --no-mic
        run_live(tmp_path / "out", settings, LiveInputs(replay=replay, microphone=None), duration_s=1.0,
                 on_line=None)
    with pytest.raises(InputError, match="setting 'audio.stream' = 3: .* has 2 audio stream"):
        run_live(tmp_path / "out", settings, LiveInputs(replay=replay), duration_s=1.0, on_line=None)


def test_a_live_face_line_says_a_face_too_dark_to_read_not_no_face():
    import numpy as np

    from runtime.arms.face.observer import FaceObservation
    from runtime.arms.face.settings import FaceSettings
    from runtime.arms.video.scan import VideoScan
    from runtime.live import FaceLines
    from runtime.sources.video import VideoFrame

    dark = "face too dark to read its expression (mean grey 20 of 255)"
    scan = VideoScan([t / 5 for t in range(11)],
                     faces=[FaceObservation(t / 5, 1, 0.9, 0.9, 120.0, unreadable=dark) for t in range(11)],
                     patient_id=1)
    lines: list[str] = []
    FaceLines(FaceSettings(), list(CANONICAL_LABELS), lines.append)(VideoFrame(2.0, np.zeros((4, 4, 3))), scan)
    assert lines == [f"at 2.0 s: face - ({dark})"]  # was: "- (no face)" for a face in plain sight


def test_a_replayed_files_missing_audio_makes_no_claim_as_in_analyze(ravdess_dir, tmp_path):
    import numpy as np

    from runtime.live import LiveInputs, run_live
    from runtime.media import read_audio
    from tests.media_factory import write_media

    clip = read_audio(sorted((ravdess_dir / "Actor_03").glob("*.flac"))[0])
    speech = np.concatenate([clip, clip])  # stamped from 1 s, its 2-4 s lost: 3-5 s on the clock
    path = write_media(tmp_path / "lost.mkv", speech, 16000, "pcm_s16le", audio_start_s=1.0, lost_s=(2.0, 4.0))
    timeline = run_live(tmp_path / "out", load_settings(), LiveInputs(replay=path), on_line=lambda _line: None)
    voice = timeline.track("audio")
    assert voice.settings["gaps"][0] == [0.0, 1.0] and voice.settings["gaps"][1] == pytest.approx([3.0, 5.0], abs=0.07)
    by_start = {w.start_s: w for w in voice.windows}
    # was: the lost seconds judged as silence, "no speech", a 2 s pause
    assert by_start[3.0].reason == "no audio for 2.0 s of the window (the audio stream lost it)"
    assert by_start[0.0].reason == "no audio for 1.0 s of the window (before the audio stream started)"


def test_sound_a_live_microphone_loses_is_said_to_be_the_microphones_loss(tmp_path, monkeypatch):
    import numpy as np

    from runtime.sources.audio import AudioChunk

    noise = np.random.default_rng(0).normal(0, 0.05, 1600).astype(np.float32)

    class LossyMicrophone:  # a device that delivers 0-1 s, loses 1-3 s, then delivers 3-4 s
        def __init__(self, *_args, **_kwargs):
            pass

        def open(self) -> None:
            pass

        def close(self) -> None:
            pass

        def chunks(self):
            return (AudioChunk(t / 10, noise, 16000) for t in range(40) if not 10 <= t < 30)

    monkeypatch.setattr("runtime.live.MicrophoneSource", LossyMicrophone)
    timeline = run_live_audio(tmp_path / "live", load_settings(), device="default", on_line=lambda _line: None)
    voice = timeline.track("audio")
    assert voice.settings["gaps"] == [[1.0, 3.0]]
    # was: "the audio stream lost it", as if a replayed file lacked it
    reasons = {w.start_s: w.reason for w in voice.windows}
    assert reasons[1.0] == "no audio for 2.0 s of the window (the microphone lost it)"


def test_a_live_sessions_voice_track_is_judged_again_as_it_ends_its_lines_as_each_window_ended(tmp_path, ravdess_dir):
    # was: the track stored each window as judged when it ended (the population model until the baseline's speech,
    # then the speech so far), its model.variant 'session' beside windows judged 'none', unlike analyze's
    import numpy as np

    from runtime.arms.audio.arm import AudioSettings, analyze_audio
    from runtime.arms.audio.model import load_audio_model
    from runtime.live import LiveInputs, run_live
    from runtime.media import read_audio, wav_bytes

    speech = np.concatenate([read_audio(c) for c in sorted((ravdess_dir / "Actor_03").glob("*.flac"))[::7][:3]])
    replay = tmp_path / "session.wav"
    replay.write_bytes(wav_bytes(speech, 16000))
    lines: list[str] = []
    settings = load_settings(None, {"face.enabled": False, "body.enabled": False, "physio.enabled": False,
                                    "audio.min_baseline_speech_s": 3.0})
    run_live(tmp_path / "out", settings, LiveInputs(replay=replay), on_line=lines.append)
    voice = next(t for t in json.loads((tmp_path / "out" / "timeline.json").read_text())["tracks"]
                 if t["name"] == "audio")
    assert voice["model"]["variant"] == "session" and voice["settings"]["variants_used"] == ["session"]
    assert voice["settings"]["live_variants_used"] == ["none", "session"]
    stored = [Window.from_dict(w) for w in voice["windows"]]
    said = [line for line in lines if line.startswith("at ")]
    assert len(said) == len(stored)
    # the lines are the windows as each was judged as it ended, the first by the population model: not the track's
    assert said != [describe_window(w, voice["labels"], "") for w in stored]
    # those the population model judged while the speaker's baseline formed say so, and no later one (was: alike)
    claims = [line for line in said if not line.split(": ", 1)[1].startswith("- (")]
    noted = [line.endswith("; no speaker baseline yet)") for line in claims]
    assert noted[0] and not noted[-1] and noted == sorted(noted, reverse=True)
    file_track = analyze_audio(read_audio(replay), load_audio_model(), AudioSettings.from_config(settings["audio"]))
    assert file_track.model["variant"] == "session"
    both = [(a, b) for a, b in zip(file_track.windows, stored, strict=True) if a.has_claim and b.has_claim]
    # the top label file mode's in all 13 windows judged in both (as said live: 7)
    assert len(both) >= 10 and np.mean([np.argmax(a.probs) == np.argmax(b.probs) for a, b in both]) >= 0.9


def test_a_replay_too_quiet_for_the_population_variant_says_its_gain_note_once(tmp_path, ravdess_dir, caplog):
    import numpy as np

    from runtime.live import LiveInputs, run_live
    from runtime.media import read_audio, wav_bytes

    speech = np.concatenate([read_audio(c) for c in sorted((ravdess_dir / "Actor_03").glob("*.flac"))[:3]])
    replay = tmp_path / "quiet.wav"  # the microphone's gain 30 dB under RAVDESS's studio
    replay.write_bytes(wav_bytes((speech * np.float32(10 ** (-30 / 20))).astype(np.float32), 16000))
    lines: list[str] = []
    settings = load_settings(None, {"face.enabled": False, "body.enabled": False, "physio.enabled": False,
                                    "audio.speaker_baseline": "none"})
    timeline = run_live(tmp_path / "out", settings, LiveInputs(replay=replay), on_line=lines.append)
    assert "microphone's gain" in timeline.track("audio").settings["gain"]
    # was: said by the stream as it judged, then again as the session ended ('voice: speech at ...')
    said = [line for line in lines + caplog.messages if "the voice model was trained on" in line]
    assert len(said) == 1 and said[0].startswith("audio input: speech at")


def _stopped_voice(monkeypatch, source_chunks, stop_at_s: float, noticed_at_s: float):
    """The voice of a session whose source gives ``source_chunks(ask_stop)``, on a session clock the test sets: a
    stop asked for at ``stop_at_s`` while the voice was busy (judging a window), noticed by it at ``noticed_at_s``."""
    import runtime.stopping as stopping
    from runtime.arms.audio.arm import AudioSettings
    from runtime.arms.audio.model import load_audio_model
    from runtime.arms.audio.stream import VoiceSoFar
    from runtime.clock import SessionClock
    from runtime.live import _capture_voice
    from runtime.stopping import ask_to_stop, stop_kept, stopping_on_signals

    now_s = [0.0]
    monkeypatch.setattr(stopping, "_now_s", lambda: now_s[0])
    clock = SessionClock(monotonic=lambda: now_s[0])

    def ask_stop() -> None:
        now_s[0] = stop_at_s
        ask_to_stop()
        now_s[0] = noticed_at_s

    class Source:
        def chunks(self):
            return source_chunks(ask_stop)

    settings = load_settings()
    audio = AudioSettings.from_config(settings["audio"])
    voice = VoiceSoFar(load_audio_model(settings["audio"]["model"]), audio, "live")
    with stopping_on_signals(), stop_kept():  # as a session under way keeps its stop
        return _capture_voice(Source(), voice, clock, None, None, named=False)


def test_a_stop_keeps_the_sound_a_microphone_captured_before_it_and_ends_the_voice_there(monkeypatch):
    import numpy as np

    from runtime.sources.audio import AudioChunk
    from runtime.stopping import STOPPED_BY_USER

    def microphone(ask_stop):  # 0.1 s blocks; the stop comes at 2.25 s as the block from 2.2 s waits in its queue
        for i in range(40):
            if i == 22:
                ask_stop()
            yield AudioChunk(i / 10, np.zeros(1600, dtype=np.float32), 16000)

    track = _stopped_voice(monkeypatch, microphone, stop_at_s=2.25, noticed_at_s=2.45)
    assert track.settings["status"] == STOPPED_BY_USER
    assert track.windows[-1].end_s == pytest.approx(2.25)  # was 2.2: the blocks queued at the stop were dropped


def test_a_voice_far_behind_at_a_stop_ends_within_the_catch_up_not_after_its_whole_backlog(monkeypatch):
    import numpy as np

    from runtime.live import STOP_CATCH_UP_S
    from runtime.sources.audio import AudioChunk
    from runtime.stopping import STOPPED_BY_USER

    def microphone(ask_stop):  # the stop at 30 s finds the voice at 2 s: 28 s of blocks queued before it
        for i in range(400):
            if i == 20:
                ask_stop()
            yield AudioChunk(i / 10, np.zeros(1600, dtype=np.float32), 16000)

    track = _stopped_voice(monkeypatch, microphone, stop_at_s=30.0, noticed_at_s=30.0 + 2 * STOP_CATCH_UP_S)
    assert track.settings["status"] == STOPPED_BY_USER
    assert track.windows[-1].end_s < 3.0  # was 30: every queued block judged while the stop waited


def test_a_replay_stopped_while_its_voice_was_busy_still_gives_the_sound_due_before_the_stop():
    from runtime.arms.audio.arm import AudioSettings
    from runtime.arms.audio.model import load_audio_model
    from runtime.arms.audio.stream import VoiceSoFar
    from runtime.clock import SessionClock
    from runtime.live import LiveInputs, _voice_source
    from runtime.stopping import ask_to_stop, stop_kept, stopping_on_signals

    settings = load_settings()
    audio = AudioSettings.from_config(settings["audio"])
    voice = VoiceSoFar(load_audio_model(settings["audio"]["model"]), audio, "live", [])
    replay = Path(__file__).resolve().parents[2] / "examples" / "session.mp4"
    source = _voice_source(LiveInputs(replay=replay), audio, SessionClock(monotonic=lambda: 100.0), voice)
    chunks = source.chunks()
    next(chunks)
    with stopping_on_signals(), stop_kept():
        ask_to_stop()
        try:  # the session's voice ends where the stop came (``until``); the replay's reader leaves that to it
            assert next(chunks).start_s == pytest.approx(0.1)
        except KeyboardInterrupt:  # (pytest would take it as its own Ctrl-C)
            pytest.fail("the replay's reader ended at the stop: the sound due before it was lost")


def test_every_track_of_a_replay_stopped_by_ctrl_c_ends_where_the_stop_came(tmp_path):
    import signal

    code, err = stopped_after_its_first_window(["--replay", "examples/session.mp4", "--out", str(tmp_path / "live")],
                                               tmp_path, signal.SIGINT)
    assert code == 0, err
    timeline = json.loads((tmp_path / "live" / "timeline.json").read_text())
    ends_s = {track["name"]: track["windows"][-1]["end_s"] for track in timeline["tracks"]}
    # the voice was 0.1-0.3 s short of the stop, the picture as far past it as the voice's last window took to judge
    assert ends_s["audio"] == pytest.approx(timeline["input"]["duration_s"], abs=1e-3)
    assert ends_s["face"] <= ends_s["audio"] + 1e-3 and ends_s["body"] <= ends_s["audio"] + 1e-3


def test_a_window_at_the_quality_fusion_keeps_is_not_said_to_have_little_evidence():
    from runtime.track import WEAK_QUALITY

    labels = list(CANONICAL_LABELS)
    probs = [0.0] * 8
    probs[labels.index("sad")] = 1.0
    # fusion leaves out quality under WEAK_QUALITY alone (docs/commands.md: "quality under 0.2")
    assert describe_window(Window(10.5, 12.5, probs, WEAK_QUALITY), labels) == "at 12.5 s: sad (100%)"


def test_where_a_replay_ends_is_weighed_to_the_tenth_of_a_second_it_is_said_to():
    from runtime.live import _read_end_line

    # a 3.96 s recording is never said to end "at 4.0 s, before --duration-s 4"; 3.94 s is said as 3.9 s
    assert _read_end_line(3.96, 0.0, 4.0) == ""
    assert _read_end_line(3.94, 0.0, 4.0) == "replay: the recording ends at 3.9 s, before --duration-s 4"
    # read to the header's 3.0 s, to the tenth said: not "read to its end at 3.0 s, before the 3.0 s"
    assert _read_end_line(2.96, 3.0, 5.0) == ""
    assert _read_end_line(2.9, 3.0, 5.0) == \
        "replay: the recording was read to its end at 2.9 s, before the 3.0 s its header gives"


def test_the_wait_of_sensors_recording_on_alone_ends_at_the_duration_not_later(monkeypatch):
    import runtime.live as live
    from runtime.clock import SessionClock

    now_s = [0.0]
    monkeypatch.setattr(live.time, "sleep", lambda seconds: now_s.__setitem__(0, now_s[0] + seconds))
    assert live._wait_until(SessionClock(monotonic=lambda: now_s[0]), 3.0) is False  # not stopped by the user
    assert now_s[0] == pytest.approx(3.0, abs=0.11)  # within one of its 0.1 s naps


def _face_lines_and_track(times_s, faces, settings, labels):
    """The live face lines said frame by frame over ``faces`` (a scan of the patient, person 1), and the face track
    of the same scan."""
    import numpy as np

    from runtime.arms.face.arm import face_track
    from runtime.arms.video.scan import VideoScan
    from runtime.live import FaceLines
    from runtime.sources.video import VideoFrame

    lines: list[str] = []
    face_lines, scan = FaceLines(settings, labels, lines.append), VideoScan(patient_id=1)
    for t_s in times_s:  # frame by frame, as the camera's thread scans them
        scan.frame_times_s.append(t_s)
        scan.faces += [o for o in faces if o.t_s == t_s]
        face_lines(VideoFrame(t_s, np.zeros((4, 4, 3), np.uint8)), scan)
    face_lines.finish(times_s[-1], scan)  # the picture's end, as the session's camera thread ends
    return lines, face_track(scan, 1, times_s[-1], settings, labels)


def test_a_live_face_line_says_the_tracks_quality_where_frames_fall_between_window_edges():
    import numpy as np

    from runtime.arms.face.arm import FaceSettings
    from runtime.arms.face.observer import FaceObservation

    labels = ["neutral", "happy", "sad"]
    settings = FaceSettings(window_s=2.0, hop_s=1.0)
    times_s = [round(i / 5 + 0.07, 6) for i in range(31)]  # a camera's frames, never on a window's edge
    faces = [FaceObservation(t, 1, 0.15, 1.0, 100.0, probs=np.array([0.2, 0.7, 0.1])) for t in times_s]  # weak
    lines, track = _face_lines_and_track(times_s, faces, settings, labels)
    # the frame before a window stands for its first 0.07 s: each line's quality is the track's window's
    assert lines == [describe_window(window, labels, "face") for window in track.windows]
    # seen whole but the first, whose 0.07 s before the first frame the camera did not see (was 0.14 in each)
    assert all("quality 0.15" in line for line in lines[1:]) and "quality 0.14" in lines[0]


def test_a_face_the_mesh_did_not_confirm_is_no_first_sighting_in_the_live_lines():
    import numpy as np

    from runtime.arms.face.arm import FaceSettings
    from runtime.arms.face.observer import FaceObservation

    labels = ["neutral", "happy", "sad"]
    settings = FaceSettings(window_s=2.0, hop_s=1.0)
    times_s = [i / 5 for i in range(31)]
    # the patient's box from 0.2 s, its face mesh unsure (presence 0: confidence 0) until 3.2 s, then their face
    faces = [FaceObservation(t, 1, 0.9, 0.0 if t < 3.2 else 0.9, 100.0, probs=np.array([0.2, 0.7, 0.1]))
             for t in times_s if t >= 0.2]
    lines, track = _face_lines_and_track(times_s, faces, settings, labels)
    assert lines == [describe_window(window, labels, "face") for window in track.windows]
    assert lines[1] == "at 3.0 s: face - (no face)"  # not yet seen, as the track says: was "face lost"


def test_the_session_says_it_ended_before_it_waits_for_a_checkpoint_under_way(tmp_path, monkeypatch):
    import runtime.live as live

    lines: list[str] = []
    said_by_then: list[str] = []
    stop = live.Checkpoints.stop

    def waited_for(self):  # a checkpoint under way takes seconds an hour in: the session's end is said first
        said_by_then.extend(lines)
        stop(self)

    monkeypatch.setattr(live.Checkpoints, "stop", waited_for)
    run_live_audio(tmp_path / "live", load_settings(), device="anoisesrc=d=1:c=pink:a=0.05:r=16000",
                   input_format="lavfi", on_line=lines.append)
    assert said_by_then and re.fullmatch(r"session ended at \d+\.\d s; writing its timeline", said_by_then[-1])


def _noticed_late(monkeypatch) -> None:
    """The session's loops made to notice its end (the duration, or a stop) 0.4 s late, as a chunk or a judged
    window can make them."""
    import runtime.live as live

    capture = live._capture

    def noticed_late(*args, **kwargs):
        captured = capture(*args, **kwargs)
        threading.Event().wait(0.4)
        return captured

    monkeypatch.setattr(live, "_capture", noticed_late)


PACED = "anoisesrc=d=30:c=pink:a=0.05:r=16000,arealtime"  # read in real time, as a microphone's sound comes


def test_the_session_says_it_ended_where_its_timeline_ends_not_where_its_loops_noticed(tmp_path, monkeypatch):
    lines: list[str] = []
    _noticed_late(monkeypatch)
    timeline = run_live_audio(tmp_path / "live", load_settings(), device=PACED, input_format="lavfi", duration_s=2.0,
                              on_line=lines.append)
    # was: the clock when the line was printed (2.4 s here), not the 2.0 s the timeline records
    assert lines[-1] == f"session ended at {timeline.duration_s:.1f} s; writing its timeline" == (
        "session ended at 2.0 s; writing its timeline")


def test_a_stopped_session_says_it_ended_where_its_timeline_ends(tmp_path, monkeypatch):
    """Stopped by the user (Ctrl-C, a service manager's SIGTERM): it ended where the stop came, not where its loops
    noticed it."""
    from runtime.stopping import stopping_on_signals

    lines: list[str] = []

    def on_line(line: str) -> None:
        lines.append(line)
        if line.startswith("at ") and sum(said.startswith("at ") for said in lines) == 1:
            os.kill(os.getpid(), signal.SIGTERM)  # stopped as its first window is said

    _noticed_late(monkeypatch)
    try:
        with stopping_on_signals():
            timeline = run_live_audio(tmp_path / "live", load_settings(), device=PACED, input_format="lavfi",
                                      on_line=on_line)
    except KeyboardInterrupt:  # (pytest would take it as its own Ctrl-C)
        pytest.fail("the stop was not taken as the session's end")
    assert timeline.duration_s < 30.0  # stopped, not run to the source's end
    assert [line for line in lines if line.startswith("session ended at")] == [
        f"session ended at {timeline.duration_s:.1f} s; writing its timeline"]


def test_a_replay_is_recorded_as_the_sessions_input_without_the_devices_it_stands_in_for():
    from runtime.live import LiveInputs

    # the microphone and camera options it replaces are left at their defaults, never used
    inputs = LiveInputs(replay=Path("session.mp4"), camera="/dev/video0")
    assert inputs.describe() == "replay:session.mp4"
    assert LiveInputs(camera="/dev/video0").describe() == "alsa:default + v4l2:/dev/video0"


def test_a_ble_sensor_given_by_a_lowercase_address_is_looked_for_by_its_address():
    from runtime.live import ble_client

    client = ble_client("aa:bb:cc:dd:ee:ff")  # as some tools print it: was looked for as a device of that name
    assert (client.address, client.name) == ("aa:bb:cc:dd:ee:ff", None)
    assert (ble_client("Polar H10 A1B2C3D4").name, ble_client("Polar H10 A1B2C3D4").address) == \
        ("Polar H10 A1B2C3D4", None)
