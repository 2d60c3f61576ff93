import json
import logging
import re
import wave
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np
import pytest
import soundfile

from runtime.cli import main
from runtime.errors import InputError
from runtime.media import (
    DTX_HOLE_S,
    MonoDownmix,
    Resampler,
    clock_origin_s,
    extract_audio,
    probe,
    read_audio,
    wav_bytes,
)
from runtime.sources.video import FileVideoSource
from tests.media_factory import (
    DTX_PACKET_BYTES,
    as_webrtc_dtx,
    cut_short,
    damage,
    tone,
    undecodable_s,
    write_audio_streams,
    write_media,
)

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


@pytest.mark.parametrize("name", ["2024-05-01T10:30:00.mp4", "rec:1.mp4"])
def test_a_relative_name_with_a_colon_is_read_as_a_file_not_refused_as_corrupt(tmp_path, monkeypatch, name):
    write_media(tmp_path / name, tone(1.0), 48000, "aac", "mpeg4", video_s=1.0)
    monkeypatch.chdir(tmp_path)  # FFmpeg took the text before the colon for a protocol: 'Protocol not found'
    assert abs(extract_audio(Path(name), Path("out.wav")) - 1.0) <= 0.1
    assert len(list(FileVideoSource(Path(name), 5.0).frames())) == 5


@pytest.mark.parametrize("name", ["visit.mp3", "visit", "visit.wav.bak"])
def test_an_output_named_for_another_format_is_refused_before_anything_is_read(tmp_path, name):
    source = write_media(tmp_path / "visit.mp4", tone(1.0, 48000), video_codec="mpeg4", video_s=1.0)
    with pytest.raises(InputError, match=r"the audio is written as WAV: give a name ending in \.wav$"):
        extract_audio(source, tmp_path / name)  # was: a WAV written under the name, said nowhere
    assert not (tmp_path / name).exists()


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


def write_wav(path, samples: np.ndarray, sample_rate_hz: int):
    """16-bit PCM WAV of float samples, (n,) or (n, channels)."""
    channels = 1 if samples.ndim == 1 else samples.shape[1]
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(channels)
        handle.setsampwidth(2)
        handle.setframerate(sample_rate_hz)
        handle.writeframes(np.round(samples * 32767).astype("<i2").tobytes())
    return path


def patched(path, offset: int, data: bytes):
    """``path`` with ``data`` written over its bytes from ``offset``, as a damaged header."""
    content = bytearray(path.read_bytes())
    content[offset:offset + len(data)] = data
    path.write_bytes(bytes(content))
    return path


def test_a_stream_no_decoder_here_reads_is_one_line_before_any_work_not_corrupt_packets(tmp_path, capsys):
    wav = patched(write_wav(tmp_path / "odd.wav", tone(1.0, 16000), 16000), 20, (99).to_bytes(2, "little"))
    video = write_media(tmp_path / "odd.mp4", tone(3.0), 48000, "aac", "libx264", video_s=3.0)
    header = video.read_bytes()
    patched(video, header.index(b"avc1", header.index(b"stsd")), b"zzzz")  # a codec tag nothing here knows
    unsupported = "in a format this device cannot decode (unsupported codec)"
    assert probe(wav).audio_problem == f"its audio is {unsupported}"
    assert probe(video).video_problem == f"its video is {unsupported}"
    for read in (read_audio, lambda path: list(FileVideoSource(path, 5.0).frames())):
        source = wav if read is read_audio else video
        with pytest.raises(InputError) as info:  # was: an internal AttributeError (audio), packets said corrupt
            read(source)
        assert str(info.value).endswith(unsupported)
    assert main(["analyze", str(video), "--out", str(tmp_path / "out")]) == 2  # said before the audio arm's work
    assert capsys.readouterr().err == f"emotrace: error: {video}: its video is {unsupported}\n"
    no_video = tmp_path / "audio-only.toml"
    no_video.write_text("[face]\nenabled = false\n[body]\nenabled = false\n")
    assert main(["analyze", str(video), "--out", str(tmp_path / "out"), "--config", str(no_video)]) == 0


def test_an_implausible_sample_rate_is_refused_before_it_is_believed(tmp_path):
    wav = patched(write_wav(tmp_path / "rate.wav", tone(1.0, 16000), 16000), 24, (1).to_bytes(4, "little"))
    problem = "its audio declares 1 samples a second, under 1000: a damaged header"
    assert probe(wav).audio_problem == problem  # refused where the audio is read (analyze: before any arm runs)
    with pytest.raises(InputError) as refused:  # believed, 16,000 samples at 1 Hz were 4.4 h at 16 kHz, in memory
        read_audio(wav)
    assert str(refused.value) == f"{wav}: {problem}"


def test_audio_declaring_no_rate_outside_mpeg_ts_is_refused_as_a_damaged_header(tmp_path):
    import struct

    declared = b"\xb5\x88" + struct.pack(">d", 16000.0)  # Matroska's SamplingFrequency, an 8-byte float
    problems = {}
    for codec in ("pcm_s16le", "flac"):
        mkv = write_media(tmp_path / f"{codec}.mkv", tone(1.0, 16000), 16000, codec)
        content = mkv.read_bytes()
        assert content.count(declared) == 1
        mkv.write_bytes(content.replace(declared, b"\xb5\x88" + struct.pack(">d", 0.0)))
        problems[codec] = probe(mkv).audio_problem
    # was, once any 0 was read as no rate: PCM's packets all called corrupt; FLAC's own header gives its rate
    assert problems == {"pcm_s16le": "its audio declares 0 samples a second, under 1000: a damaged header", "flac": ""}
    assert abs(read_audio(tmp_path / "flac.mkv", 16000).size - 16000) <= 160


def test_a_video_cut_short_before_its_first_frame_is_an_error_not_an_empty_track(tmp_path):
    source = write_media(tmp_path / "cut.mkv", tone(10.0), 48000, "aac", "mpeg4", video_s=10.0)
    with av.open(str(source)) as container:
        first_packet_byte = min(p.pos for p in container.demux() if p.pos is not None and p.pos >= 0)
    cut_short(source, first_packet_byte / source.stat().st_size)  # the header, declaring 10 s, and no packet
    with pytest.raises(InputError) as info:  # was: no frames and a warning, so every face window "no video frames"
        list(FileVideoSource(source, 5.0).frames())
    assert str(info.value) == (f"{source}: no video could be decoded; cut short: the video ends at 0.0 s of the "
                               "10.0 s the file declares")


def test_extract_audio_refuses_nan_samples_and_writes_nothing(tmp_path):
    samples = tone(1.0, 16000).astype(np.float32)
    samples[100:110] = np.nan
    source = tmp_path / "nan.wav"
    soundfile.write(source, samples, 16000, subtype="FLOAT")
    out = tmp_path / "out.wav"
    with pytest.raises(InputError, match="holds NaN or infinite audio samples"):  # was: written, NaN as 0
        extract_audio(source, out)
    assert not out.exists()


@pytest.mark.parametrize("gain", [0.9, 2.5])
def test_extract_audio_says_how_many_samples_beyond_full_scale_it_clips(tmp_path, caplog, gain):
    samples = (tone(1.0, 16000) / np.abs(tone(1.0, 16000)).max() * gain).astype(np.float32)  # peak at the gain
    source = tmp_path / "hot.wav"
    soundfile.write(source, samples, 16000, subtype="FLOAT")  # a float file may go beyond full scale
    out = tmp_path / "out.wav"
    extract_audio(source, out)
    said = [line for line in caplog.messages if "beyond full scale" in line]  # was: clipped without a word
    beyond = int(np.sum(np.abs(samples) > 1.0))
    if not beyond:
        assert said == []
    else:
        assert said == [f"{source}: {beyond} of {samples.size} samples lie beyond full scale (the loudest at "
                        f"+{20 * np.log10(gain):.1f} dBFS): clipped to full scale in the 16-bit WAV"]
    written, _ = soundfile.read(out)  # written all the same, clipped at full scale
    assert written.size == samples.size and np.abs(written).max() == pytest.approx(min(gain, 1.0), abs=1e-3)


def test_extract_audio_says_an_overshoot_of_a_16_bit_source_comes_from_resampling_it(tmp_path, caplog):
    clipped = np.clip(tone(1.0, 44100) * 10, -1.0, 1.0)  # a voice clipped at the microphone: flat tops
    source = tmp_path / "clipped.wav"
    soundfile.write(source, clipped, 44100, subtype="PCM_16")  # holds nothing beyond full scale
    extract_audio(source, tmp_path / "out.wav")
    said = [line for line in caplog.messages if "beyond full scale" in line]
    assert len(said) == 1 and re.fullmatch(  # was: the float source's line, as if the file held it
        rf"{re.escape(str(source))}: \d+ of 16000 samples lie beyond full scale \(the loudest at \+\d\.\d dBFS\) "
        r"after resampling from 44100 Hz: clipped to full scale in the 16-bit WAV; the source reaches full scale "
        r"or near it: clipped at the microphone\?", said[0])
    caplog.clear()
    extract_audio(source, tmp_path / "same.wav", sample_rate_hz=44100)  # not resampled: nothing beyond it
    assert not [line for line in caplog.messages if "beyond full scale" in line]


