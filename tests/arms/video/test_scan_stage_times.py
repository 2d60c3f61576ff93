"""The time spent producing the frames (decoding) is counted in the
scan's stage times, which the face and body benchmark reports as stage_s."""
import time

import numpy as np

from runtime.arms.video.scan import scan_frames
from runtime.sources.video import VideoFrame


def test_the_time_the_frames_take_to_come_is_the_scans_decode_time():
    def slow_frames():  # a decoder taking 40 ms a frame
        for i in range(3):
            time.sleep(0.04)
            yield VideoFrame(t_s=i / 5, image=np.zeros((8, 8, 3), np.uint8))

    scan = scan_frames(slow_frames(), faces=None, bodies=None)
    assert scan.frame_times_s == [0.0, 0.2, 0.4]
    assert scan.seconds["decode"] >= 0.1  # three frames of 40 ms each; the arms that are off take none
    assert scan.seconds["face"] == scan.seconds["body"] == 0.0
