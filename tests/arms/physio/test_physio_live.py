"""Stress judged as each window of a live session ends: causal inputs, the baseline wait, the signal read."""

from __future__ import annotations

import math

import numpy as np
import pytest

from runtime.arms.physio.features import MEASUREMENTS, WindowFeatures, process_recording, window_features
from runtime.arms.physio.live import LEAD_S, LiveStress, live_window_features
from runtime.arms.physio.model import model_inputs, running_inputs
from runtime.arms.physio.recording import Channel, Recording
from runtime.arms.physio.stress import PhysioSettings, classify_session, load_physio_model, model_features
from tests.warnings_beside import warnings_beside


def _features(n: int = 120, d: int = 4, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(n, d))
    features[rng.random(features.shape) < 0.05] = np.nan
    return features, (rng.random(n) > 0.1).astype(float)


@pytest.mark.parametrize("scaling,local_baseline", [("rank", 30), ("median_iqr", 0), ("zscore", 30)])
def test_a_running_input_row_never_changes_with_what_comes_after_it(scaling, local_baseline):
    features, quality = _features()
    before = running_inputs(features, quality, 5, scaling, local_baseline)
    later = features.copy()
    later[60:] = later[60:] * 3 + 10  # the second half of the session changes
    after = running_inputs(later, quality, 5, scaling, local_baseline)
    np.testing.assert_array_equal(after[:60], before[:60])
    assert not np.allclose(after[60:], before[60:])
    # the whole-session inputs of a recording do look ahead
    assert not np.allclose(model_inputs(later, quality, 5, scaling, local_baseline)[:60],
                           model_inputs(features, quality, 5, scaling, local_baseline)[:60])


@pytest.mark.parametrize("inputs", [model_inputs, running_inputs])
def test_windows_of_quality_0_take_no_part_in_the_other_windows_inputs(inputs):
    rng = np.random.default_rng(4)
    features = rng.normal(size=(300, 4)) + np.linspace(0.0, 3.0, 300)[:, None]  # a slow drift, as skin warming
    quality = np.ones(300)
    no_signal = np.full((6, 4), 0.0)  # before a sensor joined: what its windows measure is no signal's
    with_lead = np.vstack([no_signal, features])
    lead_quality = np.concatenate([np.zeros(6), quality])
    alone, led = inputs(features, quality, 25, "rank", 181), inputs(with_lead, lead_quality, 25, "rank", 181)
    # was: their values at the session's edge, repeated by the means, moved every window's baseline there
    np.testing.assert_array_equal(led[6:], alone)
    assert not led[:6].any()  # their own rows: 0s, never judged


def test_the_last_running_row_is_scaled_against_the_whole_session_and_its_context_trails():
    features, quality = _features()
    d, context = features.shape[1], 5
    running = running_inputs(features, quality, context, "rank", 30)
    session = model_inputs(features, quality, context, "rank", 30)
    np.testing.assert_allclose(running[-1, d:2 * d], session[-1, d:2 * d])  # ranks among every window
    local = running[:, :d]
    np.testing.assert_allclose(running[-1, 2 * d:], local[-context:].mean(axis=0), rtol=1e-5)


def test_an_unknown_scaling_is_refused_before_any_window():
    from runtime.arms.physio.model import RunningInputs

    with pytest.raises(ValueError, match="unknown scaling"):
        RunningInputs(5, "minmax")


@pytest.fixture(scope="module")
def model():
    return load_physio_model()


# a window's reason where no key signal covers enough of it, as window_quality says it
NO_SIGNAL = ("too little heart or EDA signal in this window (heart 0 %, EDA 0 % of it; a figure needs one at 50 % or "
             "more)")


def _window(start_s: float, values: dict[str, float], quality: float = 1.0, window_s: float = 30.0):
    measurements = dict.fromkeys(MEASUREMENTS, math.nan) | values
    reason = "" if quality > 0 else NO_SIGNAL
    return WindowFeatures(start_s, start_s + window_s, measurements, quality, reason)


