"""Rebuild examples/session.mp4: a 40-second stand-in for a recorded session, made only from free material.

Picture: scikit-image's public-domain astronaut photograph, drifting and zooming slowly (zoom 1.0-1.15, the crop
always inside the photograph), with the face out of the frame only at 24-28 s (a grey frame). Sound: sentences
spoken by espeak-ng (apt-get install espeak-ng) at several pitches and speeds, with pauses between them. It shows
the pipeline working end to end; a synthetic voice carries little real emotion, so its spectrum says nothing about
a person.

The bundled session.mp4 was rebuilt by this script on 2026-12-06, when the picture was fixed (until then the zoom
fell below 1 and the frames of most of 10-20 s and 30-40 s showed a stretched strip, no face). Its sound, made
again with espeak-ng 1.51 (Debian 12) and PyAV 18.1.0, came out the same as the earlier file's, packet for packet
(and so sample for sample), so the voice figures measured on the earlier file hold for this one. Another
espeak-ng or encoder may speak or encode differently.

    python examples/make_example.py examples/session.mp4
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from skimage.data import astronaut
from skimage.transform import resize

SENTENCES = [
    ("I have been sleeping badly for the last few weeks.", 40, 140),
    ("Work has been a lot, honestly, and I keep thinking about it at night.", 35, 150),
    ("But on the weekend we went to the sea, and that was really lovely!", 70, 175),
    ("I don't know. Sometimes I just feel tired of everything.", 25, 120),
    ("It makes me so angry when they don't listen to me.", 60, 185),
    ("Okay. I think that is all for today.", 45, 150),
]
RATE_HZ = 16000
FPS = 10
SIZE = (240, 320)  # height, width
DURATION_S = 40.0


def espeak_ng() -> str:
    """The espeak-ng program that speaks the sentences; without it, one line saying how to install it, exit 1."""
    program = shutil.which("espeak-ng")
    if program is None:
        raise SystemExit("make_example: espeak-ng not found: it speaks the example's sentences "
                         "(apt-get install espeak-ng)")
    return program


def speech_track(program: str = "espeak-ng") -> np.ndarray:
    samples = [np.zeros(int(1.5 * RATE_HZ), dtype=np.float32)]
    with tempfile.TemporaryDirectory() as tmp:
        for i, (text, pitch, words_per_min) in enumerate(SENTENCES):
            wav = Path(tmp) / f"{i}.wav"
            subprocess.run([program, "-v", "en-us", "-p", str(pitch), "-s", str(words_per_min),
                            "-w", str(wav), text], check=True)
            with av.open(str(wav)) as container:
                resampler = av.AudioResampler(format="flt", layout="mono", rate=RATE_HZ)
                for frame in container.decode(audio=0):
                    for out in resampler.resample(frame):
                        samples.append(out.to_ndarray().reshape(-1))
            samples.append(np.zeros(int(2.0 * RATE_HZ), dtype=np.float32))
    audio = np.concatenate(samples)
    total = int(DURATION_S * RATE_HZ)
    return np.pad(audio, (0, max(0, total - audio.size)))[:total] * 0.8


def square_resize(patch: np.ndarray, side_px: int) -> np.ndarray:
    return resize(patch, (side_px, side_px), preserve_range=True, anti_aliasing=True).astype(np.uint8)


def picture(t_s: float, image: np.ndarray, size: tuple[int, int] = SIZE,
            resize_square: Callable[[np.ndarray, int], np.ndarray] = square_resize) -> np.ndarray:
    """The frame at ``t_s``: ``image`` panning and zooming, centred in a grey (height, width) ``size`` frame."""
    height, width = size
    if 24.0 <= t_s < 28.0:  # the face leaves the frame for a while
        return np.full((height, width, 3), 40, dtype=np.uint8)
    # zoom 1.0-1.15: never below 1, so the crop never outgrows the image (below 1 it did, and the slice left a
    # thin strip of the photograph stretched to a square, with no face in it, for most of 10-20 s and 30-40 s)
    zoom = 1.075 + 0.075 * np.sin(2 * np.pi * t_s / 20)
    crop = min(int(min(image.shape[:2]) / zoom), *image.shape[:2])
    x0 = int((image.shape[1] - crop) * (0.5 + 0.3 * np.sin(2 * np.pi * t_s / 13)))
    y0 = int((image.shape[0] - crop) * 0.3)
    x0, y0 = min(max(x0, 0), image.shape[1] - crop), min(max(y0, 0), image.shape[0] - crop)
    patch = image[y0:y0 + crop, x0:x0 + crop]
    square = resize_square(patch, height)
    frame = np.full((height, width, 3), 90, dtype=np.uint8)
    left = (width - height) // 2
    frame[:, left:left + height] = square
    return frame


def main(out: Path) -> None:
    audio = speech_track(espeak_ng())
    image = astronaut()
    with av.open(str(out), "w") as container:
        video = container.add_stream("libx264", rate=FPS, options={"crf": "30", "preset": "slow"})
        video.height, video.width = SIZE
        video.pix_fmt = "yuv420p"
        sound = container.add_stream("aac", rate=RATE_HZ, layout="mono", bit_rate=32000)
        for i in range(int(DURATION_S * FPS)):
            frame = av.VideoFrame.from_ndarray(picture(i / FPS, image), format="rgb24")
            frame.pts = i
            for packet in video.encode(frame):
                container.mux(packet)
        frame_size = sound.codec_context.frame_size or 1024
        for start in range(0, audio.size, frame_size):
            block = audio[start:start + frame_size].reshape(1, -1).astype(np.float32)
            frame = av.AudioFrame.from_ndarray(block, format="fltp", layout="mono")
            frame.sample_rate, frame.pts, frame.time_base = RATE_HZ, start, Fraction(1, RATE_HZ)
            for packet in sound.encode(frame):
                container.mux(packet)
        for stream in (video, sound):
            for packet in stream.encode():
                container.mux(packet)


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "examples/session.mp4"))
