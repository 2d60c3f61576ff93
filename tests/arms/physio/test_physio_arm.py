"""The physio arm end to end: classify to CSV, the track in `analyze`, synchronisation to a video."""

from __future__ import annotations

import csv
import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
from scipy.special import ndtri

from export.physio.dataset import load_labels, window_stress_fraction
from runtime.arms.physio.arm import classify_windows, physio_track, resolve_offset, utc_text
from runtime.arms.physio.model import RANK_CLIP, model_inputs, session_scaled
from runtime.arms.physio.readers.e4 import read_e4
from runtime.arms.physio.recording import Recording
from runtime.arms.physio.stress import PhysioSettings, load_physio_model, settings_as_trained, warn_if_not_as_trained
from runtime.cli import main
from runtime.config import load_settings
from runtime.errors import InputError
from runtime.media import wav_bytes
from runtime.models.card import REPO_MODELS_DIR
from runtime.pipeline import analyze_file
from runtime.track import CANONICAL_LABELS
from tests.physio_factory import START_UNIX_S, write_e4, write_timestamped_csv

# One of the subjects that never chose a setting (export/physio/train.py HELD_OUT_SUBJECTS). The shipped model is
# refit on all 27, so this checks the arm end to end on a real recording, not generalisation (that is report.json).
HELD_OUT_SUBJECT = "S13"


@pytest.fixture(scope="module")
def stress_predict(stress_predict_dir: Path) -> Path:
    return stress_predict_dir


@pytest.fixture(scope="module")
def s13_windows(stress_predict):
    recording = read_e4(stress_predict / "raw" / f"{HELD_OUT_SUBJECT}.zip")
    return recording, classify_windows(recording, load_physio_model(), PhysioSettings())


def test_stress_probability_is_higher_in_the_stress_tasks_than_at_rest(stress_predict, s13_windows):
    stress, rest = _stress_and_rest(stress_predict, *s13_windows)
    assert len(stress) > 20 and len(rest) > 20
    assert np.mean(stress) > np.mean(rest) + 0.1


def _stress_and_rest(stress_predict, recording, windows) -> tuple[list[float], list[float]]:
    times, labels = load_labels(stress_predict)[HELD_OUT_SUBJECT]
    stress, rest = [], []
    for w in windows:
        covered, fraction = window_stress_fraction(
            times, labels, recording.start_unix_s + w.start_s, recording.start_unix_s + w.end_s
        )
        if covered >= 0.8 and w.stress is not None:
            (stress if fraction >= 0.8 else rest if fraction <= 0.2 else []).append(w.stress)
    return stress, rest


@pytest.mark.parametrize(
    "kept", [("bvp", "eda", "temp"), ("hr", "ibi"), ("eda",)], ids=["serial board", "BLE strap", "EDA alone"]
)
def test_a_source_with_fewer_channels_still_tells_the_stress_tasks_from_rest(stress_predict, kept):
    recording = read_e4(stress_predict / "raw" / f"{HELD_OUT_SUBJECT}.zip")
    recording.channels = {name: channel for name, channel in recording.channels.items() if name in kept}
    stress, rest = _stress_and_rest(stress_predict, recording,
                                    classify_windows(recording, load_physio_model(), PhysioSettings()))  # fmt: skip
    assert len(stress) > 20 and len(rest) > 20
    assert np.mean(stress) > np.mean(rest) + 0.1


@pytest.mark.parametrize("other", ["audio-emotion", "face-expression-cnn"])
def test_another_kind_of_model_given_as_the_stress_model_is_named_for_its_task(tmp_path, capsys, other):
    out = tmp_path / "s.csv"
    assert main(["physio", "classify", str(write_e4(tmp_path / "S99", duration_s=60.0)), "--csv", str(out),
                 "--model", other]) == 2
    err = capsys.readouterr().err  # was, for the voice model: "card.json: has no model variant 'default'"
    assert err.startswith(f"emotrace: error: {REPO_MODELS_DIR / other}: not a physiological stress model (task '")
    assert not out.exists()


def test_default_windows_are_the_shipped_models_and_others_are_warned_about(caplog):
    model = load_physio_model()
    assert not warn_if_not_as_trained(model, PhysioSettings())
    assert not caplog.records
    assert warn_if_not_as_trained(model, PhysioSettings(window_s=60.0))
    [record] = caplog.records
    assert "60 s windows every 5 s" in record.getMessage()
    assert f"trained on {model.card.extra['window_s']:g} s every 5 s" in record.getMessage()
    caplog.clear()  # the hop alone changes what the context and baseline, counted in windows, span
    assert warn_if_not_as_trained(model, PhysioSettings(hop_s=10.0))
    assert "windows every 10 s" in caplog.records[0].getMessage()


