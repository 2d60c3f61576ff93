"""What a window's functionals are taken over and in what units (from a mutation review of features.py): frames
on a 10 ms grid, [start, end) edges, the 30 dB loudness gate, F0 in semitones re 55 Hz, the recording's pitch
where a window has under two voiced frames."""

import math

import numpy as np
import pytest

from runtime.arms.audio.features import (
    DESCRIPTOR_NAMES,
    FrameDescriptors,
    feature_names,
    frame_descriptors,
    window_features,
)

NAMES = feature_names()
ENERGY = DESCRIPTOR_NAMES.index("log_energy")
MFCC0 = DESCRIPTOR_NAMES.index("mfcc00")
F0 = DESCRIPTOR_NAMES.index("f0_st")


def _descriptors(energy_db, mfcc0, f0=None) -> FrameDescriptors:
    """Frames every 10 ms with the given log energy (in dB, stored as the natural log of power), mfcc00 and F0."""
    n = len(energy_db)
    values = np.zeros((n, len(DESCRIPTOR_NAMES)), dtype=np.float32)
    values[:, ENERGY] = np.asarray(energy_db, dtype=np.float64) / 10 * math.log(10)
    values[:, MFCC0] = mfcc0
    values[:, F0] = np.nan if f0 is None else f0
    return FrameDescriptors(times_s=np.arange(n) * 0.01, values=values, names=list(DESCRIPTOR_NAMES))


def _feature(vector, name):
    return float(vector[NAMES.index(name)])


def test_descriptor_frames_are_10_ms_apart_as_a_centred_stft_gives_them():
    d = frame_descriptors(np.zeros(16000, dtype=np.float32), 16000)
    assert d.times_s.size == 1 + 16000 // 160
    np.testing.assert_allclose(np.diff(d.times_s), 0.01)


def test_frames_up_to_30_db_under_the_loudest_are_averaged_in_and_quieter_ones_left_out():
    # ten loud frames (mfcc00 = 1), ten 25 dB quieter (mfcc00 = 3): all twenty within the gate
    within = _descriptors([60.0] * 10 + [35.0] * 10, [1.0] * 10 + [3.0] * 10)
    assert _feature(window_features(within, 0.0, 0.2), "mfcc00_mean") == pytest.approx(2.0)
    # ten frames 35 dB quieter are silence around the speech: left out
    beyond = _descriptors([60.0] * 10 + [25.0] * 10, [1.0] * 10 + [3.0] * 10)
    assert _feature(window_features(beyond, 0.0, 0.2), "mfcc00_mean") == pytest.approx(1.0)


def test_the_gate_applies_from_five_loud_frames():
    d = _descriptors([60.0] * 5 + [0.0] * 15, [1.0] * 5 + [3.0] * 15)
    assert _feature(window_features(d, 0.0, 0.2), "mfcc00_mean") == pytest.approx(1.0)
    d = _descriptors([60.0] * 4 + [0.0] * 16, [1.0] * 4 + [3.0] * 16)  # too few to summarise alone
    assert _feature(window_features(d, 0.0, 0.2), "mfcc00_mean") == pytest.approx((4 + 48) / 20)


def test_a_window_holds_the_frames_centred_from_its_start_up_to_not_including_its_end():
    d = _descriptors([60.0] * 20, np.arange(20, dtype=np.float64))
    # frames at 0.05 .. 0.09 s: indices 5..9
    assert _feature(window_features(d, 0.05, 0.10), "mfcc00_mean") == pytest.approx(7.0)


def test_a_window_past_the_recordings_end_gets_its_last_frame():
    d = _descriptors([60.0] * 20, np.arange(20, dtype=np.float64))
    assert _feature(window_features(d, 5.0, 7.0), "mfcc00_mean") == pytest.approx(19.0)


def test_the_range_is_the_90th_less_the_10th_percentile():
    d = _descriptors([60.0] * 11, np.arange(11, dtype=np.float64))
    v = window_features(d, 0.0, 0.11)
    assert _feature(v, "mfcc00_range") == pytest.approx(_feature(v, "mfcc00_p90") - _feature(v, "mfcc00_p10"))
    assert _feature(v, "mfcc00_range") == pytest.approx(8.0)


def test_a_slope_is_per_second():
    d = _descriptors([60.0] * 11, np.arange(11, dtype=np.float64))  # mfcc00 rises 1 every 10 ms
    assert _feature(window_features(d, 0.0, 0.11), "mfcc00_slope") == pytest.approx(100.0)


