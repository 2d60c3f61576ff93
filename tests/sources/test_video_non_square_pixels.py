"""An anamorphic recording (a DV or HDV/AVCHD camcorder's 720x576 or 1440x1080 with non-square pixels, a DVD) stores
its picture squeezed and a sample aspect ratio (the MP4's pasp box) that a player widens it by. The frames should
reach the face and body models as displayed, as the display matrix's turn does, or the face's eye opening, gaze and
head pose and the body's widths and movements are read off a squeezed picture."""

from fractions import Fraction

import av
import numpy as np
import pytest

from runtime.sources.video import FileVideoSource, LiveVideoSource


def _anamorphic(path, sar=Fraction(4, 3), coded=(240, 240), seconds=1.0, fps=10):
    """A circle that is round as displayed: coded ``coded`` pixels, each ``sar`` wide."""
    width, height = coded
    y, x = np.mgrid[0:height, 0:width]
    shown_x = x * float(sar)  # where each coded column lies on the displayed picture
    circle = ((shown_x - width * float(sar) / 2) ** 2 + (y - height / 2) ** 2) < (height / 3) ** 2
    image = np.where(circle[..., None], 230, 20).astype(np.uint8).repeat(3, axis=2)
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.codec_context.sample_aspect_ratio = sar
        for _ in range(int(seconds * fps)):
            for packet in video.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in video.encode():
            container.mux(packet)
    return path


@pytest.mark.parametrize("mode", ["file", "replay"])
def test_frames_of_non_square_pixels_reach_the_models_as_displayed(tmp_path, mode):
    path = _anamorphic(tmp_path / "camcorder.mp4")
    with av.open(str(path)) as container:
        assert container.streams.video[0].sample_aspect_ratio == Fraction(4, 3)  # the file says so
    source = FileVideoSource(path) if mode == "file" else LiveVideoSource(path, replay=True)
    frame = next(iter(source.frames()))
    height, width = frame.image.shape[:2]
    assert width / height == 320 / 240  # was: 240 x 240, the picture squeezed
    bright = frame.image[..., 0] > 128
    rows, cols = np.flatnonzero(bright.any(axis=1)), np.flatnonzero(bright.any(axis=0))
    assert abs((cols[-1] - cols[0]) / (rows[-1] - rows[0]) - 1.0) < 0.05  # the circle round, as a player shows it