def test_classify_reads_the_windows_a_model_was_trained_on_unless_told(tmp_path, stress_predict):
    model = load_physio_model()
    assert (settings_as_trained(model).window_s, settings_as_trained(model).hop_s) == (30.0, 5.0)
    assert settings_as_trained(model, window_s=60.0).window_s == 60.0
    # another model folder whose card says 60 s windows every 10 s is read that way by `physio classify`
    other = tmp_path / "other-model"
    shutil.copytree(model.card.folder, other)
    card = json.loads((other / "card.json").read_text())
    card.update(window_s=60.0, hop_s=10.0)
    (other / "card.json").write_text(json.dumps(card))
    out = tmp_path / "w.csv"
    assert main(["physio", "classify", str(stress_predict / "raw" / "S02.zip"), "--csv", str(out),
                 "--model", str(other)]) == 0
    rows = list(csv.DictReader(out.open()))
    assert (float(rows[1]["start_s"]), float(rows[1]["end_s"])) == (10.0, 70.0)


def test_classify_csv_has_one_row_per_window_on_the_recording_clock(stress_predict, tmp_path):
    out = tmp_path / "s.csv"
    source = stress_predict / "raw" / "S02.zip"
    assert main(["physio", "classify", str(source), "--csv", str(out), "--hop-s", "30"]) == 0
    rows = list(csv.DictReader(out.open()))
    assert float(rows[0]["start_s"]) == 0.0
    assert float(rows[1]["start_s"]) == 30.0
    assert {"start_s", "end_s", "stress", "quality", "hr_bpm", "eda_tonic_us", "motion_g"} <= set(rows[0])
    claims = [float(r["stress"]) for r in rows if r["stress"]]
    assert claims and all(0.0 <= p <= 1.0 for p in claims)
    assert float(rows[-1]["end_s"]) == pytest.approx(read_e4(source).end_s, abs=1e-3)


def test_classify_windows_run_from_the_earliest_channel_start(tmp_path):
    # S02's files share one start line; here the EDA starts 5 s before the others, which keep their samples
    rows = {}
    for name, starts_s in (("aligned", {}), ("eda-early", {"EDA.csv": -5.0})):
        out = tmp_path / f"{name}.csv"
        assert main(["physio", "classify", str(write_e4(tmp_path / name, starts_s=starts_s)), "--csv", str(out),
                     "--hop-s", "5"]) == 0
        rows[name] = list(csv.DictReader(out.open()))
    aligned, early = rows["aligned"], rows["eda-early"]
    assert len(early) == len(aligned) + 1 and float(early[0]["start_s"]) == 0.0
    # the clock starts at the EDA's start, so the temperature's windows come one hop (5 s) later on it
    for before, after in zip(aligned, early[1:], strict=True):
        assert float(after["start_s"]) == float(before["start_s"]) + 5.0
        assert after["temp_c"] == before["temp_c"] and after["temp_c"]
    assert read_e4(tmp_path / "eda-early").start_unix_s == pytest.approx(START_UNIX_S - 5.0, abs=1e-3)


def test_classify_of_a_missing_recording_exits_2_without_output(tmp_path, capsys):
    out = tmp_path / "s.csv"
    assert main(["physio", "classify", str(tmp_path / "nope.zip"), "--csv", str(out)]) == 2
    assert "no such file" in capsys.readouterr().err
    assert not out.exists()


def test_no_overlap_with_the_video_names_both_ranges():
    recording = Recording("rec.csv", {}, start_unix_s=None)
    recording.channels["eda"] = type("C", (), {"end_s": 600.0})()  # only end_s is read
    with pytest.raises(InputError, match=r"recording covers 700\.0\.\.1300\.0 s .* the video 0\.0\.\.300\.0 s"):
        resolve_offset(recording, video_duration_s=300.0, offset_s=700.0, video_start_unix_s=None)


def test_no_overlap_placed_by_both_wall_clocks_says_both_utc_ranges_too():
    video_start_unix_s = 1_644_228_000.0  # 2022-02-07T10:00:00Z
    recording = Recording("rec.csv", {}, start_unix_s=video_start_unix_s + 7 * 86400 - 3600)  # a week on, 09:00
    recording.channels["eda"] = type("C", (), {"end_s": 600.0})()
    with pytest.raises(InputError) as refused:
        resolve_offset(recording, video_duration_s=40.0, offset_s=None, video_start_unix_s=video_start_unix_s)
    said = str(refused.value)  # the video-clock figures kept; was: those alone, no date to see
    assert "the recording covers 601200.0..601800.0 s on the video clock, the video 0.0..40.0 s (wall clocks" in said
    assert said.endswith("; in UTC the recording 2022-02-14T09:00:00Z..2022-02-14T09:10:00Z, the video "
                         "2022-02-07T10:00:00Z..2022-02-07T10:00:40Z")
    with pytest.raises(InputError) as refused:  # an offset given: the wall clocks placed nothing
        resolve_offset(recording, 40.0, offset_s=700.0, video_start_unix_s=video_start_unix_s)
    assert "UTC" not in str(refused.value)


