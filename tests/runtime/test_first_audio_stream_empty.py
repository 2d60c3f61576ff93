"""A recording of two microphones whose first audio stream holds nothing (a recorder's first input unplugged, an
empty track kept by a remux) and whose second holds the voice: the file "of several says so in one line"
(docs/commands.md, analyze --audio-stream; extract-audio), as it does where the first stream holds sound, so
that the voice on stream 2 is not lost without a word pointing to --audio-stream 2."""

from fractions import Fraction

import av
import numpy as np

from runtime.cli import main
from tests.media_factory import tone


def _second_stream_only(path, samples, rate_hz=48000, video_s=0.0):
    """An MKV with two mono AAC streams, the first declared and never given a packet."""
    with av.open(str(path), "w") as container:
        if video_s:
            video = container.add_stream("libx264", rate=10)
            video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        container.add_stream("aac", rate=rate_hz, layout="mono")
        second = container.add_stream("aac", rate=rate_hz, layout="mono")
        if video_s:
            for i in range(int(video_s * 10)):
                frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), i % 255, np.uint8), format="rgb24")
                for packet in video.encode(frame):
                    container.mux(packet)
            for packet in video.encode():
                container.mux(packet)
        for start in range(0, samples.size, 1024):
            frame = av.AudioFrame.from_ndarray(samples[None, start:start + 1024], format="fltp", layout="mono")
            frame.sample_rate, frame.pts, frame.time_base = rate_hz, start, Fraction(1, rate_hz)
            for packet in second.encode(frame):
                container.mux(packet)
        for packet in second.encode():
            container.mux(packet)
    return path


def test_extract_audio_of_an_empty_first_stream_names_the_other_audio_stream(tmp_path, capsys):
    path = _second_stream_only(tmp_path / "two_mics.mkv", tone(4.0))
    assert main(["extract-audio", str(path), "-o", str(tmp_path / "voice.wav")]) == 2
    err = capsys.readouterr().err
    assert ("audio stream holds no samples (2 audio streams; the voice is read from stream 1 only (audio.stream, or "
            "--audio-stream, chooses another))") in err  # was: the empty stream's line alone
    assert main(["extract-audio", str(path), "-o", str(tmp_path / "voice.wav"), "--audio-stream", "2"]) == 0


def test_analyze_of_a_video_whose_first_audio_stream_is_empty_names_the_other_audio_stream(tmp_path, caplog):
    path = _second_stream_only(tmp_path / "two_mics_video.mkv", tone(4.0), video_s=4.0)
    assert main(["analyze", str(path), "--out", str(tmp_path / "out")]) == 0
    err = caplog.text
    assert "analysed without the voice" in err and "2 audio streams" in err  # was: no word of stream 2
