"""Window features from neurokit2-processed signals: heart rate, SCRs, temperature slope, motion, quality."""

from __future__ import annotations

import math
import warnings

import neurokit2 as nk
import numpy as np
import pytest

from runtime.arms.physio.features import (
    MOTION_LIMIT_G,
    Series,
    heart_rate_series,
    ignore_library_warnings,
    ppg_template_quality,
    process_recording,
    recording_features,
    window_features,
)
from runtime.arms.physio.recording import Channel, Recording
from tests.arms.physio.stand_ins import uniform
from tests.memory import peak_traced_bytes
from tests.physio_factory import write_e4
from tests.warnings_beside import warnings_beside


def still_acc(duration_s: float, rate_hz: float = 32.0, shake_g: float = 0.0, seed: int = 0) -> np.ndarray:
    n = int(duration_s * rate_hz)
    acc = np.tile([0.0, 0.0, 1.0], (n, 1))
    return acc + np.random.default_rng(seed).normal(0, shake_g, size=(n, 3)) if shake_g else acc


def test_heart_rate_follows_a_simulated_ppg_at_72_and_96_bpm():
    for bpm in (72, 96):
        ppg = nk.ppg_simulate(duration=120, sampling_rate=64, heart_rate=bpm, random_state=3)
        recording = Recording("sim", {"bvp": uniform("bvp", ppg, 64.0)})
        windows = recording_features(recording, window_s=60.0, hop_s=30.0)
        assert windows[1].measurements["hr_bpm"] == pytest.approx(bpm, abs=3)
        assert math.isfinite(windows[1].measurements["rmssd_ms"])


def test_a_pulse_wave_alone_gives_the_heart_channels_the_model_reads():
    # The serial board sends a pulse wave but no heart-rate or beat channel: both are made from its beats.
    ppg = nk.ppg_simulate(duration=120, sampling_rate=64, heart_rate=80, random_state=4)
    recording = Recording("board", {"bvp": uniform("bvp", ppg, 64.0)})
    measurements = recording_features(recording, window_s=30.0, hop_s=30.0)[2].measurements
    assert measurements["hr_channel_bpm"] == pytest.approx(80, abs=3)
    assert measurements["ibi_mean_s"] == pytest.approx(0.75, abs=0.03)
    assert math.isfinite(measurements["ibi_rmssd_s"])


def test_delivered_heart_channels_are_kept_over_the_pulse_wave():
    ppg = nk.ppg_simulate(duration=120, sampling_rate=64, heart_rate=80, random_state=4)
    hr = uniform("hr", np.full(120, 61.0), 1.0)
    recording = Recording("e4", {"bvp": uniform("bvp", ppg, 64.0), "hr": hr})
    measurements = recording_features(recording, window_s=30.0, hop_s=30.0)[2].measurements
    assert measurements["hr_channel_bpm"] == 61.0
    assert math.isfinite(measurements["ibi_mean_s"])  # no IBI channel: beats from the pulse wave


def test_heart_rate_from_beats_averages_the_last_ten_seconds_and_needs_three_beats():
    beat_times_s = np.concatenate([np.arange(1.0, 21.0, 1.0), np.arange(21.5, 40.0, 0.5)])  # 60 bpm, then 120
    beats = Series(beat_times_s, np.diff(np.concatenate([[0.0], beat_times_s])), [(0.0, 40.0)])
    rate = heart_rate_series(beats)
    at = dict(zip(rate.times_s.tolist(), rate.values.tolist(), strict=True))
    assert math.isnan(at[2.0])  # two beats so far
    assert at[15.0] == pytest.approx(60.0)
    assert at[35.0] == pytest.approx(120.0)
    assert 60.0 < at[25.0] < 120.0  # the ten seconds before span both rates


def test_scr_rate_rises_with_the_number_of_skin_conductance_responses():
    rates = []
    for scr_number in (1, 8):
        eda = nk.eda_simulate(duration=120, sampling_rate=4, scr_number=scr_number, drift=0.0, random_state=5)
        eda += np.linspace(2.0, 2.05, eda.size)  # one SCR leaves the rest flat for 60 s, as no skin does
        recording = Recording("sim", {"eda": uniform("eda", eda, 4.0)})
        signals = process_recording(recording)
        rates.append(window_features(signals, 0.0, 120.0).measurements["scr_rate_per_min"])
    assert rates[1] > rates[0]


def test_temperature_slope_is_in_degrees_per_minute():
    temp = 33.0 + 0.5 * np.arange(0, 120, 0.25) / 60.0  # +0.5 degC per minute
    recording = Recording("sim", {"temp": uniform("temp", temp, 4.0), "eda": uniform("eda", np.ones(480), 4.0)})
    features = window_features(process_recording(recording), 0.0, 60.0)
    assert features.measurements["temp_slope_c_per_min"] == pytest.approx(0.5, rel=1e-3)


