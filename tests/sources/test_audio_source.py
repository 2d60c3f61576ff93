import numpy as np
import pytest

from runtime.clock import SessionClock
from runtime.errors import InputError
from runtime.media import wav_bytes
from runtime.sources.audio import FileAudioSource, MicrophoneSource
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