def _rest_then_stress(model, settings: PhysioSettings, rest_windows: int = 80, stress_windows: int = 30):
    """A session at rest, then heart rate and skin conductance well above it."""
    rng = np.random.default_rng(3)
    live = LiveStress(model, settings)
    for i in range(rest_windows + stress_windows):
        stressed = i >= rest_windows
        values = {name: rng.normal(1.0, 0.05) for name in model_features(model)}
        for name in values:
            if name.startswith(("hr_", "eda_", "scr_")) and stressed:
                values[name] = rng.normal(1.6, 0.05)
        live.add(_window(i * settings.hop_s, values))
    return live


def test_live_stress_rises_when_heart_rate_and_skin_conductance_rise_above_the_session_so_far(model):
    live = _rest_then_stress(model, PhysioSettings(live_baseline_s=0.0))
    stress = np.array([np.nan if w.stress is None else w.stress for w in live.windows])
    assert np.nanmean(stress[90:110]) > np.nanmean(stress[20:80]) + 0.2


def test_no_live_stress_figure_before_the_baseline_has_formed(model):
    settings = PhysioSettings(live_baseline_s=300.0)
    live = _rest_then_stress(model, settings)
    early = [w for w in live.windows if w.start_s < 300.0]
    assert early and all(w.stress is None and w.quality == 0.0 for w in early)
    assert early[0].reason == "live baseline forming (0 of 300 s)"
    assert all(w.stress is not None for w in live.windows if w.start_s >= 300.0)


def test_no_live_stress_figure_until_enough_windows_had_signal(model):
    live = LiveStress(model, PhysioSettings(live_baseline_s=0.0))
    judged = [live.add(_window(5.0 * i, {"hr_channel_bpm": 70.0 + i}, quality=1.0 if i % 2 else 0.0))
              for i in range(30)]
    assert judged[0].reason == NO_SIGNAL  # its own reason, not the baseline's
    first = next(i for i, w in enumerate(judged) if w.stress is not None)
    assert first == 19  # the tenth window with signal
    assert judged[17].reason == "live baseline forming (9 of 10 windows with signal)"
    assert all(judged[i].stress is None for i in range(first + 1, 30, 2))  # a window without signal: no claim


def test_a_window_that_could_not_be_read_is_kept_without_a_figure_and_with_its_reason(model):
    live = LiveStress(model, PhysioSettings(live_baseline_s=0.0))
    window = live.unjudged(0.0, 30.0, "sensor data unreadable")
    assert (window.stress, window.quality, window.reason) == (None, 0.0, "sensor data unreadable")
    assert live.windows == [window]


def _temperature(times_s: np.ndarray) -> Recording:
    values = 33.0 + 0.01 * times_s
    return Recording("test", {"temp": Channel("temp", "C", times_s, values, rate_hz=4.0)})


def test_a_live_window_reads_only_the_signal_just_before_it():
    times_s = np.arange(0.0, 600.0, 0.25)
    recording = _temperature(times_s)
    start_s, end_s = 400.0, 430.0
    live = live_window_features(recording, start_s, end_s)
    whole = window_features(process_recording(recording), start_s, end_s)
    assert live.measurements["temp_c"] == pytest.approx(whole.measurements["temp_c"])
    changed = _temperature(times_s)
    changed.channels["temp"].values[times_s < start_s - LEAD_S] = 20.0  # long before the window: not read
    assert live_window_features(changed, start_s, end_s).measurements == live.measurements