def test_no_slope_is_read_from_samples_spanning_under_two_seconds():
    # Three rows of a 10 kHz file: a slope per minute over 0.2 ms would be its noise times 300,000.
    temp = np.array([33.0, 33.1, 32.9])
    recording = Recording("sim", {"temp": uniform("temp", temp, 10_000.0), "eda": uniform("eda", np.ones(3), 10_000.0)})
    measurements = window_features(process_recording(recording), 0.0, 30.0).measurements
    assert math.isnan(measurements["temp_slope_c_per_min"]) and math.isnan(measurements["eda_slope_us_per_min"])
    assert measurements["temp_c"] == pytest.approx(33.0)


def test_motion_lowers_quality_and_says_why():
    eda = 2.0 + 0.1 * np.sin(np.arange(480) / 20.0)
    calm = Recording("sim", {"eda": uniform("eda", eda, 4.0), "acc": uniform("acc", still_acc(120), 32.0)})
    moving = Recording(
        "sim", {"eda": uniform("eda", eda, 4.0), "acc": uniform("acc", still_acc(120, shake_g=0.6), 32.0)}
    )
    still_window = window_features(process_recording(calm), 0.0, 60.0)
    moving_window = window_features(process_recording(moving), 0.0, 60.0)
    assert moving_window.measurements["motion_g"] > MOTION_LIMIT_G > still_window.measurements["motion_g"]
    assert moving_window.quality < still_window.quality
    assert "motion" in moving_window.reason


def test_window_inside_a_gap_makes_no_claim_and_a_half_covered_one_loses_quality():
    eda = 2.0 + 0.1 * np.sin(np.arange(4 * 300) / 20.0)
    eda[4 * 100 : 4 * 200] = np.nan  # 100 s missing
    recording = Recording("sim", {"eda": uniform("eda", eda, 4.0)})
    signals = process_recording(recording)
    inside = window_features(signals, 120.0, 180.0)
    half = window_features(signals, 70.0, 130.0)
    before = window_features(signals, 0.0, 60.0)
    assert inside.quality == 0.0 and inside.reason
    assert math.isnan(inside.measurements["eda_tonic_us"])  # nothing interpolated across the gap
    assert 0.0 < half.quality < before.quality


@pytest.mark.parametrize(("start_s", "eda_percent"), [(90.0, 33), (95.0, 16)])
def test_a_window_with_some_eda_under_the_share_says_how_much_not_that_there_is_none(start_s, eda_percent):
    eda = 2.0 + 0.1 * np.sin(np.arange(4 * 300) / 20.0)
    eda[4 * 100 : 4 * 200] = np.nan  # 100 s missing: a window from 90 s holds 10 s of EDA, from 95 s 5 s
    window = window_features(process_recording(Recording("sim", {"eda": uniform("eda", eda, 4.0)})), start_s,
                             start_s + 30.0)
    assert window.quality == 0.0 and math.isfinite(window.measurements["eda_tonic_us"])  # both as before
    # was: 'no heart or EDA signal in this window', beside an EDA figure
    assert window.reason == (f"too little heart or EDA signal in this window (heart 0 %, EDA {eda_percent} % of "
                             "it; a figure needs one at 50 % or more)")


def test_rmssd_uses_only_neighbouring_beats_and_does_not_bridge_a_dropped_one():
    from runtime.arms.physio.features import ProcessedSignals, Series

    ibi = np.tile([0.8, 0.82], 20)  # alternating: successive differences of 20 ms
    beats = np.cumsum(ibi)
    keep = np.ones(ibi.size, bool)
    keep[10] = False  # an artefact beat removed: intervals 9 and 11 are not neighbours
    signals = ProcessedSignals(ibi=Series(beats[keep], ibi[keep], [(0.0, float(beats[-1]))]))
    features = window_features(signals, 0.0, float(beats[-1]) + 1.0)
    assert features.measurements["rmssd_ms"] == pytest.approx(20.0, abs=1e-6)
    assert features.measurements["hr_bpm"] == pytest.approx(60 / 0.81, rel=0.02)


def test_sdnn_is_the_spread_of_the_intervals_themselves_in_milliseconds():
    from runtime.arms.physio.features import ProcessedSignals, Series

    ibi = np.tile([0.8, 1.0], 20)  # alternating 0.8 and 1.0 s: SD about 100 ms; their differences' SD is about 200
    beats = np.cumsum(ibi)
    signals = ProcessedSignals(ibi=Series(beats, ibi, [(0.0, float(beats[-1]))]))
    sdnn_ms = window_features(signals, 0.0, float(beats[-1]) + 1.0).measurements["sdnn_ms"]
    assert sdnn_ms == pytest.approx(1000.0 * np.std(ibi, ddof=1))


