import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from runtime import stopping
from runtime.clock import SessionClock
from runtime.errors import InputError
from runtime.media import wav_bytes
from runtime.sources.audio import (
    CapturePlacement,
    FileAudioSource,
    MicrophoneSource,
    alsa_open_hint,
    use_system_alsa_config,
)
from tests.media_factory import cut_short, tone, write_media


class StepClock(SessionClock):
    def __init__(self):
        self.t = 0.0
        self.sleeps = []
        super().__init__(monotonic=lambda: self.t, sleep=self._sleep)

    def _sleep(self, seconds):
        self.sleeps.append(seconds)
        self.t += seconds


@pytest.fixture
def wav(tmp_path):
    samples = np.sin(np.arange(16000 * 2 + 123) / 10).astype(np.float32) * 0.1
    path = tmp_path / "a.wav"
    path.write_bytes(wav_bytes(samples, 16000))
    return path, samples.size


def test_file_source_chunks_are_contiguous_on_the_session_clock(wav):
    path, n_samples = wav
    chunks = list(FileAudioSource(path, chunk_s=0.1).chunks())
    assert chunks[0].start_s == 0.0
    for a, b in zip(chunks, chunks[1:], strict=False):
        assert b.start_s == pytest.approx(a.end_s)
    assert sum(c.samples.size for c in chunks) == n_samples


def test_paced_file_source_releases_each_chunk_when_the_clock_reaches_its_end(wav):
    path, n_samples = wav
    clock = StepClock()
    for chunk in FileAudioSource(path, chunk_s=0.25, clock=clock).chunks():
        assert clock.now_s() == pytest.approx(chunk.end_s)
    assert clock.now_s() == pytest.approx(n_samples / 16000)


def test_unavailable_microphone_is_one_clear_error():
    source = MicrophoneSource(device="no-such-device-xyz", input_format="alsa")
    with pytest.raises(InputError, match="no-such-device-xyz"):
        next(source.chunks())


def test_an_alsa_device_that_will_not_open_says_what_to_try(tmp_path, monkeypatch):
    # alsa-lib fails alike for a machine without a sound card and for a name it does not know ("Input/output
    # error"): was that error alone, with no word of what to do
    cards = tmp_path / "cards"
    assert alsa_open_hint(cards).startswith(f"no sound card here (no {cards}): ")  # no ALSA in the kernel
    for text in ("", "--- no soundcards ---\n"):
        cards.write_text(text)
        assert alsa_open_hint(cards).startswith(f"no sound card here ({cards} lists none)")
        assert "--no-mic" in alsa_open_hint(cards)
    cards.write_text(" 0 [PCH            ]: HDA-Intel - HDA Intel PCH\n                      HDA Intel PCH at 0xf7f1\n")
    assert alsa_open_hint(cards).startswith("`arecord -L` lists the names --mic takes")

    monkeypatch.setattr("runtime.sources.audio.use_system_alsa_config", lambda: "/usr/share/alsa")
    with pytest.raises(InputError) as refused:
        MicrophoneSource(device="no-such-device-xyz", input_format="alsa").open()
    assert str(refused.value).startswith("alsa:no-such-device-xyz: cannot open audio device (")
    assert str(refused.value).endswith(f"; {alsa_open_hint()})")


def test_alsa_reads_the_systems_configuration_unless_one_is_set(tmp_path):
    (tmp_path / "alsa.conf").write_text("")
    environ = {}
    assert use_system_alsa_config(environ, [str(tmp_path / "absent"), str(tmp_path)]) == str(tmp_path)
    assert environ == {"ALSA_CONFIG_DIR": str(tmp_path)}
    assert use_system_alsa_config({"ALSA_CONFIG_DIR": "/opt/alsa"}, [str(tmp_path)]) == "/opt/alsa"
    assert use_system_alsa_config({}, [str(tmp_path / "absent")]) is None


@pytest.mark.skipif(not Path("/usr/share/alsa/alsa.conf").is_file(), reason="no system ALSA configuration here")
def test_an_alsa_device_opens_with_the_pip_installed_library():
    # ALSA's "null" capture device is defined by the system's alsa.conf; PyAV's own alsa-lib looks for it in its
    # build machine's folder and, without ALSA_CONFIG_DIR, knows no device at all. A fresh process, as alsa-lib
    # reads the folder once.
    code = ("from runtime.sources.audio import MicrophoneSource; s = MicrophoneSource('null', 'alsa'); "
            "chunk = next(s.chunks()); print(chunk.samples.size > 0)")
    env = {k: v for k, v in os.environ.items() if k != "ALSA_CONFIG_DIR"}
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env,
                         cwd=Path(__file__).resolve().parents[2])
    assert run.returncode == 0, run.stderr[-500:]
    assert run.stdout.strip() == "True"