def test_no_overlap_with_a_video_of_no_known_length_gives_its_utc_start_alone(tmp_path):
    recording = read_e4(write_e4(tmp_path / "S99", duration_s=60.0))
    with pytest.raises(InputError) as refused:
        resolve_offset(recording, math.inf, None, video_start_unix_s=START_UNIX_S + 86400.0)
    # was: 'the video 2022-02-08T09:52:54Z..' with nothing after it
    assert str(refused.value).endswith(f"the video from {utc_text(START_UNIX_S + 86400.0)}")


def test_an_offset_of_hundreds_of_digits_is_said_in_a_few():
    recording = Recording("rec.csv", {}, start_unix_s=None)
    recording.channels["eda"] = type("C", (), {"end_s": 600.0})()
    with pytest.raises(InputError, match=r"recording covers 1e\+300\.\.1e\+300 s on the video clock") as info:
        resolve_offset(recording, video_duration_s=300.0, offset_s=1e300, video_start_unix_s=None)
    assert len(str(info.value)) < 200  # was: two numbers of 300 digits


def test_offset_comes_from_wall_clocks_when_not_given():
    recording = Recording("rec.csv", {}, start_unix_s=1_700_000_030.0)
    recording.channels["eda"] = type("C", (), {"end_s": 600.0})()
    offset_s, how = resolve_offset(recording, 300.0, None, video_start_unix_s=1_700_000_000.0)
    assert offset_s == 30.0 and "wall clocks" in how
    offset_s, how = resolve_offset(recording, 300.0, None, video_start_unix_s=None)
    assert offset_s == 0.0 and "assumed" in how


def test_analyze_with_physio_adds_a_stress_track_shifted_by_the_offset(tmp_path):
    e4 = write_e4(tmp_path / "S99", duration_s=400.0)
    media = tmp_path / "session.wav"
    media.write_bytes(wav_bytes(np.zeros(16000 * 300, dtype=np.float32), 16000))
    overrides = {"audio.enabled": False, "face.enabled": False, "body.enabled": False, "physio.hop_s": 30.0}
    settings = load_settings(None, {k: v for k, v in overrides.items() if k.split(".")[0] in load_settings()})
    timeline = analyze_file(media, tmp_path / "out", settings, extras={"physio_path": e4, "physio_offset_s": 100.0})
    track = timeline.track("physio")
    assert track.labels == ["no_stress", "stress"]
    assert track.unsupported_labels == list(CANONICAL_LABELS)
    assert track.settings["physio_offset_s"] == 100.0
    assert track.windows[0].start_s == 100.0  # the recording starts 100 s into the video
    assert all(0.0 <= w.start_s < w.end_s <= 300.0 for w in track.windows)  # nothing beyond the video
    assert track.windows[-1].end_s == 300.0
    # the track's "stress" column holds the window's stress probability, as classify gives it
    first = classify_windows(read_e4(e4), load_physio_model(), PhysioSettings(hop_s=30.0))[0]
    assert first.stress is not None and first.stress != 0.5
    assert track.windows[0].probs[track.labels.index("stress")] == pytest.approx(first.stress)
    stored = json.loads((tmp_path / "out" / "timeline.json").read_text())
    assert [t["name"] for t in stored["tracks"]] == ["physio"]


def _physio_beside_a_two_minute_audio(tmp_path: Path) -> tuple[Path, Path, dict]:
    """A 400 s E4 export, 120 s of silent audio, and settings with only the physio arm (60 s windows every 30 s)."""
    e4 = write_e4(tmp_path / "S99", duration_s=400.0)
    media = tmp_path / "session.wav"
    media.write_bytes(wav_bytes(np.zeros(16000 * 120, dtype=np.float32), 16000))
    settings = load_settings(None, {"physio.window_s": 60.0, "physio.hop_s": 30.0})
    for section in ("audio", "face", "body"):
        if section in settings:
            settings[section]["enabled"] = False
    return e4, media, settings


def test_a_recording_that_starts_before_the_video_is_clipped_to_it(tmp_path):
    e4, media, settings = _physio_beside_a_two_minute_audio(tmp_path)
    timeline = analyze_file(media, tmp_path / "out", settings, extras={"physio_path": e4, "physio_offset_s": -200.0})
    windows = timeline.track("physio").windows
    assert windows[0].start_s == 0.0 and windows[-1].end_s == 120.0
    assert len(windows) == 4  # centres at 10, 40, 70, 100 s on the video clock