def test_a_recording_between_two_times_keeps_its_samples_gaps_and_events_there():
    times_s = np.arange(0.0, 100.0, 1.0)
    channel = Channel("eda", "uS", times_s, times_s * 2, rate_hz=1.0, gaps=[(10.0, 20.0), (45.0, 55.0)])
    other = Channel("temp", "C", np.arange(0.0, 30.0), np.ones(30), rate_hz=1.0)
    recording = Recording("test", {"eda": channel, "temp": other}, start_unix_s=5.0, events_s=[12.0, 50.0])
    part = recording.between(40.0, 60.0)
    assert list(part.channels) == ["eda"]  # no temperature after 30 s
    np.testing.assert_array_equal(part.channels["eda"].times_s, np.arange(40.0, 60.0))
    np.testing.assert_array_equal(part.channels["eda"].values, np.arange(40.0, 60.0) * 2)
    assert part.channels["eda"].gaps == [(45.0, 55.0)]
    assert part.events_s == [50.0] and part.start_unix_s == 5.0
    assert recording.between(30.0, 50.0).channels["eda"].gaps == [(45.0, 50.0)]  # clipped to the stretch


def test_a_live_model_judges_a_recording_as_a_live_session_would(tmp_path):
    import json
    import shutil

    from runtime.arms.physio.arm import classify_windows
    from runtime.arms.physio.readers import read_recording
    from runtime.models.card import REPO_MODELS_DIR
    from tests.physio_factory import write_e4

    folder = tmp_path / "physio-stress-live"
    shutil.copytree(REPO_MODELS_DIR / "physio-stress", folder)
    card = json.loads((folder / "card.json").read_text())
    (folder / "card.json").write_text(json.dumps(card | {"id": "physio-stress-live", "scope": "running"}))
    recording = read_recording(write_e4(tmp_path / "S99", duration_s=600.0))
    live = classify_windows(recording, load_physio_model(str(folder)), PhysioSettings())
    session = classify_windows(recording, load_physio_model(), PhysioSettings())
    assert [w.start_s for w in live] == [w.start_s for w in session]
    with_signal = [i for i, w in enumerate(session) if w.quality > 0]
    assert all(live[i].stress is None and live[i].reason.startswith("live baseline forming")
               for i in with_signal if live[i].start_s < 300.0)
    assert any(session[i].stress is not None for i in with_signal if session[i].start_s < 300.0)
    late = [i for i in with_signal if live[i].start_s >= 300.0]
    assert late and all(live[i].stress is not None for i in late)
    assert not np.allclose([live[i].stress for i in late], [session[i].stress for i in late])


def test_each_log_line_is_said_once_a_session_numbers_aside_but_each_channel_is_said(model, caplog):
    import logging

    live = LiveStress(model, PhysioSettings(live_baseline_s=0.0))
    log = logging.getLogger("emotrace.firmware_bridge")
    caplog.clear()
    with caplog.at_level("WARNING"):
        for t_s in (10.0, 15.0, 20.0):
            with live.said_once():
                log.warning("%s: channel %s left out: %d sample(s)", "board", "temp", int(t_s))
                log.warning("%s: channel %s left out: %d sample(s)", "board", "eda", int(t_s))
        log.warning("outside: said every time")
        log.warning("outside: said every time")
    messages = [r.getMessage() for r in caplog.records]
    assert messages == ["board: channel temp left out: 10 sample(s)", "board: channel eda left out: 10 sample(s)",
                        "outside: said every time", "outside: said every time"]


def test_a_live_model_card_the_device_cannot_follow_is_refused_naming_it(tmp_path):
    import json
    import shutil

    from runtime.errors import InputError
    from runtime.models.card import REPO_MODELS_DIR

    folder = tmp_path / "spoilt"
    shutil.copytree(REPO_MODELS_DIR / "physio-stress-live", folder)
    card = json.loads((folder / "card.json").read_text())
    for spoilt, problem in (({"scaling": "minmax"}, "scaling 'minmax'"), ({"scope": "future"}, "scope 'future'"),
                            ({"context_windows": 2.5}, "context_windows 2.5 is not a whole number"),
                            ({"live_baseline_s": "abc"}, "live_baseline_s text 'abc' is not a number of seconds"),
                            ({"live_baseline_s": -5}, "live_baseline_s -5 is not a number of seconds"),
                            ({"live_baseline_s": 10**400}, "live_baseline_s an integer of 401 digits is not a number"),
                            ({"scope": []}, r"scope \[\] is none of"),
                            # were: read as 1 s windows; an internal ValueError
                            ({"window_s": True}, "window_s true is not a positive number of seconds"),
                            ({"hop_s": "abc"}, "hop_s text 'abc' is not a positive number of seconds")):
        (folder / "card.json").write_text(json.dumps(card | spoilt))
        with pytest.raises(InputError, match=problem):
            load_physio_model(str(folder))