def test_a_microphone_whose_stream_ends_says_so_after_its_samples():
    source = MicrophoneSource(device="anoisesrc=d=1.5:c=pink:a=0.05:r=16000", input_format="lavfi")
    chunks = source.chunks()
    captured = []
    with pytest.raises(InputError, match=r"lavfi:anoisesrc=d=1.5.*: audio stream ended after 1\.5 s"):
        for chunk in chunks:
            captured.append(chunk.samples.size)
    assert sum(captured) == 24000  # every sample before the end is delivered first


def test_a_microphone_read_only_in_part_raises_nothing():  # a guard: the end's error is raised after the loop
    chunks = MicrophoneSource(device="anoisesrc=d=1.5:c=pink:a=0.05:r=16000", input_format="lavfi").chunks()
    next(chunks)
    chunks.close()  # the session ended (its duration, Ctrl-C) before the stream did


def test_a_recording_cut_short_says_so_after_its_last_chunk(tmp_path):
    path = cut_short(write_media(tmp_path / "cut.mkv", tone(10.0), 48000, "aac"), 0.5)
    kept_s = []
    with pytest.raises(InputError, match=r"cut\.mkv: cut short: the audio ends at \d\.\d s of the 10\.0 s"):
        for chunk in FileAudioSource(path).chunks():  # was: the chunks, and then an end like any other
            kept_s.append(chunk.end_s)
    assert 4.0 < kept_s[-1] < 6.0


def test_a_replayed_files_late_start_is_told_before_the_silence_standing_for_it(tmp_path):
    # a replay judges each window as its chunks come: the stretch was told after the lead's 3 s of chunks, so the
    # windows there were judged as silence ("no speech") instead of audio missing
    path = write_media(tmp_path / "late.mkv", tone(4.0, 16000), 16000, "pcm_s16le", audio_start_s=3.0)
    missing = []
    told_by_chunk = [(chunk.end_s, list(missing)) for chunk in FileAudioSource(path, missing=missing.append).chunks()]
    assert missing == [(0.0, 3.0)]
    assert all(told == missing for end_s, told in told_by_chunk if end_s <= 3.0)


WALL_S = 1_800_000_000.0  # the session's start on the wall clock (UNIX seconds); device stamps near 0 are none


def test_samples_a_device_lost_are_placed_as_a_gap_not_closed_up():
    placement = CapturePlacement(16000, opened_s=0.0, wall_clock_start_s=WALL_S)
    assert placement.start_s(1600, device_time_s=5.0) == 0.0  # not a wall-clock stamp: where the device opened
    assert placement.start_s(1600, device_time_s=5.1) == pytest.approx(0.1)
    assert placement.start_s(1600, device_time_s=5.2 + 0.03) == pytest.approx(0.2)  # jitter: follows the samples
    assert placement.start_s(1600, device_time_s=None) == pytest.approx(0.3)  # no stamp: follows the samples
    assert placement.start_s(1600, device_time_s=7.4) == pytest.approx(2.4)  # 2 s lost: the chunk keeps its time
    assert placement.start_s(1600, device_time_s=7.45) == pytest.approx(2.5)  # a slow device clock never moves back
    assert placement.captured_s == pytest.approx(0.6)


def test_a_device_stamping_on_the_wall_clock_starts_where_its_first_sample_was_captured():
    placement = CapturePlacement(16000, opened_s=0.0, wall_clock_start_s=WALL_S)
    assert placement.start_s(1600, WALL_S + 2.5) == pytest.approx(2.5)  # its first sample 2.5 s into the session
    late = CapturePlacement(16000, opened_s=1.5, wall_clock_start_s=WALL_S)  # stamps from 0: where it was opened
    assert late.start_s(1600, 0.0) == 1.5
    assert CapturePlacement(16000, opened_s=0.05, wall_clock_start_s=WALL_S).start_s(1600, 0.0) == 0.0  # within jitter


def _fifo_microphone(tmp_path, seconds_of_sound: float) -> tuple[MicrophoneSource, threading.Event]:
    """A capture device that delivers ``seconds_of_sound`` and then nothing, its stream still open."""
    fifo = tmp_path / "mic.fifo"
    os.mkfifo(fifo)
    release = threading.Event()

    def write():
        with open(fifo, "wb") as device:
            device.write(np.zeros(int(44100 * seconds_of_sound), dtype=np.int16).tobytes())
            device.flush()
            release.wait(timeout=30)

    threading.Thread(target=write, daemon=True).start()
    return MicrophoneSource(str(fifo), "s16le", stall_s=1.0), release


