import wave

import numpy as np
import pytest

from runtime.errors import InputError
from runtime.media import extract_audio, probe, read_audio
from tests.media_factory import tone, write_media

CASES = [
    ("clip.mp4", "aac", "mpeg4"),
    ("clip.mov", "pcm_s16le", "mpeg4"),
    ("clip.mkv", "libopus", "libx264"),
    ("clip.avi", "libmp3lame", "mpeg4"),
    ("clip.webm", "libopus", "libvpx"),
]


@pytest.mark.parametrize(("name", "audio_codec", "video_codec"), CASES)
def test_extract_audio_gives_16k_mono_wav_as_long_as_the_audio_stream(tmp_path, name, audio_codec, video_codec):
    rate = 48000
    source = write_media(tmp_path / name, tone(3.0, rate), rate, audio_codec, video_codec, video_s=3.0)
    info = probe(source)
    assert info.has_audio and info.has_video
    stream_s = read_audio(source, rate).size / rate  # decoded at the stream's own rate
    out = tmp_path / "out.wav"
    duration_s = extract_audio(source, out)
    with wave.open(str(out)) as handle:
        assert handle.getframerate() == 16000
        assert handle.getnchannels() == 1
        assert handle.getsampwidth() == 2
        wav_s = handle.getnframes() / 16000
        pcm = np.frombuffer(handle.readframes(handle.getnframes()), dtype="<i2")
    assert abs(wav_s - stream_s) <= 0.020
    assert abs(duration_s - wav_s) < 1e-9
    assert abs(wav_s - 3.0) <= 0.1
    # the tone survives: 220 Hz dominates the spectrum
    spectrum = np.abs(np.fft.rfft(pcm[4000:12000].astype(float)))
    assert abs(np.argmax(spectrum) * 16000 / 8000 - 220) <= 4


def test_extract_audio_honours_the_sample_rate_option(tmp_path):
    source = write_media(tmp_path / "a.mp4", tone(1.0), 48000, "aac", "mpeg4", video_s=1.0)
    extract_audio(source, tmp_path / "a.wav", sample_rate_hz=22050)
    with wave.open(str(tmp_path / "a.wav")) as handle:
        assert handle.getframerate() == 22050


def test_video_without_audio_stream_is_named_in_the_error(tmp_path):
    source = write_media(tmp_path / "silent.mp4", None, video_codec="mpeg4", video_s=1.0)
    with pytest.raises(InputError, match="has no audio stream"):
        extract_audio(source, tmp_path / "x.wav")
    assert not (tmp_path / "x.wav").exists()


@pytest.mark.parametrize(("content", "problem"), [(None, "no such file"), (b"", "empty file"),
                                                 (b"\x00garbage" * 100, "not a readable media file")])
def test_bad_files_raise_one_clear_error(tmp_path, content, problem):
    path = tmp_path / "bad.mp4"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InputError, match=problem) as info:
        read_audio(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_truncated_file_is_reported_not_half_written(tmp_path):
    source = write_media(tmp_path / "t.mp4", tone(3.0), 48000, "aac", "mpeg4", video_s=3.0)
    data = source.read_bytes()
    source.write_bytes(data[: len(data) // 3])
    out = tmp_path / "t.wav"
    with pytest.raises(InputError, match=str(source)):
        extract_audio(source, out)
    assert not out.exists()