@pytest.mark.parametrize(("offset_s", "spans"), [
    # its 200th second at the start: 60 s windows centred at 10, 40, 70 and 100 s, cut evenly about their centres
    (-200, [(0.0, 20.0), (10.0, 70.0), (40.0, 100.0), (80.0, 120.0)]),  # was: (0, 40) ... (70, 120)
    (-210, [(0.0, 0.001), (0.0, 60.0), (30.0, 90.0), (60.0, 120.0)]),  # whole hops: one centred at 0 s, kept
])
def test_the_command_line_offset_reaches_the_track_negative_numbers_included(tmp_path, offset_s, spans):
    e4, media, _ = _physio_beside_a_two_minute_audio(tmp_path)
    config = tmp_path / "physio-only.toml"
    config.write_text("[audio]\nenabled = false\n[face]\nenabled = false\n[body]\nenabled = false\n"
                      "[physio]\nwindow_s = 60.0\nhop_s = 30.0\n")
    out = tmp_path / "out"
    assert main(["analyze", str(media), "--out", str(out), "--config", str(config), "--physio", str(e4),
                 f"--physio-offset={offset_s}"]) == 0
    track = next(t for t in json.loads((out / "timeline.json").read_text())["tracks"] if t["name"] == "physio")
    assert track["settings"]["physio_offset_s"] == offset_s
    assert track["settings"]["sync"] == f"given: recording starts at {offset_s:.3f} s on the video clock"
    assert [(w["start_s"], w["end_s"]) for w in track["windows"]] == spans


def test_the_command_line_utc_offset_reads_a_phone_apps_local_times_beside_the_video(tmp_path):
    from datetime import datetime, timedelta, timezone

    _, media, _ = _physio_beside_a_two_minute_audio(tmp_path)
    zone = timezone(timedelta(hours=1))
    times = [datetime.fromtimestamp(START_UNIX_S + i / 4, zone).replace(tzinfo=None).isoformat() for i in range(480)]
    phone = tmp_path / "phone.csv"  # local times without their offset, as HRV Logger writes them
    phone.write_text("timestamp,eda\n" + "".join(f"{t},{1.0 + 0.01 * (i % 7)}\n" for i, t in enumerate(times)))
    config = tmp_path / "physio-only.toml"
    config.write_text("[audio]\nenabled = false\n[face]\nenabled = false\n[body]\nenabled = false\n")
    out = tmp_path / "out"
    assert main(["analyze", str(media), "--out", str(out), "--config", str(config), "--physio", str(phone),
                 "--physio-offset", "0", "--physio-utc-offset=+01:00"]) == 0  # was: refused, 'has no UTC offset'
    track = next(t for t in json.loads((out / "timeline.json").read_text())["tracks"] if t["name"] == "physio")
    assert track["windows"] and track["windows"][-1]["end_s"] <= 120.0


def test_an_overlap_too_short_for_one_window_is_an_error_naming_both_ranges_not_an_empty_track(tmp_path,
                                                                                                 monkeypatch):
    def no_feature_work(*_args, **_kwargs):
        raise AssertionError("the windows' features were computed for a recording refused by its place alone")

    monkeypatch.setattr("runtime.arms.physio.arm.classify_windows", no_feature_work)  # was: refused after them
    e4, media, settings = _physio_beside_a_two_minute_audio(tmp_path)
    with pytest.raises(InputError, match=r"covers -386\.0\.\.14\.0 s on the video clock, the video 0\.0\.\.120\.0 s, "
                                         r"and no 60 s window .* \(given: recording starts at -386\.000 s"):
        analyze_file(media, tmp_path / "out", settings, extras={"physio_path": e4, "physio_offset_s": -386.0})
    assert not (tmp_path / "out" / "timeline.json").exists()


def test_an_overlap_too_short_placed_by_both_wall_clocks_says_both_utc_ranges_too(tmp_path):
    recording = read_e4(write_e4(tmp_path / "S99", duration_s=400.0))  # starts at START_UNIX_S
    offset_s, how = resolve_offset(recording, 120.0, None, video_start_unix_s=START_UNIX_S + 386.0)
    with pytest.raises(InputError) as refused:
        physio_track(recording, load_physio_model(), PhysioSettings(), offset_s, 120.0, how)
    said = str(refused.value)  # was: the video-clock figures alone, as 'no overlap' gave before its dates
    assert "no 30 s window has its centre in the video (wall clocks: recording starts at -386.000 s" in said
    assert said.endswith(f"; in UTC the recording {utc_text(START_UNIX_S)}..{utc_text(START_UNIX_S + 400.0)}, the "
                         f"video {utc_text(START_UNIX_S + 386.0)}..{utc_text(START_UNIX_S + 506.0)}")


def test_a_hop_outside_the_settings_range_is_refused_before_the_recording_is_read(tmp_path, capsys):
    out = tmp_path / "s.csv"
    assert main(["physio", "classify", str(tmp_path / "not-read.zip"), "--csv", str(out), "--hop-s", "0.001"]) == 2
    # the option typed named first (was: "command line: setting 'physio.hop_s'", a name the user never typed)
    assert capsys.readouterr().err == ("emotrace: error: --hop-s: setting 'physio.hop_s' must be a number of seconds "
                                       "from 0.1 to 86400, not 0.001\n")
    assert not out.exists()


