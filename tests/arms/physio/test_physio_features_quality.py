"""Window quality, reasons and measurements that no test in test_physio_features.py pinned (each found by a
mutation of features.py that the tests before let pass)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from runtime.arms.physio.features import (
    ProcessedSignals,
    Series,
    heart_rate_series,
    process_recording,
    recording_features,
    window_features,
)
from runtime.arms.physio.recording import Channel, Recording
from tests.arms.physio.stand_ins import uniform


def strap_beats(start_s: float, end_s: float, ibi_s: float = 0.8, valid: list | None = None) -> Series:
    beats_s = np.arange(start_s + ibi_s, end_s, ibi_s)
    return Series(beats_s, np.full(beats_s.size, ibi_s), valid if valid is not None else [(start_s, end_s)])


def tonic(start_s: float, end_s: float, rate_hz: float = 4.0, valid: list | None = None) -> Series:
    times_s = np.arange(start_s, end_s, 1 / rate_hz)
    return Series(times_s, 2.0 + 0.01 * np.sin(times_s), valid if valid is not None else [(start_s, end_s)])


def test_a_window_missing_no_more_than_float_noise_is_whole_and_says_nothing():
    # a stretch's end made of a sample's time plus a period can fall a hair short of the window's end
    signals = ProcessedSignals(cardiac="ibi", ibi=strap_beats(0.0, 60.0, valid=[(0.0, 30.0 - 1e-7)]),
                               eda_tonic=tonic(0.0, 60.0))
    window = window_features(signals, 0.0, 30.0)
    assert (window.quality, window.reason) == (1.0, "")


def test_motion_s_reason_gives_the_motion_in_g_and_scales_the_quality_by_it():
    signals = ProcessedSignals(cardiac="ibi", ibi=strap_beats(0.0, 60.0), eda_tonic=tonic(0.0, 60.0),
                               motion=Series(np.arange(60.0), np.full(60, 0.6), [(0.0, 60.0)]))
    window = window_features(signals, 0.0, 30.0)
    assert window.reason == "motion 0.60 g"
    assert window.quality == pytest.approx(0.25)  # 0.15 g / 0.6 g of a whole window


def test_a_window_missing_under_one_percent_but_over_half_of_one_says_1_percent():
    # 0.25 s of 30 s is 0.83 %: rounds to "1 %"; "less than 1 %" is for what rounds to 0
    signals = ProcessedSignals(cardiac="ibi", ibi=strap_beats(0.0, 60.0), eda_tonic=tonic(0.0, 60.0,
                                                                                            valid=[(0.25, 60.0)]))
    assert window_features(signals, 0.0, 30.0).reason == "EDA missing over 1 % of the window"


def test_beats_a_sensor_delivers_give_a_heart_rate_from_a_single_beat():
    signals = ProcessedSignals(cardiac="ibi", ibi=Series(np.array([10.8]), np.array([0.8]), [(0.0, 30.0)]))
    assert window_features(signals, 10.0, 12.0).measurements["hr_bpm"] == pytest.approx(75.0)


def test_a_signal_over_exactly_half_the_window_counts_and_says_how_much_is_missing():
    # 50 % is enough for a figure (MIN_COVERAGE): the signal is there, half of the window without it
    signals = ProcessedSignals(cardiac="ibi", ibi=strap_beats(0.0, 60.0, valid=[(0.0, 15.0)]),
                               eda_tonic=tonic(0.0, 60.0))
    window = window_features(signals, 0.0, 30.0)
    assert window.reason == "heart missing over 50 % of the window"
    assert window.quality == pytest.approx(0.75)


def test_a_heart_rate_from_beats_is_their_median_not_swayed_by_one_long_interval():
    ibi_s = np.array([0.8] * 11 + [1.2])  # one interval half as long again, within the plausible range
    signals = ProcessedSignals(cardiac="ibi", ibi=Series(10.0 + np.cumsum(ibi_s), ibi_s, [(0.0, 30.0)]))
    assert window_features(signals, 0.0, 30.0).measurements["hr_bpm"] == pytest.approx(75.0)


def test_rmssd_needs_as_many_neighbouring_differences_as_the_hrv_needs_beats():
    from runtime.arms.physio.features import MIN_BEATS_HRV

    ibi_s = np.tile([0.8, 0.82], 6)[: MIN_BEATS_HRV + 1]
    beats_s = 10.0 + np.cumsum(ibi_s)
    keep = np.ones(ibi_s.size, dtype=bool)
    keep[5] = False  # an artefact beat dropped: MIN_BEATS_HRV beats left, MIN_BEATS_HRV - 2 neighbouring pairs
    signals = ProcessedSignals(cardiac="ibi", ibi=Series(beats_s[keep], ibi_s[keep], [(0.0, 30.0)]))
    measurements = window_features(signals, 0.0, 30.0).measurements
    assert math.isfinite(measurements["sdnn_ms"]) and math.isnan(measurements["rmssd_ms"])


def test_an_eda_level_needs_two_samples_in_the_window():
    times_s = np.arange(0.0, 60.0, 1.0)  # 1 Hz EDA, the slowest processed
    for window_s, expected_finite in ((1.0, False), (2.0, True)):
        signals = ProcessedSignals(eda_tonic=Series(times_s, np.full(times_s.size, 2.0), [(0.0, 60.0)]))
        level = window_features(signals, 10.0, 10.0 + window_s).measurements["eda_tonic_us"]
        assert math.isfinite(level) == expected_finite


def test_eda_tonic_slope_is_in_microsiemens_per_minute():
    times_s = np.arange(0.0, 120.0, 0.25)
    signals = ProcessedSignals(eda_tonic=Series(times_s, 2.0 + 0.1 * times_s / 60.0, [(0.0, 120.0)]))
    measurements = window_features(signals, 0.0, 60.0).measurements
    assert measurements["eda_tonic_slope_us_per_min"] == pytest.approx(0.1, rel=1e-6)
    assert measurements["eda_tonic_us"] == pytest.approx(2.05, abs=1e-3)


def test_scr_rate_is_read_over_exactly_half_a_window_of_eda():
    signals = ProcessedSignals(scr=Series(np.array([5.0, 10.0]), np.full(2, 0.2), [(0.0, 15.0)]))
    measurements = window_features(signals, 0.0, 30.0).measurements  # 15 s of EDA in 30 s: MIN_COVERAGE
    assert measurements["scr_rate_per_min"] == pytest.approx(8.0)  # two in 15 s


def test_eda_without_a_response_in_the_window_has_rate_and_amplitude_zero_not_missing():
    signals = ProcessedSignals(scr=Series(np.array([100.0]), np.array([0.3]), [(0.0, 120.0)]))
    measurements = window_features(signals, 0.0, 30.0).measurements
    assert (measurements["scr_rate_per_min"], measurements["scr_amplitude_us"]) == (0.0, 0.0)


def test_a_temperature_needs_two_samples_in_the_window():
    times_s = np.arange(0.0, 60.0, 1.0)  # 1 Hz skin temperature
    signals = ProcessedSignals(temp=Series(times_s, np.full(times_s.size, 33.5), [(0.0, 60.0)]))
    assert math.isnan(window_features(signals, 10.0, 11.0).measurements["temp_c"])
    assert window_features(signals, 10.0, 12.0).measurements["temp_c"] == pytest.approx(33.5)


def test_motion_is_the_window_s_mean_per_second_spread_not_its_peak():
    spread_g = np.where(np.arange(60) % 2 == 0, 0.2, 0.0)  # a shake every other second
    signals = ProcessedSignals(cardiac="ibi", ibi=strap_beats(0.0, 60.0), eda_tonic=tonic(0.0, 60.0),
                               motion=Series(np.arange(60.0), spread_g, [(0.0, 60.0)]))
    window = window_features(signals, 0.0, 30.0)
    assert window.measurements["motion_g"] == pytest.approx(0.1)
    assert (window.quality, window.reason) == (1.0, "")


def test_a_breathing_signal_gives_its_rate_in_breaths_per_minute():
    import neurokit2 as nk

    breath = nk.rsp_simulate(duration=120, sampling_rate=32, respiratory_rate=15, random_state=2)
    signals = process_recording(Recording("belt.csv", {"resp": uniform("resp", breath, 32.0)}))
    assert window_features(signals, 30.0, 90.0).measurements["resp_rate_bpm"] == pytest.approx(15.0, abs=1.5)


def test_a_respiration_rate_is_the_window_s_mean():
    rate = np.where(np.arange(60) < 40, 12.0, 24.0)  # 1 Hz: 12 breaths a minute, then 24
    signals = ProcessedSignals(resp_rate=Series(np.arange(60.0), rate, [(0.0, 60.0)]))
    assert window_features(signals, 0.0, 60.0).measurements["resp_rate_bpm"] == pytest.approx(16.0)


def test_the_delivered_beats_statistics_need_five_beats_in_the_window():
    beats_s = 10.0 + 0.8 * np.arange(1, 6)  # five beats, 0.8 s apart, at 10.8-14.0 s
    signals = ProcessedSignals(ibi_delivered=Series(beats_s, np.full(5, 0.8)))
    four, five = (window_features(signals, 10.0, end_s).measurements for end_s in (14.0, 14.5))
    assert math.isnan(four["ibi_mean_s"]) and math.isnan(four["ibi_rmssd_s"])
    assert five["ibi_mean_s"] == pytest.approx(0.8) and five["ibi_rmssd_s"] == pytest.approx(0.0)


def test_the_delivered_beats_spread_is_their_population_sd_as_the_models_were_trained():
    ibi_s = np.tile([0.8, 1.0], 5)
    signals = ProcessedSignals(ibi_delivered=Series(np.cumsum(ibi_s), ibi_s))
    measurements = window_features(signals, 0.0, 30.0).measurements
    assert measurements["ibi_sd_s"] == pytest.approx(0.1)  # np.std, ddof=0
    assert measurements["ibi_rmssd_s"] == pytest.approx(0.2)  # every difference 0.2 s


def test_a_window_without_eda_counts_no_skin_conductance_responses():
    signals = ProcessedSignals(scr_highpass=Series(np.array([10.0, 20.0]), np.full(2, 0.2), [(0.0, 60.0)]))
    assert window_features(signals, 0.0, 30.0).measurements["scr_count"] == 2.0
    assert math.isnan(window_features(signals, 100.0, 130.0).measurements["scr_count"])  # not 0 responses


def test_an_accelerometer_row_missing_an_axis_is_left_out_of_every_axis():
    times_s = np.arange(0.0, 10.0, 1 / 32)
    acc = np.tile([0.5, 0.0, 0.8], (times_s.size, 1))
    acc[5, 0] = np.nan  # one row without its x
    signals = ProcessedSignals(acc=Series(times_s, acc))
    measurements = window_features(signals, 0.0, 10.0).measurements
    assert measurements["acc_x_mean_g"] == pytest.approx(0.5) and measurements["acc_z_mean_g"] == pytest.approx(0.8)


def test_a_heart_rate_from_beats_averages_those_after_the_ten_seconds_before_it():
    beat_times_s = np.concatenate([np.arange(1.0, 21.0, 1.0), np.arange(21.5, 40.0, 0.5)])  # 60 bpm, then 120
    beats = Series(beat_times_s, np.diff(np.concatenate([[0.0], beat_times_s])), [(0.0, 40.0)])
    rate = heart_rate_series(beats)
    at = dict(zip(rate.times_s.tolist(), rate.values.tolist(), strict=True))
    assert at[30.0] == pytest.approx(60 * 18 / 10.0)  # the 18 beats of (20, 30] s: the one at 20 s is not in


def test_a_heart_rate_from_beats_is_not_carried_across_a_hole_at_the_second_the_beats_come_back():
    beat_times_s = np.concatenate([np.arange(0.8, 100.0, 0.8), np.arange(106.8, 200.0, 0.8)])
    beats = Series(beat_times_s, np.full(beat_times_s.size, 0.8), [(0.0, 100.0), (106.0, 200.0)])
    rate = heart_rate_series(beats)
    at = dict(zip(rate.times_s.tolist(), rate.values.tolist(), strict=True))
    assert math.isnan(at[106.0])  # the beats of 96-100 s are no heart rate at 106 s
    assert at[120.0] == pytest.approx(75.0)


def test_a_beat_counted_twice_leaves_no_interval_in_the_clean_beats():

    ibi_s = np.full(100, 0.8)
    ibi_s[50:52] = 0.4  # an extra beat detected mid-interval: two half intervals, each within 0.33-1.5 s
    ibi = Channel("ibi", "s", np.cumsum(ibi_s), ibi_s)
    signals = process_recording(Recording("strap.csv", {"ibi": ibi}))
    assert signals.ibi.values.size == 98 and (signals.ibi.values == 0.8).all()


def test_five_seconds_without_a_beat_is_a_hole_in_the_heart():
    from runtime.arms.physio.features import BEAT_HOLE_S, beat_holes

    beats_s = np.concatenate([np.arange(0.5, 10.01, 0.5), np.arange(15.5, 30.01, 0.5)])  # none over 10-15 s
    assert beat_holes(beats_s, np.full(beats_s.size, 0.5), (0.0, 30.0)) == [(10.0, 10.0 + BEAT_HOLE_S)]


def test_a_silence_is_counted_to_the_start_of_the_next_beat_s_interval_not_to_the_beat():
    from runtime.arms.physio.features import beat_holes

    beats_s = np.concatenate([np.arange(0.5, 10.01, 0.5), np.arange(15.0, 30.01, 0.5)])
    # beats 10.0 and 15.0 s are 5 s apart, but the interval ending at 15.0 s began at 14.5 s: 4.5 s of silence
    assert beat_holes(beats_s, np.full(beats_s.size, 0.5), (0.0, 30.0)) == []


def test_a_strap_s_first_beat_interval_covers_the_heart_from_its_start():

    beats_s = np.arange(0.8, 120.0, 0.8)  # the first interval runs 0-0.8 s
    signals = process_recording(Recording("strap.csv", {"ibi": Channel("ibi", "s", beats_s, np.full(beats_s.size,
                                                                                                  0.8))}))
    assert window_features(signals, 0.0, 30.0).reason == "EDA missing"  # not 'heart missing over 3 %'


def test_stretches_between_gaps_stay_inside_the_span_whatever_the_gaps_overlap():
    from runtime.arms.physio.features import _minus_gaps

    assert _minus_gaps((0.0, 60.0), [(10.0, 30.0), (12.0, 20.0)]) == [(0.0, 10.0), (30.0, 60.0)]  # one in another
    assert _minus_gaps((0.0, 60.0), [(50.0, 70.0), (100.0, 120.0)]) == [(0.0, 50.0)]  # gaps past the span's end


def test_rmssd_does_not_bridge_a_dropped_beat_whose_interval_was_short():
    ibi_s = np.array([0.8] * 12 + [0.4, 1.0] + [0.8] * 12)  # an extra beat's 0.4 s, dropped as an artefact
    beats_s = np.cumsum(ibi_s)
    keep = ibi_s != 0.4
    signals = ProcessedSignals(cardiac="ibi", ibi=Series(beats_s[keep], ibi_s[keep], [(0.0, 30.0)]))
    rmssd_ms = window_features(signals, 0.0, 30.0).measurements["rmssd_ms"]
    assert rmssd_ms == pytest.approx(1000.0 * math.sqrt(0.2**2 / 23))  # 1.0 -> 0.8 only: 0.8 -> 1.0 is no pair


def test_a_signal_in_pieces_of_eight_seconds_or_more_is_processed(caplog):

    eda = np.full(4 * 120, 2.0)  # held at one reading (no neurokit2: it fails on short stretches without an SCR)
    eda[::40] = np.nan  # a sample missing every 10 s: stretches of 9.75 s
    with caplog.at_level("WARNING", logger="emotrace.physio"):
        windows = recording_features(Recording("holes.csv", {"eda": uniform("eda", eda, 4.0)}), 30.0, 30.0)
    assert all(math.isfinite(w.measurements["eda_tonic_us"]) for w in windows)
    assert not any("between gaps" in r.getMessage() for r in caplog.records)


def test_a_strap_s_heart_rate_channel_covers_the_heart_up_to_its_last_sample_s_second():

    signals = process_recording(Recording("strap.csv", {"hr": uniform("hr", np.full(120, 70.0), 1.0)}))
    assert window_features(signals, 90.0, 120.0).reason == "EDA missing"  # the sample at 119 s holds to 120 s


def test_skin_conductance_responses_under_the_floor_are_not_counted(monkeypatch):
    import neurokit2 as nk
    import pandas as pd

    def eda_process(values, sampling_rate):  # neurokit2's layout: three peaks, one under 0.01 uS, one unmeasured
        return (pd.DataFrame({"EDA_Tonic": values}),
                {"SCR_Peaks": np.array([10, 50, 90]), "SCR_Amplitude": np.array([0.005, 0.2, np.nan])})

    monkeypatch.setattr(nk, "eda_process", eda_process)
    eda = uniform("eda", 2.0 + 0.1 * np.sin(np.arange(160) / 10.0), 4.0)
    scr = process_recording(Recording("wrist.csv", {"eda": eda})).scr
    assert scr.times_s.tolist() == [12.5] and scr.values.tolist() == [0.2]


def test_an_accelerometer_with_one_sample_a_second_says_nothing_of_motion_not_stillness():

    acc = np.random.default_rng(1).normal([0.0, 0.0, 1.0], 0.5, size=(120, 3))  # an arm moving, read at 1 Hz
    signals = process_recording(Recording("watch.csv", {"acc": uniform("acc", acc, 1.0)}))
    assert math.isnan(window_features(signals, 0.0, 60.0).measurements["motion_g"])  # not 0 g from one sample


def test_motion_over_0_15_g_lowers_the_quality():
    signals = ProcessedSignals(cardiac="ibi", ibi=strap_beats(0.0, 60.0), eda_tonic=tonic(0.0, 60.0),
                               motion=Series(np.arange(60.0), np.full(60, 0.2), [(0.0, 60.0)]))
    window = window_features(signals, 0.0, 30.0)
    assert (window.quality, window.reason) == (pytest.approx(0.75), "motion 0.20 g")


def test_a_waveform_at_one_value_more_than_half_the_time_has_no_spikes():
    from runtime.arms.physio.features import unusable_samples

    wave = np.maximum(np.sin(2 * np.pi * 1.2 * np.arange(64 * 120) / 64.0) - 0.2, 0.0)  # clipped at its floor
    flat, spike = unusable_samples(wave, 64.0)  # its median absolute deviation is 0
    assert not flat.any() and not spike.any()


def test_a_strap_s_heart_rate_alone_gives_the_window_s_mean_rate():
    hr = Series(np.arange(60.0), np.where(np.arange(60) < 40, 60.0, 90.0), [(0.0, 60.0)])
    signals = ProcessedSignals(cardiac="hr", hr=hr)
    assert window_features(signals, 10.0, 55.0).measurements["hr_bpm"] == pytest.approx(70.0)  # 30 s at 60, 15 at 90


def test_skin_conductance_no_processing_could_read_is_missing_from_the_quality_beside_a_heart():

    beats_s = np.arange(0.8, 40.0, 0.8)
    ibi = Channel("ibi", "s", beats_s, np.full(beats_s.size, 0.8))
    eda = uniform("eda", np.zeros(160), 4.0)  # 40 s at 0 uS: no skin on the electrodes
    window = window_features(process_recording(Recording("strap.csv", {"ibi": ibi, "eda": eda})), 5.0, 35.0)
    assert (window.quality, window.reason) == (0.5, "EDA missing")


def test_the_high_pass_split_gives_the_tonic_level_and_the_phasic_spread_and_peak():
    times_s = np.arange(0.0, 30.0, 0.25)
    phasic = 0.05 * np.sin(times_s)
    signals = ProcessedSignals(eda_split=Series(times_s, np.column_stack([np.full(times_s.size, 3.0), phasic])))
    measurements = window_features(signals, 0.0, 30.0).measurements
    assert measurements["eda_highpass_tonic_us"] == pytest.approx(3.0)
    assert measurements["eda_phasic_sd_us"] == pytest.approx(np.std(phasic))
    assert measurements["eda_phasic_max_us"] == pytest.approx(phasic.max())


def test_wrist_orientation_needs_three_accelerometer_rows_in_the_window():
    times_s = np.arange(0.0, 10.0)  # one row a second
    signals = ProcessedSignals(acc=Series(times_s, np.tile([0.5, 0.0, 0.8], (10, 1))))
    assert math.isnan(window_features(signals, 0.0, 2.0).measurements["acc_x_mean_g"])  # two rows
    assert window_features(signals, 0.0, 3.0).measurements["acc_x_mean_g"] == pytest.approx(0.5)
