import numpy as np
import pytest

from runtime.arms.physio.features import process_recording, window_features
from runtime.arms.physio.recording import Channel, Recording


@pytest.mark.parametrize(("slow_s", "fast_s"), [(1.75, 0.75), (1843 / 1024, 819 / 1024)])
def test_the_last_dropped_beat_before_clean_ones_is_not_read_into_the_beat_statistics(slow_s, fast_s):
    # 33 beats too slow to be clean (34 bpm: a hole of no clean beat), then a steady heart; the hole ends where the
    # first clean beat's interval starts, which is where the last dropped beat is stamped: that beat's interval lies
    # wholly in the hole
    slow = np.arange(1, 34) * slow_s
    fast = slow[-1] + np.arange(1, 200) * fast_s
    ibi = Channel("ibi", "s", np.concatenate([slow, fast]),
                  np.concatenate([np.full(slow.size, slow_s), np.full(fast.size, fast_s)]))
    signals = process_recording(Recording("strap.csv", {"ibi": ibi}))
    window = window_features(signals, slow[-1] - 5.0, slow[-1] + 10.0)
    assert window.measurements["ibi_mean_s"] == pytest.approx(fast_s)  # was 0.821 for 0.75 s beats
    assert window.measurements["ibi_rmssd_s"] == pytest.approx(0.0, abs=1e-9)  # was 0.277