def test_classify_reads_the_physio_windows_of_a_config_and_the_options_over_them(tmp_path):
    recording = write_e4(tmp_path / "S99", duration_s=60.0)
    config = tmp_path / "clinic.toml"
    config.write_text("[physio]\nhop_s = 30.0\n")
    out = tmp_path / "s.csv"
    # was: 'unrecognized arguments: --config', so the clinic's physio settings never applied
    assert main(["physio", "classify", str(recording), "--csv", str(out), "--config", str(config)]) == 0
    assert [float(row["start_s"]) for row in csv.DictReader(out.open())] == [0.0, 30.0]
    assert main(["physio", "classify", str(recording), "--csv", str(out), "--config", str(config),
                 "--hop-s", "10"]) == 0
    assert [float(row["start_s"]) for row in csv.DictReader(out.open())] == [0.0, 10.0, 20.0, 30.0]


def test_classify_takes_a_hop_the_config_takes(tmp_path):
    out = tmp_path / "s.csv"
    recording = write_e4(tmp_path / "S99", duration_s=60.0)
    # was: '--hop-s: must be at least 1 s', though physio.hop_s = 0.5 in a config ran in analyze
    assert main(["physio", "classify", str(recording), "--csv", str(out), "--hop-s", "0.5"]) == 0
    starts = [float(row["start_s"]) for row in csv.DictReader(out.open())]
    assert starts[:3] == [0.0, 0.5, 1.0]


def test_analyze_without_physio_recording_has_no_physio_track(tmp_path):
    from runtime.arms.physio.arm import analyze_physio_request
    from runtime.pipeline import AnalysisRequest

    request = AnalysisRequest(tmp_path / "x.wav", None, load_settings(), {})
    assert analyze_physio_request(request) is None


def test_a_recording_too_short_for_a_baseline_reports_measurements_but_no_stress(tmp_path, caplog):
    path = tmp_path / "short.csv"
    path.write_text("time_s,eda\n" + "\n".join(f"{i * 0.25},{1.0 + 0.01 * (i % 7)}" for i in range(400)) + "\n")
    out = tmp_path / "out.csv"
    with caplog.at_level("WARNING"):
        assert main(["physio", "classify", str(path), "--csv", str(out)]) == 0
    # said once, naming the input (was: only in each row's reason, the run looking like a success)
    assert caplog.messages == [f"{path}: no stress figure in any window: recording too short for a session baseline "
                               "(100.0 s < 300 s); its windows carry measurements only"]
    rows = list(csv.DictReader(out.open()))
    assert rows and all(r["stress"] == "" and float(r["quality"]) == 0.0 for r in rows)
    assert all("too short for a session baseline" in r["reason"] for r in rows)
    assert float(rows[0]["eda_tonic_us"]) > 0


def test_analyze_says_a_recording_too_short_for_a_baseline_once_naming_it(tmp_path, caplog):
    e4 = write_e4(tmp_path / "S99", duration_s=200.0)
    media = tmp_path / "session.wav"
    media.write_bytes(wav_bytes(np.zeros(16000 * 200, dtype=np.float32), 16000))
    settings = load_settings(None, {"audio.enabled": False, "fusion.enabled": False})
    with caplog.at_level("WARNING"):
        timeline = analyze_file(media, tmp_path / "out", settings, {"physio_path": str(e4), "physio_offset_s": 0.0})
    assert all(w.probs is None for w in timeline.track("physio").windows)
    said = [m for m in caplog.messages if "no stress figure" in m]  # was: none, the track's reasons alone
    assert said == [f"{e4}: no stress figure in any window: recording too short for a session baseline "
                    "(200.0 s < 300 s); its windows carry measurements only"]


@pytest.mark.parametrize(("rows", "said"), [(1199, "299.7 s < 300 s"), (800, "200.0 s < 300 s")])
def test_a_recording_just_short_of_the_baseline_never_reads_as_long_enough(tmp_path, rows, said):
    path = tmp_path / "short.csv"  # 4 Hz: `rows` samples cover rows / 4 s (299.75 s was said '300 s < 300 s')
    path.write_text("time_s,eda\n" + "\n".join(f"{i * 0.25},{1.0 + 0.01 * (i % 7)}" for i in range(rows)) + "\n")
    out = tmp_path / "out.csv"
    assert main(["physio", "classify", str(path), "--csv", str(out)]) == 0
    reasons = {r["reason"] for r in csv.DictReader(out.open())}
    assert reasons == {f"recording too short for a session baseline ({said})"}


def test_local_baseline_inputs_remove_a_slow_drift_but_keep_a_stress_episode():
    n = 400
    drift = np.linspace(0.0, 10.0, n)  # a slow rise over the session, e.g. skin temperature
    episode = np.where((np.arange(n) >= 180) & (np.arange(n) < 240), 3.0, 0.0)
    x = model_inputs((drift + episode)[:, None], np.ones(n), 25, scaling="zscore", local_baseline_windows=181)
    assert x.shape == (n, 3)
    local = x[:, 0]
    inside, outside = local[190:230].mean(), np.r_[local[100:160], local[260:320]].mean()
    assert inside - outside > 0.5  # the episode (about 1 sd of the session) stands out locally
    assert abs(local[100] - local[300]) < 0.5 * abs(x[100, 1] - x[300, 1])  # the drift mostly gone


