"""Voice measurements on synthetic vowels whose truth is known, on silence, and on real RAVDESS clips."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from export.audio.backbones.tremor_probe import add_tremor
from runtime.arms.audio.vad import VAD_FRAME_S, detect_speech, speech_frames, speech_probabilities
from runtime.arms.audio.voice_quality import (
    VOICE_MEASUREMENTS,
    VoiceAnalysis,
    false_runs_s,
    hnr_db_from_strength,
    mask_at,
    mask_seconds,
    power_mean_db,
    tremor_score,
    tremor_swing,
)
from runtime.arms.audio.windows import judged_windows
from runtime.errors import InputError
from runtime.media import read_audio
from tests.arms.audio.voices import RATE_HZ, all_speech, vowel


def measure(samples: np.ndarray, speech: np.ndarray | None = None, start_s: float = 0.5,
            end_s: float = 2.5) -> dict[str, float]:
    return VoiceAnalysis(samples, RATE_HZ, speech).window(start_s, end_s)


def test_window_reports_every_named_measurement():
    assert tuple(measure(vowel())) == VOICE_MEASUREMENTS


def test_tremor_index_clearly_higher_for_6hz_tremor_than_steady_vowel():
    steady = measure(vowel())["tremor_index"]
    tremor = measure(vowel(tremor_hz=6.0, f0_depth=0.03, am_depth=0.1))["tremor_index"]
    assert tremor > 2.0 * steady
    assert tremor - steady > 0.25


# Loudness weighs a third, against a floor set by syllables' loudness swings: only a strong one shows alone.
@pytest.mark.parametrize("f0_depth, am_depth, rise", [(0.03, 0.0, 0.2), (0.0, 0.3, 0.08)])
def test_tremor_index_rises_for_pitch_or_loudness_tremor_alone(f0_depth, am_depth, rise):
    steady = measure(vowel())["tremor_index"]
    tremor = measure(vowel(tremor_hz=6.0, f0_depth=f0_depth, am_depth=am_depth))["tremor_index"]
    assert tremor - steady > rise


def test_tremor_index_favours_4_to_8hz_over_slow_modulation():
    tremor = measure(vowel(tremor_hz=6.0, f0_depth=0.03, am_depth=0.1))["tremor_index"]
    slow = measure(vowel(tremor_hz=1.5, f0_depth=0.03, am_depth=0.1))["tremor_index"]
    assert tremor > 2.0 * slow


def test_jitter_rises_with_random_period_perturbation():
    steady = measure(vowel())["jitter_local"]
    perturbed = measure(vowel(period_jitter=0.02))["jitter_local"]
    assert perturbed > steady + 0.004


def test_shimmer_rises_with_random_amplitude_perturbation():
    steady = measure(vowel())["shimmer_local"]
    perturbed = measure(vowel(cycle_shimmer=0.15))["shimmer_local"]
    assert perturbed > steady + 0.05


def test_hnr_falls_when_noise_is_added():
    clean = measure(vowel())["hnr_db"]
    noisy = measure(vowel(snr_db=10.0))["hnr_db"]
    assert noisy < clean - 5.0


@pytest.mark.parametrize("f0_hz", [120.0, 220.0])
def test_f0_median_is_near_the_synthesis_f0(f0_hz):
    m = measure(vowel(f0_hz=f0_hz))
    assert m["f0_median_hz"] == pytest.approx(f0_hz, rel=0.02)
    assert m["f0_variability_st"] < 0.1
    assert m["voiced_ratio"] > 0.95


def test_f0_variability_grows_with_a_glide():
    steady = vowel(f0_hz=120.0)
    # Two halves an octave apart: a spread of 6 semitones either side of the middle.
    leap = np.concatenate([vowel(duration_s=1.5, f0_hz=120.0), vowel(duration_s=1.5, f0_hz=240.0)])
    assert measure(leap)["f0_variability_st"] > measure(steady)["f0_variability_st"] + 4.0


@pytest.mark.parametrize("with_mask", [True, False])
def test_silent_input_gives_nan_measurements(with_mask):
    silence = np.zeros(3 * RATE_HZ)
    speech = speech_frames(speech_probabilities(silence.astype(np.float32))) if with_mask else None
    m = measure(silence, speech)
    measured = {k: v for k, v in m.items() if k != "pause_s"}
    assert all(math.isnan(v) for v in measured.values()), measured
    if with_mask:
        assert m["pause_s"] == pytest.approx(2.0)
    else:
        assert math.isnan(m["pause_s"])


def test_recording_too_short_to_analyse_gives_nan():
    m = VoiceAnalysis(vowel(duration_s=0.02), RATE_HZ).window(0.0, 0.02)
    assert all(math.isnan(v) for v in m.values())


def test_window_outside_the_recording_gives_nan():
    m = VoiceAnalysis(vowel(), RATE_HZ).window(10.0, 12.0)
    assert all(math.isnan(v) for v in m.values())


def test_pause_counts_non_speech_seconds_of_the_mask():
    samples = np.concatenate([vowel(duration_s=1.0), np.zeros(RATE_HZ), vowel(duration_s=1.0, seed=1)])
    times_s = (np.arange(int(np.ceil(3.0 / VAD_FRAME_S))) + 0.5) * VAD_FRAME_S
    speech = (times_s < 1.0) | (times_s >= 2.0)
    m = measure(samples, speech, 0.5, 2.5)
    assert m["pause_s"] == pytest.approx(1.0, abs=VAD_FRAME_S)
    assert m["voiced_ratio"] > 0.9


def test_jitter_ignores_voiced_sound_outside_the_speech_mask():
    # A rough voice outside the mask (another sound in the room), a steady one inside it.
    samples = np.concatenate([vowel(duration_s=1.5, period_jitter=0.03), vowel(duration_s=1.5, seed=1)])
    times_s = (np.arange(int(np.ceil(3.0 / VAD_FRAME_S))) + 0.5) * VAD_FRAME_S
    without_mask = measure(samples, None, 0.0, 3.0)["jitter_local"]
    with_mask = measure(samples, times_s >= 1.5, 0.0, 3.0)["jitter_local"]
    assert with_mask < without_mask - 0.004


def test_mask_seconds_counts_partial_frames_in_part():
    mask = np.array([True, False, True, True])
    assert mask_seconds(mask, 1.0, 0.5, 3.5) == pytest.approx(0.5 + 1.0 + 0.5)
    assert mask_seconds(mask, 1.0, 3.5, 9.0) == pytest.approx(0.5)


def test_voiced_ratio_is_the_voiced_share_of_speech():
    rng = np.random.default_rng(3)
    samples = np.concatenate([vowel(duration_s=1.5), 0.05 * rng.standard_normal(int(1.5 * RATE_HZ))])
    m = measure(samples, all_speech(3.0), 0.5, 2.5)
    assert m["voiced_ratio"] == pytest.approx(0.5, abs=0.1)


def test_speech_rate_counts_syllable_like_bursts():
    syllables_per_s = 4.0
    duration_s = 4.0
    samples = vowel(duration_s=duration_s)
    t = np.arange(samples.size) / RATE_HZ
    # Each 250 ms syllable: 150 ms of vowel with a smooth rise and fall, then 100 ms of silence.
    phase = (t * syllables_per_s) % 1.0
    envelope = np.where(phase < 0.6, np.sin(np.pi * phase / 0.6) ** 2, 0.0)
    m = measure(samples * envelope, all_speech(duration_s), 0.5, 3.5)
    assert m["speech_rate_hz"] == pytest.approx(syllables_per_s, abs=0.5)


def test_loudness_follows_the_level_in_dbfs():
    quiet, loud = measure(0.1 * vowel()), measure(vowel())
    assert loud["loudness_db"] - quiet["loudness_db"] == pytest.approx(20.0, abs=0.5)
    assert loud["loudness_db"] < 0.0


def test_multichannel_samples_are_rejected():
    with pytest.raises(InputError, match="one channel"):
        VoiceAnalysis(np.zeros((2, RATE_HZ)), RATE_HZ)


def test_ravdess_clip_measurements_are_finite_and_plausible(ravdess_dir):
    path = ravdess_dir / "Actor_01" / "03-01-05-02-01-01-01.flac"  # angry, strong, male
    samples = read_audio(path)
    speech = speech_frames(speech_probabilities(samples))
    speech_idx = np.flatnonzero(speech)
    start_s, end_s = speech_idx[0] * VAD_FRAME_S, (speech_idx[-1] + 1) * VAD_FRAME_S
    m = VoiceAnalysis(samples, RATE_HZ, speech).window(start_s, end_s)
    assert all(math.isfinite(v) for v in m.values()), m
    assert 75.0 <= m["f0_median_hz"] <= 400.0
    assert 0.2 < m["f0_variability_st"] < 12.0
    assert 0.0 < m["jitter_local"] < 0.1
    assert 0.0 < m["shimmer_local"] < 0.4
    assert 0.0 < m["hnr_db"] < 35.0
    assert -60.0 < m["loudness_db"] < 0.0
    assert 0.3 < m["voiced_ratio"] <= 1.0
    assert 1.0 < m["speech_rate_hz"] < 10.0
    assert 0.0 <= m["pause_s"] < end_s - start_s
    assert 0.0 <= m["tremor_index"] < 1.0


def test_pitch_tremor_added_to_running_speech_raises_the_index(ravdess_dir):
    # Actor 11's neutral and calm clips (the index was tuned on actors 01-10), each window as recorded and with a
    # 6 Hz, ±6 % pitch tremor: a threshold on the index tells most tremored windows from the rest, though
    # syllables' own pitch and loudness moves already sit near this rate.
    as_recorded, tremored = [], []
    for i, path in enumerate(sorted((ravdess_dir / "Actor_11").glob("03-01-0[12]-*.flac"))):
        samples = read_audio(path)
        speech = detect_speech(samples)
        windows = judged_windows(speech, samples.size / RATE_HZ, 2.0, 0.5, 0.3)
        for voice, out in ((VoiceAnalysis(samples, RATE_HZ, speech), as_recorded),
                           (VoiceAnalysis(add_tremor(samples, RATE_HZ, 6.0, 0.06, 0.0, float(i)), RATE_HZ, speech),
                            tremored)):
            out += [voice.window(w.start_s, w.end_s)["tremor_index"] for w in windows]
    as_recorded, tremored = np.array(as_recorded), np.array(tremored)
    both = np.isfinite(as_recorded) & np.isfinite(tremored)
    assert both.sum() >= 20
    labels = np.r_[np.zeros(both.sum()), np.ones(both.sum())]
    assert roc_auc_score(labels, np.r_[as_recorded[both], tremored[both]]) > 0.9


def test_hnr_is_praats_ten_log_ratio_of_periodic_to_noise_power():
    # a voice half periodic is 0 dB; r = 0.9 is 9.54 dB (Praat's scale: about 20 dB for a healthy voice)
    assert hnr_db_from_strength(np.array([0.5, 0.9])) == pytest.approx([0.0, 10 * math.log10(9)])


def test_loudness_is_the_level_of_the_mean_power_not_the_mean_of_levels():
    # one second at -20 dBFS and one at -40: the louder dominates (about -23 dB), not their mean in dB (-30)
    assert power_mean_db(np.array([-20.0, -40.0])) == pytest.approx(10 * math.log10((0.01 + 0.0001) / 2))


def test_tremor_swing_keeps_a_6_hz_swing_and_drops_a_1_hz_one():
    t_s = np.arange(0.0, 3.0, 0.01)
    runs = [(0, t_s.size)]
    at_6_hz = tremor_swing(0.5 * np.sin(2 * np.pi * 6.0 * t_s), runs, smoother_frames=20)
    at_1_hz = tremor_swing(0.5 * np.sin(2 * np.pi * 1.0 * t_s), runs, smoother_frames=20)
    # a sine's median absolute value is 0.71 of its amplitude; the running mean takes a slow wobble away
    assert at_6_hz > 0.3 and at_1_hz < 0.1 * at_6_hz


def test_tremor_swing_takes_each_voiced_run_on_its_own():
    # two steady runs at different pitches (a leap across a pause) hold no swing
    contour = np.r_[np.full(50, 80.0), np.full(50, 86.0)]
    assert tremor_swing(contour, [(0, 50), (50, 100)], smoother_frames=20) == pytest.approx(0.0)


def test_a_time_reads_the_vad_frame_that_covers_it_not_the_nearest_one():
    # frame i covers [i, i + 1) frames: the pitch grid's 10 ms frames must take the speech decision of the 32 ms VAD
    # frame they lie in (rounding would shift the mask half a VAD frame early); past the mask's end is not speech
    mask = np.array([True, False])
    times_s = np.array([0.0, 0.6, 0.99, 1.0, 1.5, 2.5])
    assert mask_at(mask, 1.0, times_s).tolist() == [True, True, True, False, False, False]


def test_a_masks_last_silence_runs_to_the_end_of_the_recording():
    # past the mask all is non-speech, so the voiced pulses there are dropped too, up to the recording's end
    assert false_runs_s(np.array([True, False, True]), 1.0, 10.0) == [(1.0, 2.0), (3.0, 10.0)]


def test_tremor_score_is_the_documented_squared_ratio():
    # docs/voice-quality.md: score = swing**2 / (swing**2 + floor**2): 0.5 at the floor, 0.8 at twice it, 0.2 at half
    assert tremor_score(0.9, 0.45) == pytest.approx(0.8)
    assert tremor_score(0.225, 0.45) == pytest.approx(0.2)
    assert tremor_score(0.0, 0.45) == 0.0


def test_tremor_needs_half_a_second_of_voicing():
    # 0.4 s of vowel (one voiced run long enough, but under the 0.5 s in all a tremor needs): not measurable
    samples = np.concatenate([np.zeros(RATE_HZ), vowel(duration_s=0.4), np.zeros(RATE_HZ)])
    m = measure(samples, all_speech(2.4), 0.5, 2.0)
    assert math.isnan(m["tremor_index"])
    assert math.isfinite(m["f0_median_hz"])  # the voicing itself was measured


def test_voiced_sound_outside_the_speech_mask_gives_no_pitch():
    # a vowel throughout, the VAD saying speech only in its first half: a window in the second half (a voice on the
    # television, say) reports no pitch, voice quality or tremor of the speaker
    samples = vowel()
    times_s = (np.arange(int(np.ceil(3.0 / VAD_FRAME_S))) + 0.5) * VAD_FRAME_S
    m = measure(samples, times_s < 1.5, 1.6, 3.0)
    measured = {k: v for k, v in m.items() if k != "pause_s"}
    assert all(math.isnan(v) for v in measured.values()), measured


def test_pitch_needs_five_voiced_frames():
    # a 35 ms window holds four 10 ms pitch frames: too few for a median pitch; 60 ms holds enough
    samples = vowel()
    assert math.isnan(measure(samples, all_speech(3.0), 1.0, 1.035)["f0_median_hz"])
    assert measure(samples, all_speech(3.0), 1.0, 1.06)["f0_median_hz"] == pytest.approx(120.0, abs=2.0)


def test_loudness_is_the_level_of_the_speech_frames_alone():
    # a vowel, then a pause the mask says is not speech: the window's loudness is the voice's, the pause not
    # averaged in (counted, a window half pause would read 3 dB quieter)
    samples = np.concatenate([vowel(duration_s=1.5), np.zeros(int(1.5 * RATE_HZ))])
    times_s = (np.arange(int(np.ceil(3.0 / VAD_FRAME_S))) + 0.5) * VAD_FRAME_S
    analysis = VoiceAnalysis(samples, RATE_HZ, times_s < 1.4)
    assert analysis.window(0.4, 2.4)["loudness_db"] == pytest.approx(analysis.window(0.4, 1.4)["loudness_db"], abs=0.5)


def test_loudness_at_a_recordings_end_is_read_from_its_own_frames():
    # Praat's intensity frames lie on another grid than the pitch frames (from 45 ms, not 20 ms, and fewer): read on
    # the pitch grid, the last frames of a quiet-then-loud recording must read loud, not the quiet start's level
    samples = np.concatenate([0.01 * vowel(duration_s=1.5), vowel(duration_s=1.5, seed=1)])
    analysis = VoiceAnalysis(samples, RATE_HZ, all_speech(3.0))
    loud_db = analysis.window(2.0, 2.8)["loudness_db"]
    assert analysis.window(2.9, 3.0)["loudness_db"] == pytest.approx(loud_db, abs=1.0)
    assert analysis.window(0.2, 1.2)["loudness_db"] < loud_db - 30