def test_scr_rate_is_counted_per_minute():
    from runtime.arms.physio.features import ProcessedSignals, Series

    onsets_s = np.array([10.0, 30.0, 50.0, 70.0, 90.0, 110.0])  # six responses in a 120 s window
    signals = ProcessedSignals(scr=Series(onsets_s, np.full(6, 0.2), [(0.0, 120.0)]))
    measurements = window_features(signals, 0.0, 120.0).measurements
    assert measurements["scr_rate_per_min"] == pytest.approx(3.0)
    assert measurements["scr_amplitude_us"] == pytest.approx(0.2)


def test_channel_statistics_read_the_delivered_heart_rate_eda_and_wrist_orientation():
    hr = np.where(np.arange(120) < 60, 70.0, 90.0)  # 1 Hz heart rate channel: 70 then 90 bpm
    eda = 2.0 + 0.1 * np.arange(480) / 4.0 / 60.0  # +0.1 uS per minute
    acc = np.tile([0.5, 0.0, 0.8], (120 * 32, 1))
    recording = Recording(
        "sim",
        {"hr": uniform("hr", hr, 1.0), "eda": uniform("eda", eda, 4.0), "acc": uniform("acc", acc, 32.0)},
    )
    signals = process_recording(recording)
    first, both = window_features(signals, 0.0, 60.0).measurements, window_features(signals, 30.0, 90.0).measurements
    assert first["hr_channel_bpm"] == pytest.approx(70.0) and first["hr_sd_bpm"] == pytest.approx(0.0)
    assert both["hr_min_bpm"] == 70.0 and both["hr_max_bpm"] == 90.0 and both["hr_sd_bpm"] > 5.0
    assert first["eda_slope_us_per_min"] == pytest.approx(0.1, rel=1e-3)
    assert first["acc_x_mean_g"] == pytest.approx(0.5) and first["acc_z_mean_g"] == pytest.approx(0.8)
    assert first["acc_magnitude_sd_g"] == pytest.approx(0.0, abs=1e-9)
    assert math.isnan(first["ibi_mean_s"])  # no interval channel: nothing made up


@pytest.mark.parametrize(("name", "rate_hz"), [("eda", 0.5), ("bvp", 16.0), ("resp", 4.0)])
def test_a_channel_sampled_too_slowly_for_its_processing_is_an_input_error_naming_it(name, rate_hz):
    from runtime.errors import InputError

    values = 1.0 + 0.1 * np.sin(np.arange(int(600 * rate_hz)) / rate_hz)
    recording = Recording("slow.csv", {name: uniform(name, values, rate_hz)})
    with pytest.raises(InputError, match=rf"slow\.csv: {name} sampled at {rate_hz:g} Hz"):
        process_recording(recording)


def test_beats_that_cover_a_window_but_are_all_cleaned_away_leave_it_at_quality_zero():
    beats_s = np.arange(1.8, 300.0, 1.8)  # 33 bpm: delivered, so the heart is followed, but outside 0.33-1.5 s
    ibi = Channel("ibi", "s", beats_s, np.full(beats_s.size, 1.8))
    window = window_features(process_recording(Recording("strap.csv", {"ibi": ibi})), 100.0, 130.0)
    assert math.isnan(window.measurements["hr_bpm"])
    assert window.quality == 0.0
    assert window.reason.startswith("too little heart or EDA signal in this window (heart 0 %")


def test_beats_missing_for_a_few_seconds_lower_the_heart_coverage_by_them():
    beats_s = np.concatenate([np.arange(0.8, 110.0, 0.8), np.arange(116.2, 300.0, 0.8)])  # 6.2 s without a beat
    ibi = Channel("ibi", "s", beats_s, np.full(beats_s.size, 0.8))
    signals = process_recording(Recording("strap.csv", {"ibi": ibi}))
    holed, whole = window_features(signals, 100.0, 130.0), window_features(signals, 200.0, 230.0)
    assert whole.reason == "EDA missing" and holed.quality < whole.quality == 0.5
    assert "heart missing over" in holed.reason


def test_a_few_seconds_missing_from_a_signal_s_stamps_are_not_processed_across():
    eda = 2.0 + 0.1 * np.sin(np.arange(4 * 300) / 20.0)
    times_s = np.arange(eda.size) / 4.0
    kept = (times_s < 40.0) | (times_s >= 42.0)  # 2 s, 8 samples, missing from the stamps: no NaN marks them
    channel = Channel("eda", "uS", times_s[kept], eda[kept], rate_hz=4.0, gaps=[(40.0, 42.0)])
    window = window_features(process_recording(Recording("board", {"eda": channel})), 30.0, 60.0)
    assert window.reason == "heart missing; EDA missing over 7 % of the window"
    assert window.quality == pytest.approx((1 - 2 / 30) / 2, abs=1e-4)


def test_channel_statistics_need_three_samples_in_the_window():
    hr = uniform("hr", 70.0 + np.arange(60) % 3, 1.0)  # 1 Hz
    signals = process_recording(Recording("sim", {"hr": hr}))
    assert math.isnan(window_features(signals, 10.0, 12.0).measurements["hr_sd_bpm"])  # two samples
    assert window_features(signals, 10.0, 13.0).measurements["hr_sd_bpm"] > 0  # three