def test_rank_scaling_is_untouched_by_an_artefact_that_wrecks_a_zscore():
    rng = np.random.default_rng(0)
    values = rng.normal(5.0, 1.0, size=(300, 1))
    with_artefact = values.copy()
    with_artefact[10, 0] = 500.0  # one sensor spike
    quality = np.ones(300)
    ranked = session_scaled(values, quality, "rank")
    ranked_artefact = session_scaled(with_artefact, quality, "rank")
    others = np.arange(300) != 10
    assert np.abs(ranked[others] - ranked_artefact[others]).max() < 0.15  # one rank step at most
    z = session_scaled(values, quality, "zscore")
    z_artefact = session_scaled(with_artefact, quality, "zscore")
    assert np.abs(z[others] - z_artefact[others]).max() > 0.5


def test_rank_scaling_orders_like_the_values_and_stays_inside_its_clip():
    values = np.array([[3.0], [1.0], [2.0], [np.nan], [10.0]])
    scaled = session_scaled(values, np.ones(5), "rank")[:, 0]
    assert scaled[1] < scaled[2] < scaled[0] < scaled[4]
    assert scaled[3] == 0.0  # missing: the centre
    assert np.abs(scaled).max() <= ndtri(1 - RANK_CLIP) + 1e-9


def test_tied_values_take_their_mid_rank_so_a_column_of_one_value_sits_at_the_centre():
    assert np.allclose(session_scaled(np.ones((4, 1)), np.ones(4), "rank"), 0.0)  # every window without an SCR
    scaled = session_scaled(np.array([[0.0], [0.0], [0.0], [1.0]]), np.ones(4), "rank")[:, 0]
    assert scaled[:3] == pytest.approx([ndtri(3 / 8)] * 3)  # three tied below one: share 1.5 of 4 below


def test_median_iqr_scaling_centres_on_the_median_divides_by_the_iqr_and_clips_an_artefact():
    values = np.array([[1.0], [2.0], [3.0], [4.0], [100.0]])  # median 3, IQR 4 - 2 = 2
    scaled = session_scaled(values, np.ones(5), "median_iqr")[:, 0]
    assert scaled == pytest.approx([-1.0, -0.5, 0.0, 0.5, 5.0])  # 48.5 clipped at 5


def test_context_without_a_local_baseline_is_centred_on_its_window():
    impulse = np.zeros((21, 1))
    impulse[10] = 1.0
    context = model_inputs(impulse, np.ones(21), 5, scaling="zscore")[:, 1]
    assert context[8:13] == pytest.approx([context[10]] * 5) and context[7] == context[13] == pytest.approx(context[0])


def test_an_unknown_scaling_is_refused():
    with pytest.raises(ValueError, match="unknown scaling"):
        session_scaled(np.ones((3, 1)), np.ones(3), "minmax")


def test_classify_refuses_to_write_over_its_own_input(tmp_path, capsys):
    path = tmp_path / "rec.csv"
    path.write_text("time_s,eda\n" + "\n".join(f"{i * 0.25},1.0" for i in range(2000)) + "\n")
    before = path.read_bytes()
    assert main(["physio", "classify", str(path), "--csv", str(path)]) == 2
    assert "output would overwrite the input" in capsys.readouterr().err
    assert path.read_bytes() == before


@pytest.mark.parametrize("option", [["--window-s", "nan"], ["--hop-s", "inf"], ["--window-s", "-5"],
                                    ["--window-s", "1e-300"], ["--window-s", "0.01"]])  # was: 0 rows, exit 0
def test_window_settings_the_physio_settings_would_refuse_exit_2(tmp_path, capsys, option):
    out = tmp_path / "s.csv"
    assert main(["physio", "classify", str(tmp_path / "any.csv"), "--csv", str(out), *option]) == 2
    setting = "physio." + option[0].removeprefix("--").replace("-", "_")  # as analyze names its --window-s
    assert capsys.readouterr().err == (f"emotrace: error: {option[0]}: setting '{setting}' must be a number of "
                                       f"seconds from 0.1 to 86400, not {float(option[1])!r}\n")
    assert not out.exists()


def test_a_window_as_long_as_the_recording_makes_no_stress_claim(tmp_path, caplog):
    e4 = write_e4(tmp_path / "S99", duration_s=400.0)
    out = tmp_path / "s.csv"
    with caplog.at_level("WARNING"):
        assert main(["physio", "classify", str(e4), "--csv", str(out), "--window-s", "400"]) == 0
    assert [m for m in caplog.messages if "no stress figure" in m] == [
        f"{e4}: no stress figure in any window: too few windows for a session baseline (1 < 10); its windows carry "
        "measurements only"]
    (row,) = list(csv.DictReader(out.open()))
    assert row["stress"] == "" and float(row["quality"]) == 0.0
    assert "too few windows for a session baseline" in row["reason"]


def test_a_non_finite_offset_is_refused_naming_the_option():
    recording = Recording("rec.csv", {}, start_unix_s=None)
    recording.channels["eda"] = type("C", (), {"end_s": 600.0})()
    with pytest.raises(InputError, match="--physio-offset"):
        resolve_offset(recording, 300.0, float("nan"), None)


