import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from runtime.clock import SessionClock
from runtime.errors import InputError
from runtime.media import wav_bytes
from runtime.sources.audio import FileAudioSource, MicrophoneSource, use_system_alsa_config
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