def test_beat_intervals_that_stop_for_minutes_count_as_missing_heart_signal(caplog):
    beats_s = np.concatenate([np.arange(1.0, 200.0, 0.8), np.arange(400.0, 600.0, 0.8)])  # none at 200-400 s
    ibi = Channel("ibi", "s", beats_s, np.full(beats_s.size, 0.8))
    eda = uniform("eda", 2.0 + 0.05 * np.sin(np.arange(2400) / 40.0), 4.0)
    with caplog.at_level("WARNING", logger="emotrace.physio"):
        signals = process_recording(Recording("strap.csv", {"ibi": ibi, "eda": eda}))
    assert any("no clean beats for 1 stretch" in r.getMessage() for r in caplog.records)
    silent = window_features(signals, 280.0, 310.0)
    beating = window_features(signals, 100.0, 130.0)
    assert "heart missing" in silent.reason and silent.quality < beating.quality
    assert beating.measurements["hr_bpm"] == pytest.approx(75.0)


def test_delivered_beats_all_cleaned_away_are_no_heart_coverage_beside_eda(caplog):
    beats_s = np.arange(1.8, 300.0, 1.8)  # 33 bpm: every interval outside the clean range
    ibi = Channel("ibi", "s", beats_s, np.full(beats_s.size, 1.8))
    eda = uniform("eda", 2.0 + 0.05 * np.sin(np.arange(1200) / 40.0), 4.0)
    with caplog.at_level("WARNING", logger="emotrace.physio"):
        window = window_features(process_recording(Recording("strap.csv", {"ibi": ibi, "eda": eda})), 100.0, 130.0)
    assert math.isnan(window.measurements["hr_bpm"])
    assert window.quality == pytest.approx(0.5) and window.reason == "heart missing"
    assert any("ibi: no clean beats for 1 stretch" in r.getMessage() for r in caplog.records)


def test_delivered_beats_all_cleaned_away_give_the_model_no_beat_statistics():
    beats_s = np.arange(1.8, 300.0, 1.8)  # 33 bpm: every interval outside the clean range
    ibi = Channel("ibi", "s", beats_s, np.full(beats_s.size, 1.8))
    eda = uniform("eda", 2.0 + 0.05 * np.sin(np.arange(1200) / 40.0), 4.0)
    window = window_features(process_recording(Recording("strap.csv", {"ibi": ibi, "eda": eda})), 100.0, 130.0)
    assert window.reason == "heart missing"
    for name in ("ibi_mean_s", "ibi_sd_s", "ibi_rmssd_s"):
        assert math.isnan(window.measurements[name]), name


def test_one_artefact_beat_cleaned_away_leaves_the_heart_followed():
    beats_s = np.arange(0.8, 300.0, 0.8)
    ibi_s = np.full(beats_s.size, 0.8)
    ibi_s[150] = 2.4  # a missed beat: dropped as an artefact, 2.4 s without a clean beat is no hole
    ibi = Channel("ibi", "s", beats_s, ibi_s)
    window = window_features(process_recording(Recording("strap.csv", {"ibi": ibi})), 105.0, 135.0)
    assert window.reason == "EDA missing" and window.quality == pytest.approx(0.5)  # the heart all there
    assert window.measurements["hr_bpm"] == pytest.approx(75.0)
    # the delivered beats' statistics bridge the artefact, as the model was trained on the E4's beats
    assert window.measurements["ibi_mean_s"] == pytest.approx((36 * 0.8 + 2.4) / 37, abs=0.02)


def test_a_strap_whose_beats_stop_but_whose_heart_rate_goes_on_still_covers_the_heart():
    beats_s = np.arange(1.0, 450.0, 0.85)  # the intervals stop at 450 s, the heart rate does not
    ibi = Channel("ibi", "s", beats_s, np.full(beats_s.size, 0.85))
    hr = uniform("hr", 70.0 + 3.0 * np.sin(np.arange(900) / 40.0), 1.0)
    signals = process_recording(Recording("strap.csv", {"ibi": ibi, "hr": hr}))
    late = window_features(signals, 600.0, 630.0)
    assert late.quality > 0 and "heart" not in late.reason
    assert late.measurements["hr_bpm"] == pytest.approx(np.median(hr.values[600:630]), abs=1.0)
    nothing = window_features(process_recording(Recording("strap.csv", {"ibi": ibi})), 600.0, 630.0)
    assert nothing.quality == 0.0 and nothing.reason.startswith("too little heart or EDA signal in this window "
                                                                "(heart 0 %, EDA 0 % of it")


@pytest.mark.parametrize(("name", "rate_hz", "level"),
                         [("eda", 4.0, 0.0), ("eda", 4.0, 1.0), ("bvp", 64.0, 0.0), ("resp", 32.0, 2.0)])