def test_a_utc_offset_without_a_recording_exits_2_before_any_work(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["analyze", str(tmp_path / "missing.mp4"), "--out", str(out), "--physio-utc-offset", "+01:00"]) == 2
    assert "--physio-utc-offset: is the clock of a --physio recording; no --physio was given" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize(("given", "problem"), [
    ("CET", "'CET' is no UTC offset: write it as +01:00, -05:00 or Z"),
    ("+15:00", "'+15:00' is no UTC offset: clocks run from -12:00 to +14:00"),
])
def test_physio_classify_refuses_a_utc_offset_it_cannot_read_in_one_line(tmp_path, capsys, given, problem):
    out = tmp_path / "s.csv"
    path = write_timestamped_csv(tmp_path / "rec.csv")
    assert main(["physio", "classify", str(path), "--csv", str(out), f"--utc-offset={given}"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [f"emotrace: error: --utc-offset: {problem}"]
    assert not out.exists()


def test_an_offset_without_a_recording_exits_2_before_any_work(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["analyze", str(tmp_path / "missing.mp4"), "--out", str(out), "--physio-offset", "5"]) == 2
    assert "no --physio was given" in capsys.readouterr().err
    assert not out.exists()


def _audio_with_creation_time(path: Path, creation_time: str | None, seconds: float = 1.0) -> Path:
    """A silent NUT file whose container says ``creation_time`` as given (NUT keeps the text as written)."""
    import av

    with av.open(str(path), "w", format="nut") as container:
        if creation_time is not None:
            container.metadata["creation_time"] = creation_time
        stream = container.add_stream("pcm_s16le", rate=16000, layout="mono")
        frame = av.AudioFrame.from_ndarray(np.zeros((1, int(16000 * seconds)), np.int16), format="s16", layout="mono")
        frame.sample_rate, frame.pts = 16000, 0
        for packet in [*stream.encode(frame), *stream.encode()]:
            container.mux(packet)
    return path


def test_a_videos_creation_time_is_read_from_a_relative_name_with_a_colon(tmp_path, monkeypatch):
    from runtime.arms.physio.arm import video_start_unix_s

    _audio_with_creation_time(tmp_path / "2022-02-07T10:00:00.nut", "2022-02-07T10:00:00Z")
    monkeypatch.chdir(tmp_path)
    assert video_start_unix_s(Path("2022-02-07T10:00:00.nut")) == 1_644_228_000.0  # was: None, taken for 'none'


@pytest.mark.parametrize(("creation_time", "expected"), [
    (None, None),
    ("2022-02-07T10:00:00Z", 1_644_228_000.0),
    ("2022-02-07T10:00:00", 1_644_228_000.0),  # containers write UTC
    ("2022-02-07T10:00:60Z", "is not a date and time that can be read"),  # was: None, the clock shifted 426 s
    ("not-a-date", "is not a date and time that can be read"),
    ("1970-01-01T00:00:00Z", "is no time a session was recorded (a camera clock never set?)"),
])
def test_a_videos_creation_time_is_read_or_refused_never_taken_for_none(tmp_path, creation_time, expected):
    from runtime.arms.physio.arm import video_start_unix_s

    video = _audio_with_creation_time(tmp_path / "v.nut", creation_time)
    if not isinstance(expected, str):
        assert video_start_unix_s(video) == expected
        return
    with pytest.raises(InputError) as refused:
        video_start_unix_s(video)
    said = str(refused.value)  # NUT reads 1970's back with microseconds
    assert said.startswith(f"{video}: its creation_time '{creation_time[:10]}")
    assert said.endswith(f"{expected}; give --physio-offset SECONDS")


def test_the_videos_creation_time_is_read_only_when_no_offset_is_given(tmp_path, monkeypatch, caplog):
    e4 = write_e4(tmp_path / "S99", duration_s=400.0)
    media = tmp_path / "session.wav"
    media.write_bytes(wav_bytes(np.zeros(16000 * 300, dtype=np.float32), 16000))
    settings = load_settings(None, {"audio.enabled": False, "fusion.enabled": False})

    def unreadable(path):
        raise InputError(path, "its creation_time 'x' is not a date and time that can be read")

    monkeypatch.setattr("runtime.arms.physio.arm.video_start_unix_s", unreadable)
    with pytest.raises(InputError, match="creation_time 'x'"):  # consulted: the E4 export has a wall clock
        analyze_file(media, tmp_path / "out", settings, {"physio_path": str(e4)})
    timeline = analyze_file(media, tmp_path / "out", settings, {"physio_path": str(e4), "physio_offset_s": 0.0})
    assert timeline.track("physio").settings["sync"].startswith("given")  # the offset given: not consulted


def test_a_recording_placed_at_the_videos_start_for_want_of_clocks_is_said(tmp_path, caplog):
    recording = tmp_path / "rec.csv"  # no start line: no wall clock
    recording.write_text("# rate_hz: 4\neda\n" + "\n".join(f"{1 + (i % 7) / 10:.2f}" for i in range(4 * 300)) + "\n")
    media = tmp_path / "session.wav"
    media.write_bytes(wav_bytes(np.zeros(16000 * 300, dtype=np.float32), 16000))
    settings = load_settings(None, {"audio.enabled": False, "fusion.enabled": False})
    with caplog.at_level("WARNING"):
        analyze_file(media, tmp_path / "out", settings, {"physio_path": str(recording)})
    # was: only in the settings
    assert (f"{recording}: assumed: recording and video start together (no offset given; the recording gives no "
            "wall-clock start); give --physio-offset SECONDS if they did not") in caplog.messages


def test_a_recording_placed_at_the_videos_start_for_want_of_the_videos_clock_says_the_video_lacks_it(tmp_path):
    recording = read_e4(write_e4(tmp_path / "S99", duration_s=60.0))
    assert recording.start_unix_s == pytest.approx(START_UNIX_S)  # the case itself: the recording has its clock
    # was: 'no wall-clock start on both', whichever lacked it
    assert resolve_offset(recording, 300.0, None, video_start_unix_s=None) == (
        0.0, "assumed: recording and video start together (no offset given; the video has no creation_time)")


@pytest.mark.parametrize(("changes", "said"), [
    ({}, "the whole recording (session ranks, centred local baseline and context)"),
    ({"scaling": "zscore"}, "the whole recording (session z-scores, centred local baseline and context)"),
    ({"scope": "running"}, "the session so far (session ranks, trailing local baseline and trailing context)"),
    ({"scope": "running", "scaling": "median_iqr", "local_baseline_windows": 0},
     "the session so far (session median and IQR and trailing context)"),
])
def test_the_track_says_what_its_windows_are_judged_against_as_the_card_does(tmp_path, changes, said):
    model = load_physio_model("physio-stress", "onnxruntime")
    model.card.extra.update(changes)  # was: "session ranks" for every session model, whatever its card said
    recording = read_e4(write_e4(tmp_path / "S99", duration_s=360.0))
    track = physio_track(recording, model, PhysioSettings())
    assert track.settings["baseline"] == said


@pytest.mark.parametrize(("window_s", "hop_s", "setting"), [(-1.0, None, "physio.window_s"),
                                                            (30.0, float("nan"), "physio.hop_s")])
def test_a_library_caller_s_window_out_of_range_is_refused_naming_the_setting_before_any_reading(window_s, hop_s,
                                                                                                 setting):
    # was: the recording read whole, then numpy's 'window_s and hop_s must be positive finite numbers'
    with pytest.raises(InputError, match=rf"^{setting}: must be a number of seconds from 0.1 to 86400"):
        settings_as_trained(load_physio_model("physio-stress"), window_s, hop_s)


def test_a_live_session_outlasting_its_sensors_is_said_to_have_their_samples_to_where_they_end(caplog):
    from runtime.arms.physio.recording import Channel

    times_s = np.arange(24) / 4  # a board's EDA to 6 s in a 25 s session
    recording = Recording("serial-board", {"eda": Channel("eda", "uS", times_s, 2.0 + 0.01 * (times_s % 3), 4.0)})
    windows = classify_windows(recording, load_physio_model(), PhysioSettings(), until_s=25.0)
    # was: 'recording too short for a session baseline (6.0 s < 300 s)', read as the session's length
    assert {w.reason for w in windows} == {"recording too short for a session baseline (sensor samples to 6.0 s of "
                                           "the session's 25.0 s, under 300 s)"}
    times_s = np.arange(1202) / 4  # samples to 300.25 s, read as a 299.9 s session stopped: a moment past its end
    recording = Recording("serial-board", {"eda": Channel("eda", "uS", times_s, 2.0 + 0.01 * (times_s % 3), 4.0)})
    windows = classify_windows(recording, load_physio_model(), PhysioSettings(), until_s=299.9)
    # was: judged against a baseline of 300.25 s, samples the session's windows do not hold
    assert {w.reason for w in windows} == {"recording too short for a session baseline (sensor samples to 299.9 s of "
                                           "the session's 299.9 s, under 300 s)"}


def test_the_missing_data_line_gives_a_short_gap_its_length_not_zero(caplog):
    from runtime.arms.physio.recording import Channel

    times_s = np.arange(1200) / 4  # 300 s of EDA with a 31 ms gap, as two swapped rows leave one
    recording = Recording("rec.csv", {"eda": Channel("eda", "uS", times_s, 2.0 + 0.01 * (times_s % 3), 4.0,
                                                     [(100.25, 100.281)])})
    with caplog.at_level("WARNING", logger="emotrace.physio"):
        classify_windows(recording, load_physio_model(), PhysioSettings())
    # was: '(eda: 1 gap(s), 0.0 s)'
    assert "rec.csv: missing data (eda: 1 gap(s), 0.031 s); windows there lose quality" in caplog.messages