def test_a_microphone_that_stalls_inside_its_read_is_said_to_have_stalled(tmp_path):
    source, release = _fifo_microphone(tmp_path, 0.5)
    captured_s = 0.0
    try:
        with pytest.raises(InputError, match=r"s16le:.*mic\.fifo: audio device stalled: no sound for 1 s"):
            for chunk in source.chunks():
                captured_s += chunk.samples.size / chunk.sample_rate_hz
    finally:
        release.set()
    assert captured_s == pytest.approx(0.5, abs=0.05)  # what came before the stall is kept


def test_a_stop_reaches_a_session_whose_microphone_says_nothing(tmp_path):
    source, release = _fifo_microphone(tmp_path, 0.1)
    chunks = source.chunks()
    try:
        next(chunks)
        stopping._asked.set()
        with pytest.raises(KeyboardInterrupt):
            next(chunks)
    finally:
        stopping._asked.clear()
        release.set()


def test_a_step_of_the_wall_clock_is_no_gap_and_a_loss_after_it_still_is():
    placement = CapturePlacement(16000, opened_s=0.0, wall_clock_start_s=WALL_S)
    starts = [placement.start_s(1600, 5.0 + 0.1 * i, arrival_s=0.1 * i + 0.12) for i in range(30)]  # 0-3 s
    # the wall clock set 30 s ahead at 3 s: the device's stamps jump, the sound arrives as before
    starts += [placement.start_s(1600, 35.0 + 0.1 * i, arrival_s=0.1 * i + 0.12) for i in range(30, 40)]
    assert starts[-1] == pytest.approx(3.9)  # was 33.9: 30 s of sound said lost, the rest of the voice late
    # then 2 s really lost: stamps and arrival both move on
    assert placement.start_s(1600, 35.0 + 6.0, arrival_s=6.12) == pytest.approx(6.0)
    # the wall clock set back 60 s: no chunk moves back, and a later loss is measured from there
    assert placement.start_s(1600, 35.0 + 6.1 - 60.0, arrival_s=6.22) == pytest.approx(6.1)
    assert placement.start_s(1600, 35.0 + 8.2 - 60.0, arrival_s=8.32) == pytest.approx(8.2)


def test_a_stereo_microphone_is_heard_at_the_level_a_recorded_file_of_it_is():
    stereo = "sine=frequency=220:duration=1:sample_rate=16000,pan=stereo|c0=c0|c1=c0"  # sine's amplitude: 1/8
    chunks = MicrophoneSource(stereo, "lavfi").chunks()
    heard = []
    with pytest.raises(InputError, match="audio stream ended"):
        for chunk in chunks:
            heard.append(chunk.samples)
    assert np.abs(np.concatenate(heard)).max() == pytest.approx(0.125, rel=0.01)  # was 0.177: FFmpeg's +3 dB


def test_a_step_of_the_wall_clock_during_a_late_read_leaves_no_gap_and_no_lasting_delay():
    placement = CapturePlacement(16000, opened_s=0.0, wall_clock_start_s=WALL_S)
    for i in range(30):
        placement.start_s(1600, 5.0 + 0.1 * i, arrival_s=0.1 * i + 0.11)
    assert placement.start_s(1600, 35.0, arrival_s=3.4) == pytest.approx(3.0)  # read 0.3 s late as the clock stepped
    assert [placement.start_s(1600, 35.0 + 0.1 * k, arrival_s=3.11 + 0.1 * k) for k in (1, 2, 3)] == pytest.approx(
        [3.1, 3.2, 3.3])  # was 3.4, 3.5, 3.6: later than they arrived


def test_a_device_without_sound_given_as_the_microphone_is_said_so():
    with pytest.raises(InputError, match=r"^lavfi:nullsrc: has no audio stream$"):  # was an IndexError's words
        MicrophoneSource("nullsrc", "lavfi").open()


def test_a_device_losing_a_little_over_a_tenth_of_a_second_leaves_a_gap_not_a_shift():
    placement = CapturePlacement(16000, opened_s=0.0, wall_clock_start_s=WALL_S)
    assert placement.start_s(1600, device_time_s=5.0, arrival_s=0.1) == 0.0
    assert placement.start_s(1600, device_time_s=5.1, arrival_s=0.2) == pytest.approx(0.1)
    # 0.15 s lost (MISSING_AUDIO_S or more): the next chunk keeps its time, not 0.2 s, 0.15 s early for good
    assert placement.start_s(1600, device_time_s=5.35, arrival_s=0.45) == pytest.approx(0.35)
    assert placement.start_s(1600, device_time_s=5.45, arrival_s=0.55) == pytest.approx(0.45)