def test_a_flat_signal_is_no_signal_not_a_crash(caplog, name, rate_hz, level):
    values = np.full(int(120 * rate_hz), level)  # an unplugged sensor, shorted electrodes
    channel = Channel(name, "", np.arange(values.size) / rate_hz, values, rate_hz=rate_hz)
    with caplog.at_level("WARNING", logger="emotrace.physio"):
        windows = recording_features(Recording("flat.csv", {name: channel}), 30.0, 5.0)
    assert windows and all(w.quality == 0.0 for w in windows)  # was (EDA at 1 uS): read as EDA, quality 0.5
    assert [r.getMessage() for r in caplog.records] == [
        f"flat.csv: {name}: 120 s holding one value for 60 s or more (a sensor off the skin or shorted) left out as "
        "missing; windows there lose quality"]  # one line, naming the file


@pytest.mark.parametrize("rate_hz", [4.0, 4.0032227201772494])  # the second: a serial board's rate, as measured
def test_skin_conductance_held_at_one_reading_under_a_minute_is_that_level_with_no_responses(caplog, rate_hz):
    # a 10-bit board on still skin can read one value for many seconds; neurokit2 failed on some such stretches
    # (it scales the responses' heights by their largest, of none), so the EDA was lost by numerical chance
    values = np.full(int(40 * rate_hz), 13.13193607)
    with caplog.at_level("WARNING", logger="emotrace.physio"):
        features = window_features(process_recording(Recording("board", {"eda": uniform("eda", values, rate_hz)})),
                                   5.0, 35.0)
    assert features.measurements["eda_tonic_us"] == pytest.approx(13.13193607)
    assert features.measurements["scr_rate_per_min"] == 0.0
    assert caplog.records == []


def test_skin_conductance_held_at_zero_under_a_minute_is_no_skin_contact_not_a_level(caplog):
    values = np.zeros(int(40 * 4.0))  # a sensor unplugged: no conductance at all
    with caplog.at_level("WARNING", logger="emotrace.physio"):
        features = window_features(process_recording(Recording("board", {"eda": uniform("eda", values, 4.0)})),
                                   5.0, 35.0)
    assert features.quality == 0.0 and not math.isfinite(features.measurements.get("eda_tonic_us", math.nan))
    assert any("could not be read as a signal (flat" in r.getMessage() for r in caplog.records)


def test_a_flat_stretch_in_a_living_signal_costs_its_own_windows_alone():
    eda = 2.0 + 0.3 * np.sin(np.arange(int(300 * 4.0)) / 40.0)
    eda[480:720] = 2.5  # 120-180 s: one value, the electrodes lifted
    windows = recording_features(Recording("e.csv", {"eda": uniform("eda", eda, 4.0)}), 30.0, 30.0)
    assert [w.quality > 0 for w in windows] == [True, True, True, True, False, False, True, True, True, True]


def test_one_impossible_sample_in_a_pulse_wave_costs_its_own_moment_not_the_stretch(caplog):
    ppg = nk.ppg_simulate(duration=300, sampling_rate=64, heart_rate=72, random_state=5)
    hit = ppg.copy()
    hit[150 * 64] = 1e12  # a corrupt value in an export
    with caplog.at_level("WARNING", logger="emotrace.physio"):
        windows = recording_features(Recording("spike.csv", {"bvp": uniform("bvp", hit, 64.0)}), 30.0, 30.0)
    clean = recording_features(Recording("clean.csv", {"bvp": uniform("bvp", ppg, 64.0)}), 30.0, 30.0)
    assert all(math.isfinite(w.measurements["hr_bpm"]) for w in windows)  # was: every window "heart missing"
    assert [w.measurements["hr_bpm"] for w in windows[:4]] == [w.measurements["hr_bpm"] for w in clean[:4]]
    assert [r.getMessage() for r in caplog.records] == [
        "spike.csv: bvp: 1 sample(s) far outside the signal's range (e.g. 1e+12) left out as missing; windows "
        "there lose quality"]


def test_the_unusable_sample_rules_leave_real_wrist_signals_whole(stress_predict_dir):
    from runtime.arms.physio.features import unusable_samples
    from runtime.arms.physio.readers.e4 import read_e4

    recording = read_e4(stress_predict_dir / "raw" / "S05.zip")  # as the E4 wrote them
    for name in ("eda", "bvp"):
        flat, spike = unusable_samples(recording.channels[name].values, recording.channels[name].rate_hz)
        assert not flat.any() and not spike.any()


def test_a_pulse_wave_stamped_with_jitter_keeps_its_beats():
    ppg = nk.ppg_simulate(duration=120, sampling_rate=64, heart_rate=70, random_state=6)
    times_s = np.arange(ppg.size) / 64.0
    times_s[::192] += 0.7 / 64.0  # one sample in every three seconds arrives 0.7 of a period late
    channel = Channel("bvp", "", times_s, ppg, rate_hz=64.0)
    windows = recording_features(Recording("jitter.csv", {"bvp": channel}), 30.0, 30.0)
    even = recording_features(Recording("even.csv", {"bvp": uniform("bvp", ppg, 64.0)}), 30.0, 30.0)
    assert len(windows) == len(even) == 4 and all(w.quality > 0 for w in windows)  # was: no beat, quality 0
    for jittered, steady in zip(windows, even, strict=True):
        assert jittered.measurements["hr_bpm"] == pytest.approx(steady.measurements["hr_bpm"], abs=1.0)


