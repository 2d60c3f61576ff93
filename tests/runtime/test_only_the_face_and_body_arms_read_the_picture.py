"""Whether a session reads the input's picture is the face and body arms' business alone (registry.reads_video):
the physio arm, which reads a recording beside the input (stream None), must not make a session open a camera or
read a replay's picture."""

import pytest

from runtime.arms.registry import reads_video
from runtime.config import load_settings
from runtime.errors import InputError
from runtime.live import LiveInputs, run_live


@pytest.mark.parametrize(("overrides", "reads"), [
    ({"face.enabled": False, "body.enabled": False, "physio.enabled": True}, False),
    ({"face.enabled": False, "body.enabled": False, "physio.enabled": True, "audio.enabled": False}, False),
    ({"face.enabled": True, "body.enabled": False}, True),
    ({"face.enabled": False, "body.enabled": True}, True),
])
def test_the_picture_is_read_where_a_face_or_body_arm_is_on_and_never_for_the_physio_arm(overrides, reads):
    assert reads_video(load_settings(None, overrides)) is reads


def test_a_camera_session_with_only_the_physio_arm_on_and_no_sensor_has_nothing_to_capture(tmp_path):
    settings = load_settings(None, {"face.enabled": False, "body.enabled": False, "physio.enabled": True})
    with pytest.raises(InputError, match="nothing to capture"):
        run_live(tmp_path / "x", settings, LiveInputs(microphone=None, camera="/dev/no-such-camera"), duration_s=1)
    assert not (tmp_path / "x").exists()