def test_a_window_with_one_voiced_frame_takes_the_recordings_typical_pitch():
    # voiced frames elsewhere at 24 semitones; the window's one voiced frame at 30
    f0 = np.full(40, np.nan)
    f0[:10] = 24.0
    f0[25] = 30.0
    d = _descriptors([60.0] * 40, 0.0, f0)
    v = window_features(d, 0.2, 0.4)
    assert _feature(v, "f0_st_mean") == pytest.approx(24.0)
    assert _feature(v, "f0_st_d_abs_mean") == 0.0


def test_energy_of_voiced_frames_is_their_mean_log_energy():
    f0 = np.r_[np.full(10, 20.0), np.full(10, np.nan)]
    d = _descriptors([60.0] * 10 + [50.0] * 10, 0.0, f0)
    assert _feature(window_features(d, 0.0, 0.2), "log_energy_voiced_mean") == pytest.approx(6 * math.log(10))


def test_the_pitch_of_a_220_hz_tone_is_24_semitones_over_55_hz():
    t = np.arange(16000) / 16000
    d = frame_descriptors((0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 16000)
    f0 = d.values[:, F0]
    assert np.nanmedian(f0) == pytest.approx(24.0, abs=0.05)


MEL0 = DESCRIPTOR_NAMES.index("logmel00")
VOICING = DESCRIPTOR_NAMES.index("voicing")


def test_mel_percentiles_are_the_10th_and_90th_and_spreads_the_population_std():
    d = _descriptors([60.0] * 11, np.arange(11, dtype=np.float64))
    d.values[:, MEL0] = np.arange(11)
    v = window_features(d, 0.0, 0.11)
    assert (_feature(v, "logmel00_p10"), _feature(v, "logmel00_p90")) == pytest.approx((1.0, 9.0))
    assert _feature(v, "mfcc00_std") == pytest.approx(math.sqrt(10.0))


def test_voicing_is_averaged_over_the_window():
    d = _descriptors([60.0] * 10, 0.0, np.full(10, 20.0))
    d.values[:, VOICING] = [0.5] * 5 + [1.0] * 5
    assert _feature(window_features(d, 0.0, 0.1), "voicing_mean") == pytest.approx(0.75)


def test_a_feature_that_hardly_varies_is_z_scored_by_its_own_spread_down_to_a_thousandth():
    from runtime.arms.audio.features import zscore_against

    rows = np.array([[1.0], [1.02]])  # spread 0.01
    np.testing.assert_allclose(zscore_against(rows, rows), [[-1.0], [1.0]], atol=1e-9)


def test_a_running_baseline_z_scores_the_newest_row_over_the_last_rows_kept():
    from runtime.arms.audio.features import RunningBaseline, zscore_by_group

    rows = np.random.default_rng(1).normal(3.0, 2.0, (6, 4))
    baseline = RunningBaseline(3)
    outs = [baseline.push(row) for row in rows]
    assert len(baseline) == 3
    np.testing.assert_allclose(outs[-1], zscore_by_group(rows[-3:], np.zeros(3, dtype=int))[-1], atol=1e-5)
    np.testing.assert_allclose(outs[2], zscore_by_group(rows[:3], np.zeros(3, dtype=int))[-1], atol=1e-5)


def test_a_tone_at_7_khz_lies_in_the_top_mel_bands():
    t = np.arange(16000) / 16000
    d = frame_descriptors((0.3 * np.sin(2 * np.pi * 7000 * t)).astype(np.float32), 16000)
    mel = d.values[:, :40].mean(axis=0)
    assert mel[-1] - mel[0] > 10  # natural log: the top band (near 8 kHz) far above the lowest


def test_quiet_speech_stays_voiced_in_a_recording_that_also_holds_a_loud_moment():
    # Praat's silence threshold is relative to the loudest sample: at 0.005 of it, a tone 40 dB under a loud one
    # is still voiced
    t = np.arange(16000) / 16000
    quiet = 0.01 * np.sin(2 * np.pi * 200 * t)
    loud = 0.9 * np.sin(2 * np.pi * 200 * t)
    d = frame_descriptors(np.r_[quiet, loud].astype(np.float32), 16000)
    f0 = d.values[(d.times_s > 0.2) & (d.times_s < 0.8), F0]
    assert np.isfinite(f0).mean() > 0.9