def test_samples_missing_one_at_a_time_shift_nothing_after_them():
    times_s = np.arange(4 * 600) / 4.0
    kept = np.ones(times_s.size, dtype=bool)
    kept[np.random.default_rng(2).choice(times_s.size, 120, replace=False)] = False  # 5 % of rows lost, singly
    eda = 2.0 + 0.3 * np.sin(times_s / 10.0)
    channel = Channel("eda", "uS", times_s[kept], eda[kept], rate_hz=4.0)
    tonic = process_recording(Recording("rows.csv", {"eda": channel})).eda_tonic
    assert set(tonic.times_s) <= set(channel.times_s)  # each value at its own sample's time
    assert tonic.times_s[-1] == channel.times_s[-1]  # was: about 17 s early by the end, counted in samples


def test_a_frame_lost_on_a_link_costs_its_own_samples_not_the_stretches_around_them():
    from runtime.arms.physio.features import _runs

    # The board sends EDA in one frame of sixteen: a lost frame without EDA is a gap the link records on every
    # channel ("*"), though the EDA lost nothing; one with EDA leaves a step of two periods.
    times_s = np.arange(4 * 60) / 4.0
    for lost_s in ([], [30.0]):
        kept = ~np.isin(times_s, lost_s)
        channel = Channel("eda", "uS", times_s[kept], np.ones(kept.sum()), rate_hz=4.0, gaps=[(29.75, 29.8)])
        assert [(channel.times_s[run[0]], channel.times_s[run[-1]]) for run in _runs(channel)] == [(0.0, 59.75)]


def test_the_spike_rule_leaves_skin_conductance_to_its_plausible_range():
    from runtime.arms.physio.features import _without_unusable

    off = 0.010 + 0.001 * (np.arange(4 * 1200) % 2)  # 20 min off the wrist: a quantised floor, spread 0.001 uS
    on = 12.0 + 4.0 * np.sin(np.arange(4 * 600) / 60.0)  # then 10 min on the skin at 8-16 uS
    channel = uniform("eda", np.concatenate([off, on]), 4.0)
    assert np.isfinite(_without_unusable(channel, "wrist.csv").values).all()  # was: those over 10 uS made missing


def test_a_signal_in_pieces_too_short_to_process_is_said_not_lost_without_a_word(caplog):
    eda = 2.0 + 0.3 * np.sin(np.arange(4 * 120) / 40.0)
    eda[::20] = np.nan  # a sample missing every 5 s: no stretch reaches the 8 s processing needs
    with caplog.at_level("WARNING", logger="emotrace.physio"):
        windows = recording_features(Recording("holes.csv", {"eda": uniform("eda", eda, 4.0)}), 30.0, 30.0)
    assert all(math.isnan(w.measurements["eda_tonic_us"]) for w in windows)
    assert [r.getMessage() for r in caplog.records] == [  # was: nothing said
        "holes.csv: eda: 24 stretch(es), 114 s in all, could not be read as a signal (under 8 s between gaps); "
        "windows there lose quality"]


def test_a_signal_too_short_in_all_is_not_said_to_lie_between_gaps(caplog):
    eda = 2.0 + 0.3 * np.sin(np.arange(4 * 5) / 40.0)  # 5 s of it, no gap: a session stopped within seconds
    with caplog.at_level("WARNING", logger="emotrace.physio"):
        recording_features(Recording("short.csv", {"eda": uniform("eda", eda, 4.0)}), 30.0, 30.0)
    said = [r.getMessage() for r in caplog.records if "could not be read as a signal" in r.getMessage()]
    assert said == ["short.csv: eda: 1 stretch(es), 5 s in all, could not be read as a signal (under 8 s, the "
                    "channel's whole length); windows there lose quality"]  # was: '(under 8 s between gaps)'


def noisy_ppg(duration_s: float, rate_hz: float = 64.0, seed: int = 3) -> np.ndarray:
    """A simulated wrist pulse wave with motion artefacts and noise, so that some beats fail the template match."""
    ppg = nk.ppg_simulate(duration=duration_s, sampling_rate=rate_hz, heart_rate=75, ibi_randomness=0.2,
                          random_state=seed)
    rng = np.random.default_rng(seed)
    for start in rng.integers(0, ppg.size - int(20 * rate_hz), 8):  # an arm moving for 10-20 s
        length = int(rng.uniform(10, 20) * rate_hz)
        ppg[start : start + length] += 3 * np.cumsum(rng.normal(0, 0.3, length)) * ppg.std()
    return ppg


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_template_quality_is_neurokit2s_exactly(seed):
    rate_hz = 64.0
    cleaned = nk.ppg_clean(noisy_ppg(300, rate_hz, seed), sampling_rate=rate_hz)
    peaks = np.asarray(nk.ppg_findpeaks(cleaned, sampling_rate=rate_hz)["PPG_Peaks"], dtype=int)
    theirs = np.asarray(nk.ppg_quality(cleaned, peaks=peaks, sampling_rate=rate_hz, method="templatematch"))[peaks]
    ours = ppg_template_quality(cleaned, peaks, rate_hz)
    assert ((theirs < 0.5) & np.isfinite(theirs)).any()  # the test reaches beats that are dropped
    np.testing.assert_array_equal(ours, theirs)