def test_a_file_that_may_not_be_read_is_said_so_not_called_corrupt(tmp_path, monkeypatch):
    source = write_wav(tmp_path / "locked.wav", tone(1.0, 16000), 16000)

    def refusing_open(path, *args, **kwargs):  # the OS refusing a file without read permission (tests run as root)
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr("runtime.files.open", refusing_open, raising=False)
    monkeypatch.setattr("av.open", refusing_open)
    with pytest.raises(InputError) as refused:  # was: "not a readable media file: corrupt or unsupported format"
        read_audio(source)
    assert str(refused.value) == f"{source}: cannot be read (Permission denied)"


def test_truncated_file_is_reported_not_half_written(tmp_path):
    source = write_media(tmp_path / "t.mp4", tone(3.0), 48000, "aac", "mpeg4", video_s=3.0)
    data = source.read_bytes()
    source.write_bytes(data[: len(data) // 3])
    out = tmp_path / "t.wav"
    with pytest.raises(InputError, match=str(source)):
        extract_audio(source, out)
    assert not out.exists()


def _loud_from_s(samples: np.ndarray) -> float:
    return float(np.flatnonzero(np.abs(samples) > 0.1)[0]) / 16000


def test_packets_lost_from_an_audio_stream_are_silence_so_later_sound_keeps_its_time(tmp_path):
    sound = np.zeros(160000, dtype=np.float32)
    sound[96000:144000] = 0.3  # from 6 s
    decoded = read_audio(write_media(tmp_path / "gap.mkv", sound, 16000, "pcm_s16le", lost_s=(2.0, 5.0)))
    assert decoded.size == pytest.approx(160000, abs=1600)
    assert _loud_from_s(decoded) == pytest.approx(6.0, abs=0.01)  # not at 3 s, the lost 2-5 s closed up


def _bursts(rate_hz: int, length_s: float, at_s: tuple[float, ...]) -> np.ndarray:
    """Silence with a 0.2 s burst of noise from each of ``at_s`` (on the samples' own time)."""
    sound = np.zeros(int(round(length_s * rate_hz)), dtype=np.float32)
    noise = np.random.default_rng(0).uniform(0.2, 0.4, int(0.2 * rate_hz)).astype(np.float32)
    for t_s in at_s:
        sound[int(round(t_s * rate_hz)):int(round(t_s * rate_hz)) + noise.size] = noise
    return sound


def _onsets_s(samples: np.ndarray, rate_hz: int = 16000) -> list[float]:
    """Where each burst starts in decoded samples."""
    loud = np.abs(samples) > 0.1
    starts = np.flatnonzero(loud[1:] & ~loud[:-1]) + 1
    firsts = [int(i) for i in starts if not loud[max(0, i - int(0.1 * rate_hz)):i].any()]
    return [i / rate_hz for i in ([0] if loud[0] else []) + firsts]


@pytest.mark.parametrize("scale", [1.05, 0.95])
def test_audio_whose_stamps_run_apart_from_its_samples_is_placed_by_its_stamps_and_said(tmp_path, caplog, scale):
    at_s = (0.5, 2.0, 3.5)  # on the samples' own time: on the file's clock, scale times that
    path = write_media(tmp_path / "drift.mkv", _bursts(48000, 4.0, at_s), 48000, "pcm_s16le", audio_stamp_scale=scale)
    with caplog.at_level("WARNING"):
        decoded = read_audio(path)
    # was: 3.5 s, 0.175 s away from its stamp, the error growing with the recording (9 s after 50 min at 0.3 %)
    assert _onsets_s(decoded) == pytest.approx([t_s * scale for t_s in at_s], abs=0.025)
    assert decoded.size / 16000 == pytest.approx(4.0 * scale, abs=0.03)
    ahead = "ahead of" if scale > 1 else "behind"
    said = rf"{re.escape(str(path))}: its audio's timestamps ran 0\.\d\d s {ahead} its samples over 4 s \([45]\.\d+ %.*"
    assert len(caplog.messages) == 1 and re.fullmatch(said, caplog.messages[0])
    assert "the audio was placed by its timestamps" in caplog.messages[0]


def test_single_packets_lost_from_millisecond_stamps_are_filled_without_the_rounding_adding_up(tmp_path, caplog):
    # Matroska rounds stamps to the millisecond: a 1024-sample frame at 48 kHz (21.333 ms) lost every sixth frame
    # was filled 0.333 ms too long each time, 11 ms in 4 s, growing with the recording.
    at_s = (0.1, 3.9)
    path = write_media(tmp_path / "lost.mkv", _bursts(48000, 4.2, at_s), 48000, "pcm_s16le", lost_every=6)
    with caplog.at_level("WARNING"):
        decoded = read_audio(path)
    assert _onsets_s(decoded)[-1] == pytest.approx(3.9, abs=0.002)
    # counted as packets lost, not blamed on a clock (was: "ran 0.68 s ahead of its samples ... (17.59 %: stamps
    # taken from a clock other than the sound card's, or packets lost)")
    lost = len(range(5, -(-int(4.2 * 48000) // 1024), 6))
    lost_s = lost * 1024 / 48000
    assert caplog.messages == [f"{path}: no audio for {lost_s:.1f} s, filled with silence ({lost} packets lost in "
                               f"holes under 0.1 s, {lost_s:.2f} s in all)"]


def _jitter_s(spread_s: float, offset_s: float = 0.0, seed: int = 0) -> Callable[[int], float]:
    """A recorder's jitter: each frame's stamp ``offset_s`` late, give or take ``spread_s``, the first one's too."""
    errors_s = offset_s + np.random.default_rng(seed).uniform(-spread_s, spread_s, 100000)
    return lambda index: float(errors_s[index])


@pytest.mark.parametrize(("name", "error_s"), [
    ("jitter.mkv", _jitter_s(0.015, 0.0065)),  # a phone's AAC stamps: was 185 steps in 27 s, 2 s of sound dropped
    ("late.mkv", lambda index: 0.025 if index in (100, 400, 700) else 0.0),  # single stamps late: a step and back
])
def test_stamps_scattered_around_their_samples_move_no_sound(tmp_path, caplog, name, error_s):
    sound = _bursts(48000, 20.0, (0.5, 10.0, 19.0)) + tone(20.0, 48000) * 0.1
    plain = read_audio(write_media(tmp_path / "plain.mkv", sound, 48000, "pcm_s16le"))
    with caplog.at_level("WARNING"):
        scattered = read_audio(write_media(tmp_path / name, sound, 48000, "pcm_s16le", audio_stamp_error_s=error_s))
    with av.open(str(tmp_path / name)) as container:
        first_s = float(next(container.demux(audio=0)).pts * container.streams.audio[0].time_base)
    # the first stamp places the stream (its jitter, under the tolerance, is taken as it comes); no frame moves after
    lead = int(round(first_s * 16000))
    assert np.array_equal(scattered, np.concatenate([np.zeros(max(lead, 0), np.float32), plain[max(-lead, 0):]]))
    assert caplog.messages == []


def test_silence_an_opus_encoders_dtx_left_out_is_silence_not_audio_missing(tmp_path, caplog):
    # A WebRTC recorder's Opus: in silence one packet of a few bytes every 400 ms, nothing between
    sound = np.concatenate([tone(1.0, 48000), np.zeros(3 * 48000, np.float32), tone(1.0, 48000)])
    path = as_webrtc_dtx(write_media(tmp_path / "dtx.webm", sound, 48000, "libopus", dtx=True), tmp_path / "rtc.webm")
    with av.open(str(path)) as container:
        packets = [(float(p.pts * p.time_base), p.size) for p in container.demux(audio=0) if p.size]
    holes = [(t_s, size) for (t_s, size), (next_s, _) in zip(packets, packets[1:], strict=False) if next_s - t_s > 0.3]
    assert len(holes) >= 5 and all(size <= DTX_PACKET_BYTES for _, size in holes)  # the file is as made
    missing = []
    with caplog.at_level("WARNING"):
        decoded = read_audio(path, missing=missing.append)
    # was: 0.38 s lost after each DTX packet, so that the windows of the pause made no claim
    assert missing == [] and caplog.messages == []
    assert decoded.size / 16000 == pytest.approx(5.0, abs=0.03)
    assert _loud_from_s(decoded[int(2.0 * 16000):]) + 2.0 == pytest.approx(4.0, abs=0.02)  # the second tone in place


def test_a_hole_after_an_opus_dtx_packet_longer_than_its_encoder_leaves_is_audio_missing(tmp_path):
    sound = np.concatenate([tone(1.0, 48000), np.zeros(4 * 48000, np.float32), tone(1.0, 48000)])
    # every 40th DTX packet kept: 0.8 s holes, the DTX packet between them lost
    path = as_webrtc_dtx(write_media(tmp_path / "dtx.webm", sound, 48000, "libopus", dtx=True), tmp_path / "rtc.webm",
                         every=40)
    with av.open(str(path)) as container:
        starts_s = [float(p.pts * p.time_base) for p in container.demux(audio=0) if p.size]
    holes_s = [(start_s + 0.02, next_s) for start_s, next_s in zip(starts_s, starts_s[1:], strict=False)
               if next_s - start_s - 0.02 > DTX_HOLE_S]
    missing = []
    read_audio(path, missing=missing.append)
    assert len(holes_s) >= 3 and missing == [pytest.approx(hole_s, abs=0.002) for hole_s in holes_s]


def test_a_single_step_back_of_the_stamps_is_said_as_one_and_the_overlap_dropped(tmp_path, caplog):
    # two recordings in one transport stream, the second stamped from 7.85 s while the first runs to 8.0 s: under
    # STAMPS_BACK_S, no joint but the stamps' clock set back, followed (was: "ran 0.15 s behind its samples ... %")
    sound = _bursts(48000, 8.0, (0.5, 4.0))
    one = write_media(tmp_path / "one.ts", sound, 48000, "mp2").read_bytes()
    two = write_media(tmp_path / "two.ts", sound, 48000, "mp2", audio_start_s=7.85).read_bytes()
    path = tmp_path / "joined.ts"
    path.write_bytes(one + two)
    with caplog.at_level("WARNING"):
        decoded = read_audio(path)
    assert _onsets_s(decoded) == pytest.approx([0.5, 4.0, 8.35, 11.85], abs=0.02)  # the second by its stamps
    assert decoded.size / 16000 == pytest.approx(15.85, abs=0.03)  # the overlap dropped
    assert len(caplog.messages) == 1
    said = (rf"{re.escape(str(path))}: its audio's timestamps step back 0\.1\d s at 8\.0 s; the audio was placed by "
            r"its timestamps \(0\.1\d s of overlapping sound dropped\)")
    assert re.fullmatch(said, caplog.messages[0])


def test_a_clock_running_apart_under_jittery_stamps_is_followed_in_few_steps(tmp_path, caplog):
    at_s = (0.5, 30.0, 59.0)  # on the samples' own time; stamps run 0.3 % faster, scattered +-15 ms
    path = write_media(tmp_path / "drift.mkv", _bursts(48000, 60.0, at_s), 48000, "pcm_s16le",
                       audio_stamp_scale=1.003, audio_stamp_error_s=_jitter_s(0.015))
    with caplog.at_level("WARNING"):
        decoded = read_audio(path)
    assert _onsets_s(decoded) == pytest.approx([t_s * 1.003 for t_s in at_s], abs=0.03)
    assert len(caplog.messages) == 1
    line = re.fullmatch(r".*ran 0\.1\d s ahead of its samples over 60 s \(0\.[23]\d %.* in (\d+) steps\)",
                        caplog.messages[0])
    assert line and int(line[1]) <= 25  # steps of about half the tolerance: 0.18 s in 18 (was: hundreds)


@pytest.mark.parametrize(("name", "codec"), [("a.mkv", "aac"), ("o.webm", "libopus"), ("a.mp4", "aac"),
                                             ("p.mkv", "pcm_s16le"), ("a.ts", "mp2"), ("a.flac", "flac")])
def test_audio_whose_stamps_agree_with_its_samples_is_read_sample_for_sample(tmp_path, caplog, name, codec):
    """Every ordinary file: the samples the voice models were trained on, each frame after the one before it."""
    path = write_media(tmp_path / name, _bursts(48000, 3.0, (0.5, 2.0)) + tone(3.0, 48000) * 0.1, 48000, codec)
    with caplog.at_level("WARNING"):
        decoded = read_audio(path)
    with av.open(str(path)) as container:
        frames = list(container.decode(audio=0))
        resampler, mono = Resampler(16000), MonoDownmix()
        counted = np.concatenate([mono(out) for frame in frames + [None] for out in resampler.resample(frame)])
        first_s = float(frames[0].pts * frames[0].time_base) - clock_origin_s(container)
    lead = int(round(first_s * 16000))
    counted = np.concatenate([np.zeros(max(lead, 0), np.float32), counted[max(-lead, 0):]])
    assert np.array_equal(decoded, counted)
    assert caplog.messages == []


def test_missing_audio_is_told_as_stretches_and_said_in_one_line(tmp_path, caplog):
    sound = _bursts(16000, 6.0, (0.5, 4.5))
    path = write_media(tmp_path / "lost.mkv", sound, 16000, "pcm_s16le", audio_start_s=1.0, lost_s=(2.0, 3.5),
                       video_codec="mpeg4", video_s=1.0)  # the file's clock starts with its video, at 0
    missing = []
    with caplog.at_level("WARNING"):
        decoded = read_audio(path, missing=missing.append)
    assert missing == [(0.0, 1.0), pytest.approx((3.0, 4.5), abs=0.07)]  # the samples' 2-3.5 s, stamped 1 s later
    assert _onsets_s(decoded) == pytest.approx([1.5, 5.5], abs=0.01)  # the silence filled as before
    assert caplog.messages == [f"{path}: no audio for 2.5 s, filled with silence (before the audio starts at 1.0 s; "
                               "lost at 3.0-4.5 s)"]


def test_a_lone_first_packet_before_a_hole_is_a_late_start_not_audio_lost(tmp_path, caplog):
    # as FFmpeg writes a fragmented MP4 whose audio starts late: one frame at 0, the rest from 1 s
    sound = _bursts(48000, 4.0, (2.0,))
    path = write_media(tmp_path / "late.mkv", sound, 48000, "pcm_s16le", lost_s=(0.01, 1.0))
    missing = []
    with caplog.at_level("WARNING"):
        decoded = read_audio(path, missing=missing.append)
    assert missing == [(0.0, pytest.approx(1.003, abs=0.02))]  # was (0.021, 1.0): "lost at 0.0-1.0 s"
    assert _onsets_s(decoded) == pytest.approx([2.0], abs=0.01)
    assert len(caplog.messages) == 1
    assert re.fullmatch(r".*: no audio for 1\.0 s, filled with silence \(before the audio starts at 1\.0 s\)",
                        caplog.messages[0])


def test_a_single_packet_lost_is_said_to_the_hundredth_of_a_second(tmp_path, caplog):
    path = write_media(tmp_path / "one.mkv", _bursts(48000, 4.0, (3.0,)), 48000, "pcm_s16le", lost_s=(2.0, 2.02))
    with caplog.at_level("WARNING"):
        read_audio(path)
    # was: "no audio for 0.0 s"
    assert caplog.messages == [f"{path}: no audio for 0.02 s, filled with silence (1 packet lost in holes under "
                               "0.1 s, 0.02 s in all)"]


def test_a_short_late_start_is_told_but_not_said(tmp_path, caplog):
    # a phone's audio starting half a second after its video: the windows there make no claim, no line for it
    path = write_media(tmp_path / "phone.mkv", _bursts(16000, 4.0, (1.0,)), 16000, "pcm_s16le", audio_start_s=0.5)
    missing = []
    with caplog.at_level("WARNING"):
        decoded = read_audio(path, missing=missing.append)
    assert missing == [(0.0, 0.5)]
    assert _onsets_s(decoded) == pytest.approx([1.5], abs=0.01)
    assert caplog.messages == []  # was: "no audio for 0.5 s, filled with silence (before the audio starts at 0.5 s)"


def test_audio_stamped_before_zero_is_cut_so_it_keeps_the_files_clock(tmp_path):
    sound = np.zeros(160000, dtype=np.float32)
    sound[80000:96000] = 0.3  # from 5 s into the stream, which starts at -1 s: 4 s on the file's clock
    decoded = read_audio(write_media(tmp_path / "early.mkv", sound, 16000, "pcm_s16le", audio_start_s=-1.0))
    assert _loud_from_s(decoded) == pytest.approx(4.0, abs=0.01)


@pytest.mark.parametrize(("name", "codec"), [("late.mkv", "pcm_s16le"), ("late.mp4", "aac"), ("late.mov", "pcm_s16le")])
def test_audio_stamped_after_zero_keeps_the_files_clock_and_is_not_taken_for_a_file_cut_short(tmp_path, caplog, name,
                                                                                               codec):
    sound = np.zeros(160000, dtype=np.float32)
    sound[80000:96000] = 0.3  # from 5 s into the stream, which starts at 3 s: 8 s on the file's clock
    told = []
    path = write_media(tmp_path / name, sound, 16000, codec, audio_start_s=3.0)
    with caplog.at_level("WARNING"):
        probe(path)
        decoded = read_audio(path, ended_early=told.append)
    assert _loud_from_s(decoded) == pytest.approx(8.0, abs=0.1)
    assert told == []  # was (Matroska): "cut short: the audio ends at 13.0 s of the 16.0 s"
    late = rf"{re.escape(str(path))}: its timestamps start at (2\.9|3\.0) s, not 0: .*"  # said, not taken for damage
    assert len(caplog.messages) == 1 and re.fullmatch(late, caplog.messages[0])


@pytest.mark.parametrize(("name", "video_codec"), [("late.mkv", "mpeg4"), ("late.mp4", "mpeg4"), ("late.mkv", None),
                                                   ("late.mp4", None)])
def test_audio_starting_late_is_said_once_as_a_file_reading_it_probes_and_decodes(tmp_path, caplog, name,
                                                                                  video_codec):
    # audio from 1.5 s: after the video, the audio's late start; in a file of audio alone, the file's own late
    # clock, which probe says (was: said twice, also as "no audio for 1.5 s ... before the audio starts at 1.5 s")
    path = write_media(tmp_path / name, tone(3.0, 16000), 16000, "aac" if name.endswith(".mp4") else "pcm_s16le",
                       video_codec=video_codec, video_s=4.0 if video_codec else 0.0, audio_start_s=1.5)
    with caplog.at_level("WARNING"):
        probe(path)
        read_audio(path)
    late_start = r"(before the audio starts|its timestamps start) at 1\.[45] s"
    assert [message for message in caplog.messages if re.search(late_start, message)] == caplog.messages
    assert len(caplog.messages) == 1
    assert ("before the audio starts" in caplog.messages[0]) == (video_codec is not None)


@pytest.mark.parametrize("read", ["read alone", "extract-audio"])
@pytest.mark.parametrize("name", ["late.mp4", "late.mkv"])
def test_audio_starting_late_is_said_once_as_a_file_read_without_probing_it(tmp_path, caplog, name, read):
    # a clip whose stamps all start at 12 s, read whole (audio classify's, training's) or extracted (which probes
    # after reading): was said by none of them when read alone, the 12 s of silence unexplained
    path = write_media(tmp_path / name, tone(3.0, 16000), 16000, "aac" if name.endswith(".mp4") else "pcm_s16le",
                       audio_start_s=12.0)
    with caplog.at_level("WARNING"):
        if read == "read alone":
            decoded = read_audio(path, alone=True)  # as training reads a clip: no probe
        else:
            decoded = read_audio(tmp_path / "out.wav") if extract_audio(path, tmp_path / "out.wav") else None
    assert decoded.size / 16000 == pytest.approx(15.0, abs=0.1)  # the late start is kept as silence
    late_start = r"(before the audio starts|its timestamps start) at 1[12]\.\d s"
    assert len(caplog.messages) == 1 and re.search(late_start, caplog.messages[0])


@pytest.mark.parametrize(("name", "codec"), [("late.mkv", "pcm_s16le"), ("late.mp4", "aac"), ("late.mov", "pcm_s16le")])
def test_a_file_whose_stamps_start_late_ends_where_its_stamps_do(tmp_path, name, codec):
    # 10 s of audio stamped from 3 s: the timeline of a video so stamped ended at its duration, before its last
    # frames (an MP4's duration is the span after its first stamp; Matroska's is counted from 0)
    info = probe(write_media(tmp_path / name, np.zeros(160000, dtype=np.float32), 16000, codec, audio_start_s=3.0))
    assert info.end_s == pytest.approx(13.0, abs=0.02)


def _lag_samples(decoded: np.ndarray, sound: np.ndarray) -> int:
    """How many samples after its place in ``sound`` ``decoded`` holds it: their cross-correlation's peak."""
    size = 2 * max(decoded.size, sound.size)
    correlation = np.fft.irfft(np.fft.rfft(decoded, size) * np.conj(np.fft.rfft(sound, size)), size)
    lag = int(np.argmax(correlation))
    return lag if lag < size // 2 else lag - size


@pytest.mark.parametrize(("name", "video_codec", "audio_start_s"), [
    ("speech.mp3", None, 0.0),  # FFmpeg stamps its first sample past the encoder's delay: was 1105 samples late
    ("speech.mp4", None, 0.0),  # the MP4's edit list stamps that delay before 0
    ("speech.mkv", "mpeg4", 0.5),  # the same delay in Matroska, the sound starting 0.5 s after the picture: kept
])
def test_mp3_sound_is_placed_where_it_was_recorded_not_after_its_encoders_delay(tmp_path, name, video_codec,
                                                                                 audio_start_s):
    sound = _bursts(16000, 3.0, (0.5, 1.3, 2.2)) + tone(3.0, 16000) * 0.05
    path = write_media(tmp_path / name, sound, 16000, "libmp3lame", video_codec=video_codec,
                       video_s=4.0 if video_codec else 0.0, audio_start_s=audio_start_s)
    assert _lag_samples(read_audio(path), sound) == round(audio_start_s * 16000)


def test_a_late_start_at_another_rate_keeps_its_time_at_the_rate_read(tmp_path):
    sound = np.zeros(44100 * 4, dtype=np.float32)
    sound[44100:] = 0.3  # loud from 1 s into a stream stamped from 1 s: 2 s on the file's clock
    decoded = read_audio(write_media(tmp_path / "late.mkv", sound, 44100, "pcm_s16le", audio_start_s=1.0), 16000)
    assert _loud_from_s(decoded) == pytest.approx(2.0, abs=0.01)  # the leading silence counted at 16 kHz


def test_full_scale_samples_are_written_at_full_scale_with_their_sign(tmp_path):
    path = tmp_path / "full.wav"
    path.write_bytes(wav_bytes(np.array([1.0, -1.0, 2.0, 0.5]), 16000))
    pcm, _ = soundfile.read(path, dtype="int16")
    assert list(pcm) == [32767, -32767, 32767, 16384]  # +1.0 as 32768 would wrap to -32768


def test_audio_extracted_at_a_rate_no_voice_survives_is_refused_and_nothing_written(tmp_path):
    clip = write_media(tmp_path / "clip.mkv", tone(1.0), 16000, "pcm_s16le")
    with pytest.raises(InputError, match="must be between 1000 and 192000 Hz"):
        extract_audio(clip, tmp_path / "out.wav", 500)
    assert not (tmp_path / "out.wav").exists()


@pytest.mark.parametrize("channels", [2, 6, 8, 16])
def test_channels_are_averaged_into_mono_at_the_level_of_each(tmp_path, channels):
    sound = (0.5 * np.sin(np.arange(32000) / 7)).astype(np.float32)
    # 8 and more: PyAV reads past the planes of a planar frame (the process died with a segfault, no line)
    decoded = read_audio(write_wav(tmp_path / "many.wav", np.repeat(sound[:, None], channels, axis=1), 16000))
    assert np.sqrt(np.mean(decoded**2)) == pytest.approx(np.sqrt(np.mean(sound**2)), rel=0.01)
    assert np.abs(decoded).max() <= 0.5 + 1e-3  # no gain, so no clipping
    last_only = np.zeros((sound.size, channels), np.float32)
    last_only[:, -1] = sound  # every channel counts, the last as much as the first
    decoded = read_audio(write_wav(tmp_path / "last.wav", last_only, 16000))
    # one sounding channel of two is averaged with the silent one; one of six or more would be buried in the mean
    # (MonoDownmix's CANCELLED_SHARE), so it is read alone
    expected = np.sqrt(np.mean(sound**2)) / (2 if channels == 2 else 1)
    assert np.sqrt(np.mean(decoded**2)) == pytest.approx(expected, rel=0.01)


def test_a_corrupt_audio_packet_is_skipped_as_silence_and_the_sound_after_it_keeps_its_time(tmp_path, caplog):
    sound = tone(10.0) / 6
    sound[7 * 48000:] *= 6  # loud from 7 s
    path = write_media(tmp_path / "hit.mkv", sound, 48000, "aac")
    hit_s = damage(path, "audio", at_s=5.0)[0]
    assert undecodable_s(path, "audio") == [hit_s]  # the file really holds one packet that does not decode
    with caplog.at_level(logging.WARNING):
        decoded = read_audio(path)  # was: "corrupt audio stream", and nothing of the file
    assert decoded.size == pytest.approx(160000, abs=160)
    assert _loud_from_s(decoded) == pytest.approx(7.0, abs=0.01)
    lost = decoded[int((hit_s + 0.002) * 16000):][:250]  # the packet's 21 ms, less the resampler's smear
    assert np.abs(lost).max() < 1e-3
    assert len(caplog.records) == 1
    assert caplog.records[0].getMessage().startswith(f"{path}: skipped a corrupt audio packet near 5.0 s (")


def test_a_run_of_corrupt_audio_packets_is_said_by_the_decoder_alone_and_told_as_missing(tmp_path, caplog):
    path = write_media(tmp_path / "hit.mkv", tone(6.0), 48000, "aac")
    hit_s = [damage(path, "audio", at_s=t_s)[0] for t_s in np.arange(3.0, 3.5, 1024 / 48000)]
    missing = []
    with caplog.at_level(logging.WARNING):
        read_audio(path, missing=missing.append)
    assert missing and missing[0][0] == pytest.approx(hit_s[0], abs=0.03) and missing[0][1] >= hit_s[-1]
    assert f"{path}: skipped {len(set(hit_s))} corrupt audio packets in all" in caplog.messages
    assert not [line for line in caplog.messages if "no audio" in line]  # was: said again as audio lost


def test_a_file_corrupt_throughout_is_one_clear_error_after_a_few_lines(tmp_path, caplog):
    path = write_media(tmp_path / "ruined.mkv", tone(30.0), 48000, "aac", "libx264", video_s=30.0)
    for kind in ("audio", "video"):
        damaged = damage(path, kind)
        assert len(undecodable_s(path, kind)) > 0.9 * len(damaged)
    with caplog.at_level(logging.WARNING):
        with pytest.raises(InputError, match=r"ruined.mkv: no video could be decoded; all \d+ packets are corrupt"):
            list(FileVideoSource(path).frames())  # was: no frame and no error
        with pytest.raises(InputError, match=r"ruined.mkv: no audio could be decoded; all \d+ packets are corrupt"):
            read_audio(path)
    for kind in ("audio", "video"):  # a line for the 1st, 10th, 100th... corrupt packet, not one each
        assert 1 <= sum(f" {kind} " in r.getMessage() for r in caplog.records) <= 4


@pytest.mark.parametrize(("name", "audio_codec"), [("cut.mkv", "aac"), ("cut.flac", "flac")])
def test_an_audio_file_cut_short_is_said_and_what_it_holds_is_kept(tmp_path, caplog, name, audio_codec):
    path = write_media(tmp_path / name, tone(10.0), 48000, audio_codec)
    with caplog.at_level(logging.WARNING):
        whole = read_audio(path)
    assert not caplog.records  # the whole file: nothing to say
    cut_short(path, 0.5)
    with caplog.at_level(logging.WARNING):
        kept = read_audio(path)  # was: no word of it (Matroska), "corrupt audio stream" and nothing kept (FLAC)
    assert 4.0 < kept.size / 16000 < 6.0
    assert np.array_equal(kept[:-1000], whole[:kept.size - 1000])  # the resampler's flush aside
    said = rf"{re.escape(str(path))}: cut short: the audio ends at \d\.\d s of the 10\.0 s the file declares"
    assert re.fullmatch(said, caplog.records[-1].getMessage())
    assert len(caplog.records) <= 2  # FLAC's last, partial, packet is also said to be corrupt
    told: list[str] = []
    read_audio(path, ended_early=told.append)
    assert told == [caplog.records[-1].getMessage().removeprefix(f"{path}: ")]  # for the track to say it


def test_a_whole_audio_file_is_not_said_to_end_early(tmp_path):
    told: list[str] = []
    read_audio(write_media(tmp_path / "whole.mkv", tone(3.0), 48000, "aac"), ended_early=told.append)
    assert told == []


def test_a_wav_whose_header_declares_more_than_it_holds_is_said_to_be_cut_short(tmp_path, caplog):
    whole = wav_bytes(np.zeros(16000 * 40, dtype=np.float32), 16000)
    (tmp_path / "cut.wav").write_bytes(whole[:len(whole) // 2])  # a recorder that lost power half-way
    told = []
    with caplog.at_level("WARNING"):
        read_audio(tmp_path / "cut.wav", ended_early=told.append)
    # was: read as a whole 20 s recording (FFmpeg gives a WAV the length of its bytes)
    assert told == ["cut short: the audio ends at 20.0 s of the 40.0 s the file declares"]
    for placeholder in (0xFFFFFFFF, 0x7FFFFFFF):  # a streaming writer's data size (arecord's the second): unknown
        streamed = bytearray(whole)
        streamed[40:44] = placeholder.to_bytes(4, "little")
        (tmp_path / "streamed.wav").write_bytes(bytes(streamed))
        told.clear()
        read_audio(tmp_path / "streamed.wav", ended_early=told.append)
        assert told == []


@pytest.mark.parametrize(("wav_format", "subtype"), [("WAVEX", "PCM_24"), ("WAVEX", "FLOAT"), ("WAV", "FLOAT")])
def test_an_extensible_or_float_wav_cut_short_is_said_as_a_pcm_one_is(tmp_path, wav_format, subtype):
    import soundfile

    whole = tmp_path / "whole.wav"  # WAVEX: WAVE_FORMAT_EXTENSIBLE, as recorders of 24 bits or more channels write
    soundfile.write(whole, np.zeros((48000 * 10, 2), dtype=np.float32), 48000, format=wav_format, subtype=subtype)
    told: list[str] = []
    read_audio(whole, ended_early=told.append)
    assert told == []
    data = whole.read_bytes()
    (tmp_path / "cut.wav").write_bytes(data[:len(data) // 2])
    read_audio(tmp_path / "cut.wav", ended_early=told.append)
    # was: read as a whole 5 s recording without a word (the standard library's wave reads neither before 3.12)
    assert told == ["cut short: the audio ends at 5.0 s of the 10.0 s the file declares"]


def test_a_big_endian_rifx_wav_is_not_measured_as_a_little_endian_one(tmp_path):
    from runtime.media import wav_frames

    whole = wav_bytes(np.zeros(16000, dtype=np.float32), 16000)
    (tmp_path / "le.wav").write_bytes(whole)
    (tmp_path / "be.wav").write_bytes(b"RIFX" + whole[4:])  # its sizes would read byte-swapped: not read at all
    assert wav_frames(tmp_path / "le.wav") == (16000, 16000, 16000)
    assert wav_frames(tmp_path / "be.wav") is None


def test_a_transport_streams_clock_starts_at_its_first_stamp(tmp_path):
    from runtime.sources.video import FileVideoSource
    from tests.arms.face.video_factory import write_video

    sound = np.zeros(160000, dtype=np.float32)
    sound[80000:96000] = 0.3  # from 5 s into the stream, whose stamps start an hour in (a camera's clock)
    recording = write_media(tmp_path / "camera.ts", sound, 16000, "mp2", audio_start_s=3600.0)
    decoded = read_audio(recording)
    # was: an hour of silence first (57.6 million samples), and a live replay waited an hour for its first frame
    assert decoded.size / 16000 == pytest.approx(10.0, abs=0.1) and _loud_from_s(decoded) == pytest.approx(5.0, abs=0.1)
    assert probe(recording).end_s == pytest.approx(10.0, abs=0.1)
    video = write_video(tmp_path / "camera-video.ts", 2.0, fps=10, codec="mpeg4")  # the muxer starts it at 1.4 s
    assert [f.t_s for f in FileVideoSource(video, sample_fps=5.0).frames()][:2] == pytest.approx([0.0, 0.2], abs=0.01)


@pytest.mark.parametrize(("name", "start_s", "said"), [("late.mkv", 100.0, True), ("late.webm", 100.0, True),
                                                      ("start.mkv", 0.0, False), ("camera.ts", 3600.0, False)])
def test_a_file_whose_stamps_all_start_late_says_the_timeline_keeps_its_own_clock(tmp_path, caplog, name, start_s,
                                                                                    said):
    codec = "libopus" if name.endswith(".webm") else "mp2" if name.endswith(".ts") else "pcm_s16le"
    path = write_media(tmp_path / name, tone(1.0, 48000), 48000, codec, audio_start_s=start_s)
    with caplog.at_level("WARNING"):
        probe(path)
    # was: nothing said, the sound a player shows at 0:10 placed at 110 s; a transport stream's clock starts at
    # its first stamp (a camera's clock), so there is nothing to say
    line = (f"{path}: its timestamps start at 100.0 s, not 0: the timeline keeps the file's own clock, so what a "
            "player starting at its first stamp shows at 0:10 is at 110.0 s here")
    assert caplog.messages == ([line] if said else [])


def test_audio_whose_rate_and_channels_change_mid_stream_is_read_through_at_one_level(tmp_path):
    # A video call's recording: 3 s of 16 kHz mono, then 3 s of 48 kHz stereo (MPEG-TS segments play on when joined).
    first = write_media(tmp_path / "a.ts", tone(3.0, 16000), 16000, "mp2")
    then = write_media(tmp_path / "b.ts", np.stack([tone(3.0, 48000)] * 2, axis=1), 48000, "mp2", audio_start_s=3.0)
    recording = tmp_path / "call.ts"
    recording.write_bytes(first.read_bytes() + then.read_bytes())
    decoded = read_audio(recording)  # was: an internal error (PyAV's resampler refuses a frame unlike its first)
    assert decoded.size / 16000 == pytest.approx(6.0, abs=0.1)
    rms = [float(np.sqrt(np.mean(decoded[s * 16000:(s + 1) * 16000] ** 2))) for s in (1, 4)]
    assert rms == pytest.approx([0.3 / np.sqrt(2)] * 2, rel=0.05)  # the stereo half averaged, not summed


def joined_recordings(tmp_path: Path, video_s: float) -> Path:
    """Two copies of one MPEG-TS recording (``video_s`` of picture at 10 fps, 3 s of sound loud for its first second)
    joined by their bytes, as a recorder that starts a file again does: the second one's stamps start again."""
    sound = np.zeros(48000, dtype=np.float32)
    sound[:16000] = 0.3
    part = write_media(tmp_path / "part.ts", sound, 16000, "mp2", video_codec="mpeg4", video_s=video_s).read_bytes()
    joined = tmp_path / "joined.ts"
    joined.write_bytes(part + part)
    return joined


def test_recordings_joined_end_to_end_are_read_one_after_the_other_sound_and_picture_together(tmp_path, caplog):
    # Each MPEG-TS recording's stamps start again: joined by their bytes, the second one's stamps go back. Here
    # each holds 2 s of picture and 3 s of sound, loud for its first second.
    joined = joined_recordings(tmp_path, video_s=2.0)
    with caplog.at_level(logging.WARNING):
        times = [f.t_s for f in FileVideoSource(joined, sample_fps=10.0).frames()]
        decoded = read_audio(joined)
    # was: the second picture dropped as late (the video ended at 2 s) while its sound ran on
    second_picture_s = times[int(np.argmax(np.diff(times))) + 1]
    loud = np.flatnonzero(np.abs(decoded) > 0.1) / 16000
    second_sound_s = loud[np.argmax(np.diff(loud)) + 1]
    assert decoded.size / 16000 == pytest.approx(6.0, abs=0.1) and np.all(np.diff(times) > 0)
    # one shift for both streams: each picture starts with its own sound, at 3 s (a shift of its own put it at 2 s)
    assert second_sound_s == pytest.approx(3.0, abs=0.1) and second_picture_s == pytest.approx(3.0, abs=0.15)
    assert len(re.findall(r"joined\.ts: the video's timestamps go back", caplog.text)) == 1
    assert len(re.findall(r"joined\.ts: the audio's timestamps go back", caplog.text)) == 1


def test_a_stream_shorter_than_a_second_before_a_joint_passes_it_with_the_others(tmp_path):
    # 3 s of picture and 0.9 s of sound a recording: the sound's stamps go back under a second at the joint
    part = write_media(tmp_path / "part.ts", tone(0.9, 16000), 16000, "mp2", video_codec="mpeg4",
                       video_s=3.0).read_bytes()
    joined = tmp_path / "joined.ts"
    joined.write_bytes(part + part)
    times = [f.t_s for f in FileVideoSource(joined, sample_fps=10.0).frames()]
    decoded = read_audio(joined)
    loud = np.flatnonzero(np.abs(decoded) > 0.1) / 16000
    second_sound_s = loud[np.argmax(np.diff(loud)) + 1]
    # was: the second sound at 0.9 s, right after the first, 2 s before its picture (which ran on to 6 s)
    assert len(times) >= 59 and times[-1] == pytest.approx(5.95, abs=0.1) and np.all(np.diff(times) > 0)
    assert second_sound_s == pytest.approx(3.0, abs=0.15)
    # the second sound ends at 3.9 s, its picture at 6 s: the rest is missing, filled (_missing_after_the_end)
    assert decoded.size / 16000 == pytest.approx(6.0, abs=0.1) and not decoded[int(4.0 * 16000):].any()


def test_a_matroska_with_b_frames_cut_a_little_short_is_said_to_be_cut_short(tmp_path, caplog):
    # Matroska stores presentation stamps alone: the first packets of an H.264 stream with B-frames, before the
    # demuxer guesses decode stamps, go 0.0, 0.4 s, then 0.0 s again. That reordering was taken for a joint and every
    # later packet placed 0.5 s on, so a file cut 1.3 s before its declared end (over CUT_SHORT_S) passed as whole.
    path = write_media(tmp_path / "b.mkv", None, video_codec="libx264", video_s=10.0, fps=10)
    with av.open(str(path)) as container:
        packets = [(p.pts * p.time_base, p.dts, p.pos) for p in container.demux() if p.size]
    assert packets[1][1] is None and packets[2][1] is not None and packets[2][0] < packets[1][0]  # the case itself
    cut_byte = next(pos for pts_s, _, pos in packets if pts_s >= 8.7)
    cut_short(path, cut_byte / path.stat().st_size)
    with caplog.at_level(logging.WARNING):
        source = FileVideoSource(path, sample_fps=10.0)
        times = [frame.t_s for frame in source.frames()]
    assert times[-1] < 8.7 and "go back" not in caplog.text
    assert re.fullmatch(r"cut short: the video ends at 8\.\d s of the 10\.0 s the file declares",
                        source.stats.stopped_reason)


def test_recordings_with_b_frames_joined_end_to_end_are_still_found(tmp_path, caplog):
    # Reordered video (B-frames) in each recording of a joined transport stream: the joint is found where the
    # stamps restart, each reordering is not.
    part = write_media(tmp_path / "part.ts", tone(3.0, 16000), 16000, "mp2", video_codec="libx264", video_s=3.0,
                       gop=10, b_frames=2).read_bytes()
    joined = tmp_path / "joined.ts"
    joined.write_bytes(part + part)
    with caplog.at_level(logging.WARNING):
        times = [f.t_s for f in FileVideoSource(joined, sample_fps=10.0).frames()]
        decoded = read_audio(joined)
    # the second recording right after the first, a frame period on, its sound with it (was: two frame periods
    # later, placed by its first decode stamp, which leads its picture by the reordering, and its sound after a
    # hole said as lost, 'no audio for 0.2 s, filled with silence')
    assert len(times) == 60 and np.all(np.diff(times) > 0)
    assert times[30] - times[29] == pytest.approx(0.1, abs=0.02)
    assert decoded.size / 16000 == pytest.approx(6.0, abs=0.05) and "no audio for" not in caplog.text
    assert len(re.findall(r"joined\.ts: the video's timestamps go back", caplog.text)) == 1
    assert len(re.findall(r"joined\.ts: the audio's timestamps go back", caplog.text)) == 1


def test_recordings_of_under_sixteen_frames_joined_end_to_end_are_read_whole(tmp_path, caplog):
    # 12 frames (1.2 s at 10 fps) and 3 s of sound a recording: real decode stamps, so the joint is the first step
    # back, not one below the lowest of the last 16 packets (the whole first recording's)
    joined = joined_recordings(tmp_path, video_s=1.2)
    with caplog.at_level(logging.WARNING):
        times = [f.t_s for f in FileVideoSource(joined, sample_fps=10.0).frames()]
    single = len(list(FileVideoSource(tmp_path / "part.ts", sample_fps=10.0).frames()))
    # was: a frame of the second recording dropped as decoded from damaged data
    assert len(times) == 2 * single and np.all(np.diff(times) > 0) and "damaged" not in caplog.text
    assert times[single] == pytest.approx(3.0, abs=0.15)  # after the first recording's sound, with its own


def test_a_pause_in_a_transport_streams_picture_is_no_joint(tmp_path, caplog):
    from tests.arms.face.video_factory import write_video

    # MPEG-TS frames say no duration: a 3 s pause was taken for the length of a frame, and each next one for a joint
    frame_times_s = [i / 10 for i in range(20)] + [5.0 + i / 10 for i in range(20)]
    video = write_video(tmp_path / "pause.ts", 0, frame_times_s=frame_times_s, codec="libx264")
    with caplog.at_level(logging.WARNING):
        times = [f.t_s for f in FileVideoSource(video, sample_fps=5.0).frames()]
    assert times[-1] == pytest.approx(6.8, abs=0.15) and "go back" not in caplog.text


def test_an_audio_files_cover_picture_is_not_taken_for_a_video(tmp_path):
    from tests.media_factory import with_cover_art

    song = with_cover_art(tmp_path / "song.mp3", tone(2.0, 16000))
    assert probe(song).has_audio and not probe(song).has_video  # was: a video of one frame for the face and body
    with pytest.raises(InputError, match="song.mp3: has no video stream"):
        list(FileVideoSource(song).frames())
    assert read_audio(song).size / 16000 == pytest.approx(2.0, abs=0.1)


def test_audio_stamped_hours_late_is_said_to_be_damaged_not_filled_with_hours_of_silence(tmp_path):
    late = write_media(tmp_path / "late.mkv", tone(1.0, 16000), 16000, "libopus", audio_start_s=7 * 3600.0)
    with pytest.raises(InputError, match=r"late\.mkv: its audio's timestamps jump 25200 s forward at 0\.0 s"):
        read_audio(late)  # was: 7 h of silence made first (1.6 GB at 16 kHz; a wrapped stamp: an OverflowError)


def _two_microphones(path):
    """Stream 1 silent, stream 2 a 440 Hz tone: the voice recorded on the second microphone's stream."""
    return write_audio_streams(path, [np.zeros(48000 * 3, dtype=np.float32), tone(3.0, frequency_hz=440.0)])


def test_the_audio_stream_asked_for_is_the_one_read_and_probed(tmp_path):
    path = _two_microphones(tmp_path / "two.m4a")
    first, second = read_audio(path), read_audio(path, audio_stream=2)
    assert np.abs(first).max() < 1e-3  # the silent microphone
    assert np.abs(second).max() > 0.2  # was: the first stream whatever was asked
    spectrum = np.abs(np.fft.rfft(second[8000:40000]))
    assert np.argmax(spectrum) / (32000 / 16000) == pytest.approx(440.0, abs=2.0)
    assert probe(path).audio_streams == 2 and probe(path, 2).has_audio
    with pytest.raises(InputError, match="has 2 audio stream\\(s\\), no stream 3"):
        read_audio(path, audio_stream=3)


def test_extract_audio_writes_the_stream_asked_for_and_says_the_file_has_others(tmp_path, caplog):
    path = _two_microphones(tmp_path / "two.m4a")
    with caplog.at_level(logging.WARNING, logger="emotrace"):
        assert main(["extract-audio", str(path), "-o", str(tmp_path / "second.wav"), "--audio-stream", "2"]) == 0
    samples, _ = soundfile.read(tmp_path / "second.wav")
    assert np.abs(samples).max() > 0.2
    assert "2 audio streams; the voice is read from stream 2 only" in caplog.text


def test_an_amr_call_s_length_is_where_its_audio_ends_not_ffmpeg_s_guess_from_the_bitrate(ravdess_dir, tmp_path):
    from scipy.signal import resample_poly

    if "libopencore_amrnb" not in av.codecs_available:  # the dev extra keeps a PyAV that has it
        pytest.skip(f"PyAV {av.__version__} has no AMR-NB encoder to make the call with")
    clips = [read_audio(c) for c in sorted((ravdess_dir / "Actor_03").glob("*.flac"))[:3]]
    speech = np.concatenate([np.concatenate([np.zeros(4 * 16000, dtype=np.float32), clip]) for clip in clips])
    path = write_media(tmp_path / "call.amr", resample_poly(speech, 1, 2).astype(np.float32), sample_rate_hz=8000,
                       audio_codec="libopencore_amrnb", audio_bit_rate=12200)  # pauses coded smaller than speech
    audio_s = read_audio(path).size / 16000
    assert main(["analyze", str(path), "--out", str(tmp_path / "out")]) == 0
    duration_s = json.loads((tmp_path / "out" / "timeline.json").read_text())["input"]["duration_s"]
    assert duration_s == pytest.approx(audio_s, abs=0.05)  # was: about 3 % longer (the bitrate's guess)


@pytest.mark.parametrize(("name", "channels", "peak"), [
    ("the same on both sides", lambda x: np.stack([x, x], axis=1), 0.3),
    ("one microphone of two speaking", lambda x: np.stack([x, np.zeros_like(x)], axis=1), 0.15),  # mixed, as ever
    ("one side wired the other way round", lambda x: np.stack([x, -x], axis=1), 0.3),  # was: silence
    ("5.1 with the voice in the centre", lambda x: np.stack([np.zeros_like(x)] * 2 + [x] + [np.zeros_like(x)] * 3,
                                                            axis=1), 0.3),  # was: 0.05, six channels averaged
])
def test_channels_become_mono_without_losing_a_sound_the_mix_would_cancel_or_bury(tmp_path, name, channels, peak):
    samples = channels(tone(2.0, sample_rate_hz=16000))
    path = write_media(tmp_path / "multi.wav", samples.astype(np.float32), sample_rate_hz=16000,
                       audio_codec="pcm_s16le")
    mono = read_audio(path)
    assert np.abs(mono).max() == pytest.approx(peak, rel=0.02), name


def test_a_stream_whose_channel_mean_cancels_is_read_from_one_channel_throughout_its_pauses_too(tmp_path):
    rate_hz = 16000
    t_s = np.arange(12 * rate_hz) / rate_hz
    voice = 0.3 * np.sin(2 * np.pi * 220 * t_s) * (np.sin(2 * np.pi * t_s / 2.0) > 0)  # 1 s bursts, 1 s pauses
    noise = np.random.default_rng(0).normal(0.0, 0.01, (t_s.size, 2))  # each microphone's own hiss
    stereo = np.stack([voice, -voice], axis=1) + noise  # one side wired the other way round
    mono = read_audio(write_media(tmp_path / "inverted.wav", stereo.astype(np.float32), sample_rate_hz=rate_hz,
                                  audio_codec="pcm_s16le"))
    settled = slice(4 * rate_hz, None)  # after three seconds of sound
    # the left channel, pauses included; was: the mean in every pause (the hiss halved), the left side in bursts
    assert np.abs(mono[settled] - stereo[settled, 0]).max() < 1e-3


def test_a_voice_that_cancels_in_the_mean_after_seconds_of_room_noise_is_still_heard(tmp_path):
    rate_hz = 16000
    t_s = np.arange(14 * rate_hz) / rate_hz
    voice = 0.3 * np.sin(2 * np.pi * 220 * t_s) * (t_s >= 10.0)  # ten seconds of the room's hiss first
    noise = np.random.default_rng(1).normal(0.0, 0.01, (t_s.size, 2))
    stereo = np.stack([voice, -voice], axis=1) + noise  # one side wired the other way round
    mono = read_audio(write_media(tmp_path / "late.wav", stereo.astype(np.float32), sample_rate_hz=rate_hz,
                                  audio_codec="pcm_s16le"))
    voice_rms = np.sqrt(np.mean(mono[11 * rate_hz:] ** 2))
    assert voice_rms > 0.15  # was: 0.007, the mean settled on during the hiss, the voice cancelled for good


def test_a_downmix_starts_its_choice_afresh_when_a_stream_goes_mono_and_back():
    from runtime.media import MonoDownmix

    def frames(samples: np.ndarray):  # (n, channels) in 0.1 s frames, as the resampler gives them
        layout = {1: "mono", 2: "stereo"}[samples.shape[1]]
        for start in range(0, len(samples), 1600):
            block = np.ascontiguousarray(samples[start:start + 1600], dtype=np.float32)
            frame = av.AudioFrame.from_ndarray(block.reshape(1, -1), format="flt", layout=layout)
            frame.sample_rate = 16000
            yield frame

    voice = tone(4.0, sample_rate_hz=16000)
    mono = MonoDownmix()
    for part in (np.stack([voice, voice], axis=1), voice[:, None]):  # a call's stereo, then mono for a while
        for frame in frames(part):
            mono(frame)
    heard = np.concatenate([mono(frame) for frame in frames(np.stack([voice, -voice], axis=1))])
    assert np.sqrt(np.mean(heard[16000:] ** 2)) > 0.15  # was: the stereo's sums kept through the mono, cancelled


def test_a_channel_chosen_for_a_cancelling_voice_is_kept_through_a_long_stretch_of_room_noise(tmp_path):
    rate_hz = 16000
    t_s = np.arange(45 * rate_hz) / rate_hz
    voice = 0.3 * np.sin(2 * np.pi * 220 * t_s) * ((t_s < 5.0) | (t_s >= 40.0))  # speech, 35 s of a loud room, speech
    noise = np.random.default_rng(2).normal(0.0, 0.05, (t_s.size, 2))
    stereo = np.stack([voice, -voice], axis=1) + noise  # one side wired the other way round
    mono = read_audio(write_media(tmp_path / "long.wav", stereo.astype(np.float32), sample_rate_hz=rate_hz,
                                  audio_codec="pcm_s16le"))
    # the left channel still, not the mean the room's noise alone would have drifted back to (the voice cancelled)
    assert np.sqrt(np.mean(mono[41 * rate_hz:] ** 2)) > 0.15


def test_a_video_cut_short_is_said_to_end_where_its_frames_were_decoded_to(tmp_path):
    from runtime.media import StreamDecoder, picture_stream

    path = cut_short(write_media(tmp_path / "cut.mkv", tone(8.0, 16000), 16000, "aac", video_codec="libx264",
                                 video_s=8.0), 0.5)
    with av.open(str(path)) as container:
        decoder = StreamDecoder(path, container, picture_stream(container))
        end_s = max(decoder.time_s(frame) + float(frame.duration * frame.time_base) for frame in decoder.frames())
    # was: where its packets were placed to (4.7 s here, 0.5 s past the last frame any reader of it gets)
    assert re.fullmatch(rf"cut short: the video ends at {end_s:.1f} s of the \d\.\d s the file declares",
                        decoder.stopped_reason)


@pytest.mark.parametrize("lost_s", [(1.0, 1.15), (2.0, 2.12)])
def test_a_hole_of_a_little_over_a_tenth_of_a_second_is_told_and_said_as_audio_missing(tmp_path, caplog, lost_s):
    # MISSING_AUDIO_S (0.1 s) or longer is audio missing, not "packets lost in holes under 0.1 s"
    path = write_media(tmp_path / "hole.mkv", _bursts(48000, 3.0, (2.5,)), 48000, "pcm_s16le", lost_s=lost_s)
    missing = []
    with caplog.at_level("WARNING"):
        decoded = read_audio(path, missing=missing.append)
    assert missing == [pytest.approx(lost_s, abs=0.025)]  # to the frame (1024 samples at 48 kHz: 21 ms)
    assert _onsets_s(decoded) == pytest.approx([2.5], abs=0.01)
    assert len(caplog.messages) == 1 and "lost at" in caplog.messages[0] and "under 0.1 s" not in caplog.messages[0]



def test_audio_starting_a_tenth_of_a_second_late_is_told_as_missing(tmp_path):
    # the late start's silence is MISSING_AUDIO_S long: "this long or longer is audio missing"
    path = write_media(tmp_path / "late.mkv", _bursts(16000, 2.0, (1.0,)), 16000, "pcm_s16le", audio_start_s=0.1)
    missing = []
    decoded = read_audio(path, missing=missing.append)
    assert missing == [(0.0, 0.1)]
    assert _onsets_s(decoded) == pytest.approx([1.1], abs=0.005)


def test_audio_running_past_six_hours_on_the_files_clock_is_read_not_taken_for_a_damaged_stamp(tmp_path):
    from runtime.media import MAX_SILENCE_S, iter_audio

    # a recording cut from a long session, its stamps kept: it starts a second before MAX_SILENCE_S and runs on
    # past it; only a jump of that much from the sound before it is a damaged stamp
    path = write_media(tmp_path / "long.mkv", tone(3.0, 8000), 8000, "pcm_s16le", audio_start_s=MAX_SILENCE_S - 1.0)
    rate_hz = 1000  # the hours of silence before it at a low rate: 86 MB, not 1.4 GB at 16 kHz
    read = sum(block.size for block in iter_audio(path, rate_hz, alone=True))
    assert read / rate_hz == pytest.approx(MAX_SILENCE_S + 2.0, abs=0.01)


def test_silence_standing_for_lost_unsigned_8_bit_audio_is_silent_not_full_scale(tmp_path):
    # unsigned 8-bit PCM is silent at 128: zero bytes in the hole would be a full-scale step of -1.0
    path = write_media(tmp_path / "u8.mkv", np.full(48000, 0.25), 16000, "pcm_u8", lost_s=(1.0, 1.5))
    decoded = read_audio(path)
    assert decoded.size == 48000
    assert np.abs(decoded[16384 + 160:24576 - 160]).max() < 1e-3  # the hole (frames of 1024), past the resampler's
    assert decoded[8000] == pytest.approx(0.25, abs=0.01) and decoded[32000] == pytest.approx(0.25, abs=0.01)


def test_a_float_source_beyond_full_scale_is_not_said_to_be_clipped_at_the_microphone(tmp_path, caplog):
    # resampled from 48 kHz, as the 16-bit source's overshoot is, but a float file holds what lies beyond full
    # scale itself: no microphone clipped it
    hot = (tone(1.0, 48000) / 0.3 * 1.5).astype(np.float32)  # peaks at +3.5 dBFS
    source = tmp_path / "hot48.wav"
    soundfile.write(source, hot, 48000, subtype="FLOAT")
    extract_audio(source, tmp_path / "out.wav")
    said = [line for line in caplog.messages if "beyond full scale" in line]
    assert len(said) == 1
    assert said[0].endswith("after resampling from 48000 Hz: clipped to full scale in the 16-bit WAV")


def test_a_planar_integer_source_overshooting_only_when_resampled_is_said_to_reach_full_scale(tmp_path, caplog):
    # ALAC decodes to planar integers (s32p): as a 16-bit WAV's, its samples hold nothing beyond full scale
    clipped = np.clip(tone(1.0, 44100).astype(np.float64) * 10, -1.0, 1.0)  # flat tops, as a clipped voice has
    source = write_media(tmp_path / "clipped.m4a", clipped, 44100, "alac")
    assert probe(source).audio_sample_format == "s32p"
    extract_audio(source, tmp_path / "out.wav")
    said = [line for line in caplog.messages if "beyond full scale" in line]
    assert len(said) == 1 and said[0].endswith("after resampling from 44100 Hz: clipped to full scale in the 16-bit "
                                               "WAV; the source reaches full scale or near it: clipped at the "
                                               "microphone?")


@pytest.mark.parametrize(("start_s", "said"), [(0.5, False), (1.0, True)])
def test_stamps_starting_under_a_second_late_are_not_said_and_from_a_second_on_are(tmp_path, caplog, start_s, said):
    # LATE_FIRST_STAMP_S: a phone's half second is no clock a player's differs from by anything worth a line
    path = write_media(tmp_path / "late.mkv", tone(2.0, 16000), 16000, "pcm_s16le", audio_start_s=start_s)
    with caplog.at_level("WARNING"):
        probe(path)
    assert [line.split(": ")[1] for line in caplog.messages] == (
        [f"its timestamps start at {start_s:.1f} s, not 0"] if said else [])


def test_a_header_declaring_just_under_a_thousand_samples_a_second_is_refused_and_a_thousand_read(tmp_path):
    too_low = patched(write_wav(tmp_path / "low.wav", tone(0.5, 16000), 16000), 24, (999).to_bytes(4, "little"))
    assert probe(too_low).audio_problem == "its audio declares 999 samples a second, under 1000: a damaged header"
    lowest = write_wav(tmp_path / "lowest.wav", tone(1.0, 1000, frequency_hz=100.0), 1000)
    assert probe(lowest).audio_problem == ""
    assert read_audio(lowest).size == 16000  # one second, at the rate read


def test_a_short_cancelling_sound_does_not_fix_the_channel_a_later_one_sided_voice_is_lost_from(tmp_path):
    # half a second of a sound wired the other way round on one side (it cancels in the mean), then a voice
    # on the right channel alone: the choice of channel is open for DOWNMIX_SETTLE_S of sound
    noise = np.random.default_rng(0).uniform(-0.3, 0.3, 24000).astype(np.float32)
    left = np.concatenate([noise, np.zeros(4 * 48000, np.float32)])
    right = np.concatenate([-noise, tone(4.0, 48000)])
    mono = read_audio(write_media(tmp_path / "st.mkv", np.stack([left, right], axis=1), 48000, "pcm_s16le"))
    assert np.sqrt(np.mean(mono[16000:] ** 2)) > 0.05  # was silence: the left channel kept after the first block


def test_stamps_set_back_a_quarter_second_or_more_drop_the_overlap_at_once_not_frames_later(tmp_path, caplog):
    # mp2 at 16 kHz: 72 ms frames, so a step back of 0.28 s from where the samples end is under STAMPS_BACK_S
    # from the last frame's own stamp: no joint, the overlap dropped (STAMPS_BACK_S or more: at once)
    one = write_media(tmp_path / "one.ts", _bursts(16000, 8.0, (0.5, 7.5)), 16000, "mp2").read_bytes()
    two = write_media(tmp_path / "two.ts", _bursts(16000, 4.0, (0.4, 2.0)), 16000, "mp2", audio_start_s=7.78)
    path = tmp_path / "joined.ts"
    path.write_bytes(one + two.read_bytes())
    with caplog.at_level("WARNING"):
        onsets_s = _onsets_s(read_audio(path))
    assert len(onsets_s) == 4
    # the second recording's sound 1.6 s apart, as stamped (was 1.44 s: its first burst 0.17 s late, placed after
    # the overlap for the frames the stamps' median took to follow)
    assert onsets_s[3] - onsets_s[2] == pytest.approx(1.6, abs=0.01)
    assert len(caplog.messages) == 1 and re.match(r".*: its audio's timestamps step back 0\.\d\d s at 8\.\d s",
                                                 caplog.messages[0])


def test_a_wav_cut_short_behind_a_chunk_of_odd_length_is_still_said_to_be_cut_short(tmp_path):
    # a recorder's INFO list of odd length before the sound: RIFF pads each chunk to an even length
    whole = wav_bytes(np.zeros(16000 * 4, dtype=np.float32), 16000)  # 44 bytes: RIFF, fmt (16 bytes), data
    info = b"LIST" + (5).to_bytes(4, "little") + b"INFO1" + b"\x00"
    tagged = bytearray(whole[:36] + info + whole[36:])
    tagged[4:8] = (len(tagged) - 8).to_bytes(4, "little")
    (tmp_path / "cut.wav").write_bytes(bytes(tagged[:len(tagged) // 2]))  # power lost half-way
    told = []
    read_audio(tmp_path / "cut.wav", ended_early=told.append)
    assert told == ["cut short: the audio ends at 2.0 s of the 4.0 s the file declares"]