def test_a_recorded_window_without_signal_gets_no_stress_figure_only_its_reason(model):
    rng = np.random.default_rng(5)
    windows = [_window(5.0 * i, {name: rng.normal(1.0, 0.1) for name in model_features(model)},
                       quality=0.0 if i in (3, 7) else 1.0) for i in range(20)]
    judged = classify_session(windows, model)
    assert [i for i, w in enumerate(judged) if w.stress is None] == [3, 7]  # a strap left off: no figure
    assert judged[3].reason == NO_SIGNAL and judged[3].quality == 0.0


def test_a_live_window_with_part_of_its_signal_keeps_that_quality_beside_its_figure(model):
    live = LiveStress(model, PhysioSettings(live_baseline_s=0.0))
    for i in range(12):  # a baseline of windows with signal
        live.add(_window(5.0 * i, {name: 1.0 + 0.01 * i for name in model_features(model)}))
    judged = live.add(_window(60.0, {name: 1.2 for name in model_features(model)}, quality=0.5))
    assert judged.stress is not None and judged.quality == 0.5


def test_a_whole_session_model_judging_live_is_said_to_be_less_well_calibrated_and_a_live_model_is_not(model, caplog):
    live_model = load_physio_model("physio-stress-live")
    with caplog.at_level("WARNING"):
        LiveStress(model, PhysioSettings(live_baseline_s=0.0))
        said_for_session_model = list(caplog.messages)
        caplog.clear()
        LiveStress(live_model, PhysioSettings(live_baseline_s=float(live_model.card.extra["live_baseline_s"])))
    assert len(said_for_session_model) == 1 and "was trained on whole-session inputs" in said_for_session_model[0]
    assert caplog.messages == []


def test_lines_another_thread_logs_while_a_window_is_judged_are_all_let_through(model, caplog):
    import logging
    import threading

    live = LiveStress(model, PhysioSettings(live_baseline_s=0.0))
    log = logging.getLogger("emotrace.firmware_bridge")

    def link_thread() -> None:  # a sensor link saying it lost its device, twice
        log.warning("strap: lost, reconnecting")
        log.warning("strap: lost, reconnecting")

    caplog.clear()
    with caplog.at_level("WARNING"), live.said_once():
        thread = threading.Thread(target=link_thread)
        thread.start()
        thread.join()
    assert caplog.messages == ["strap: lost, reconnecting"] * 2  # only the judging thread's are said once


@pytest.mark.parametrize("scaling", ["median_iqr", "zscore"])
def test_scaling_in_threads_at_once_says_nothing_and_loses_no_warning_of_another_thread(scaling):
    features = np.random.default_rng(0).normal(size=(100, len(MEASUREMENTS)))
    missing = MEASUREMENTS.index("resp_rate_bpm")
    features[:, missing] = np.nan  # no sensor gave it: centred at 0, as numpy says nothing of its empty slice
    quality = np.ones(100)
    raised, shown, kept, theirs = warnings_beside(lambda: running_inputs(features[:10], quality[:10], 3, scaling),
                                                  rounds=20)
    assert (shown, kept, theirs) == (raised, True, [])  # was: most lost to the filter each thread set
    assert not model_inputs(features, quality, 3, scaling)[:, missing].any()