def test_template_quality_of_an_hour_takes_little_memory():
    # neurokit2 keeps a pandas DataFrame per beat: about 60 MB an hour at 64 Hz, 2.7 GB for 48 h
    rate_hz = 64.0
    cleaned = nk.ppg_clean(nk.ppg_simulate(duration=3600, sampling_rate=rate_hz, random_state=1), sampling_rate=rate_hz)
    peaks = np.asarray(nk.ppg_findpeaks(cleaned, sampling_rate=rate_hz)["PPG_Peaks"], dtype=int)
    peak_mb = peak_traced_bytes(ppg_template_quality, cleaned, peaks, rate_hz) / 2**20
    assert peak_mb < 20 * cleaned.nbytes / 2**20  # a few copies of the signal, not one frame per beat


def test_processing_in_threads_at_once_loses_no_warning_of_another_thread(tmp_path):
    from runtime.arms.physio.readers.e4 import read_e4

    # a live session processes the sensors' samples in its checkpoint and live-stress threads at once
    recording = read_e4(write_e4(tmp_path / "S99", duration_s=120.0))  # EDA at 4 Hz: neurokit2's expected line
    ignore_library_warnings()  # the one filter processing adds for good, in place before the filters are compared
    raised, shown, kept, _ = warnings_beside(lambda: process_recording(recording), rounds=3)
    # was: most lost to the filter each thread set around neurokit2. pandas swaps the filters itself for an instant
    # (pandas_dtype's warnings.catch_warnings): a rare one may be lost to that (1 of 1,292 seen), never many
    assert kept and shown >= 0.99 * raised


def test_neurokit2s_own_lines_are_not_shown_however_the_filters_were_set_before(tmp_path):
    from runtime.arms.physio.readers.e4 import read_e4

    rng = np.random.default_rng(3)
    breath = np.sin(2 * np.pi * 0.25 * np.arange(12 * 32) / 32) + 0.1 * rng.normal(size=12 * 32)
    short_breathing = Recording("board", {"resp": uniform("resp", breath, 32.0)})  # too short for a rate
    e4 = read_e4(write_e4(tmp_path / "S99", duration_s=120.0))  # EDA at 4 Hz, which neurokit2 will not clean
    with warnings.catch_warnings(record=True) as caught:
        warnings.resetwarnings()  # a caller's or a harness's: the arm's filter must come back where it processes
        warnings.simplefilter("always")
        process_recording(short_breathing)
        process_recording(e4)
    # was: 'NeuroKitWarning: Too few peaks detected to compute the rate', 'EDA signal is sampled at very low
    # frequency', each a raw line naming neurokit2's source file
    assert [f"{w.category.__name__}: {w.message}" for w in caught] == []
    process_recording(short_breathing)  # the filter is in place now; a caller's own "always" then goes before it
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        process_recording(short_breathing)
    assert [f"{w.category.__name__}: {w.message}" for w in caught] == []  # was: both of neurokit2's lines again


def noisy_pulse_wave(noise_from_s: float, noise_to_s: float, duration_s: int = 300, rate_hz: float = 64.0):
    """A simulated pulse wave at 75 bpm with Gaussian noise of its own spread in place of it over a stretch."""
    ppg = nk.ppg_simulate(duration=duration_s, sampling_rate=int(rate_hz), heart_rate=75, random_state=5)
    lo, hi = int(noise_from_s * rate_hz), int(noise_to_s * rate_hz)
    ppg[lo:hi] = np.random.default_rng(0).normal(0.0, ppg.std(), hi - lo)
    return uniform("bvp", ppg, rate_hz)


def test_a_pulse_wave_turned_to_noise_loses_the_heart_there_and_borrows_no_other_heart_rate(caplog):
    eda = uniform("eda", 2.0 + 0.05 * np.sin(np.arange(1200) / 40.0), 4.0)
    device_hr = uniform("hr", np.full(300, 61.0), 1.0)  # the wearable's own heart rate, as an E4's HR.csv
    with caplog.at_level("WARNING", logger="emotrace.physio"):
        signals = process_recording(Recording("e4", {"bvp": noisy_pulse_wave(100.0, 220.0), "eda": eda,
                                                     "hr": device_hr}))
    assert any("bvp: no clean beats for" in r.getMessage() for r in caplog.records)
    clean, noisy = window_features(signals, 20.0, 50.0), window_features(signals, 140.0, 170.0)
    assert clean.quality == 1.0 and clean.measurements["hr_bpm"] == pytest.approx(75, abs=4)
    # was: quality 1.0 and no reason, hr_bpm from a stray beat or the device's 61 bpm
    assert noisy.quality < 0.6 and "heart missing" in noisy.reason
    assert math.isnan(noisy.measurements["hr_bpm"])
    assert noisy.measurements["hr_channel_bpm"] == 61.0  # the device's own figure stays in its column
    board = process_recording(Recording("board", {"bvp": noisy_pulse_wave(100.0, 220.0), "eda": eda}))
    # the heart rate made from the beats, a model input, is not made from stray beats in the noise either
    assert math.isnan(window_features(board, 140.0, 170.0).measurements["hr_channel_bpm"])
    assert window_features(board, 20.0, 50.0).measurements["hr_channel_bpm"] == pytest.approx(75, abs=4)


def test_a_heart_rate_from_a_pulse_wave_needs_as_many_clean_beats_as_the_hrv_does():
    from runtime.arms.physio.features import MIN_BEATS_HRV, ProcessedSignals

    for count in (MIN_BEATS_HRV - 1, MIN_BEATS_HRV):
        beats_s = 10.0 + 0.8 * np.arange(1, count + 1)
        signals = ProcessedSignals(cardiac="bvp", ibi=Series(beats_s, np.full(count, 0.8), [(0.0, 30.0)]))
        hr_bpm = window_features(signals, 0.0, 30.0).measurements["hr_bpm"]
        assert math.isnan(hr_bpm) if count < MIN_BEATS_HRV else hr_bpm == pytest.approx(75.0)


def test_beats_a_sensor_delivers_give_a_short_windows_heart_rate_from_fewer():
    # a strap at 55 bpm puts 9 beats in a 10 s window: was no heart rate, and quality 0 in 51 of 64 windows
    beats_s = np.arange(1.1, 650.0, 60 / 55)
    ibi = Channel("ibi", "s", beats_s, np.full(beats_s.size, 60 / 55))
    windows = recording_features(Recording("strap.csv", {"ibi": ibi}), window_s=10.0, hop_s=10.0)
    assert all(w.quality > 0 and w.measurements["hr_bpm"] == pytest.approx(55.0) for w in windows[1:-1])


def test_a_heart_rate_from_beats_is_not_carried_into_a_gap():
    beat_times_s = np.concatenate([np.arange(0.8, 100.0, 0.8), np.arange(160.8, 200.0, 0.8)])
    beats = Series(beat_times_s, np.full(beat_times_s.size, 0.8), [(0.0, 100.0), (160.0, 200.0)])
    rate = heart_rate_series(beats)
    at = dict(zip(rate.times_s.tolist(), rate.values.tolist(), strict=True))
    assert at[100.0] == pytest.approx(75.0) and at[170.0] == pytest.approx(75.0)
    assert all(math.isnan(at[second]) for second in (101.0, 105.0, 130.0, 160.0))  # was: 75 at 101-107 s


def test_scr_rate_is_per_minute_of_the_eda_there_and_missing_with_too_little():
    from runtime.arms.physio.features import ProcessedSignals

    signals = ProcessedSignals(scr=Series(np.array([5.0, 15.0]), np.full(2, 0.2), [(0.0, 20.0)]))
    assert window_features(signals, 0.0, 30.0).measurements["scr_rate_per_min"] == pytest.approx(6.0)  # was 4.0
    little = window_features(signals, 10.0, 40.0).measurements  # 10 s of EDA in 30 s
    assert math.isnan(little["scr_rate_per_min"]) and math.isnan(little["scr_amplitude_us"])  # was 2.0, 0.2


def test_a_signal_missing_over_a_sliver_of_the_window_says_so_in_words():
    from runtime.arms.physio.features import _percent

    assert _percent(0.003) == "less than 1 %" and _percent(0.25) == "25 %"  # was 'missing over under 1 %'


def test_a_quality_drop_always_says_why():
    beats_s = np.arange(0.8, 300.0, 0.8)
    ibi = Channel("ibi", "s", beats_s, np.full(beats_s.size, 0.8))
    eda = 2.0 + 0.05 * np.sin(np.arange(1200) / 40.0)
    eda[4 * 100 : 4 * 110] = np.nan  # 10 s of EDA missing
    signals = process_recording(Recording("strap.csv", {"ibi": ibi, "eda": uniform("eda", eda, 4.0)}))
    partly = window_features(signals, 90.0, 130.0)
    assert partly.quality == pytest.approx(0.875)
    assert partly.reason == "EDA missing over 25 % of the window"  # was: empty
    assert window_features(signals, 150.0, 190.0).quality == 1.0 and not window_features(signals, 150.0, 190.0).reason
