"""A live session's sensors as it ends (the last live stress window, what is said of recording on, a config that
turns the physio arm off) and its checkpoints' lines (a problem said once while it lasts, the stretch a failed
session keeps)."""

import threading

import pytest

from firmware_bridge.link import Sample
from runtime.clock import SessionClock
from runtime.config import load_settings
from runtime.errors import InputError
from runtime.live import LiveInputs, SensorSession, run_live
from tests.runtime.live_fakes import QUARTER_HOPS, SHORT_WINDOWS, HandClockSession, flat_eda_board


def test_the_live_stress_window_ending_at_the_sessions_duration_is_judged_and_kept():
    settings = load_settings(None, QUARTER_HOPS)
    now_s = [0.0]
    sensors = SensorSession([], settings, None, SessionClock(monotonic=lambda: now_s[0]))
    sensors.start()
    for k in range(45):  # a strap's heart rate, ten a second, to 4.4 s
        sensors._deliver(Sample("hr", k / 10, 70.0, "strap"))
    now_s[0] = 4.6  # closed after --duration-s 4, the last windows being judged
    sensors.stop(4.0)
    live = sensors.live_track(4.0)
    # every window ending by the session's end, the one ending at 4 s too (was: the last judged ended at 3.75 s)
    assert [w.end_s for w in live.windows] == pytest.approx([1.0 + 0.25 * k for k in range(13)])


def test_the_judging_thread_waits_for_the_stop_not_for_a_window_ending_after_the_sessions_duration():
    settings = load_settings(None, QUARTER_HOPS)
    now_s = [0.0]
    sensors = SensorSession([], settings, None, SessionClock(monotonic=lambda: now_s[0]), duration_s=4.0)
    now_s[0] = 8.6  # the voice catching up, the sensors recording on
    sensors._judged = 12  # the 13th window ends at 4.0 s: due now
    assert sensors._wait_to_judge_s() == 0.0
    sensors._judged = 13  # the 14th ends at 4.25 s, after the duration: none until the stop (was: judged)
    assert sensors._wait_to_judge_s() is None


def test_sensors_recording_on_after_the_microphone_say_until_when_in_seconds(tmp_path):
    lines: list[str] = []
    run_live(tmp_path / "out", load_settings(None, SHORT_WINDOWS),
             LiveInputs(microphone="anoisesrc=d=0.5:c=pink:a=0.05:r=16000", microphone_format="lavfi"),
             duration_s=2.5, on_line=lines.append, make_links=flat_eda_board)
    assert "sensors: recording on until 2.5 s" in lines


def test_sensors_are_not_recorded_where_the_settings_switch_the_physio_arm_off(tmp_path):
    settings = load_settings(None, {"physio.enabled": False})
    with pytest.raises(InputError, match="nothing to capture: no microphone, camera or sensor enabled"):
        run_live(tmp_path / "out", settings, LiveInputs(microphone=None), duration_s=1.0, on_line=None,
                 make_links=flat_eda_board)
    assert not (tmp_path / "out").exists()


def test_a_checkpoint_problem_is_said_once_while_it_lasts_and_again_when_it_comes_back(tmp_path, monkeypatch):
    import runtime.live as live

    full = OSError(28, "No space left on device")
    outcomes = [full, full, full, None, full, full]  # a disk full for three checkpoints, then again after one
    done = threading.Event()
    lines: list[str] = []
    checkpoints = live.Checkpoints(tmp_path / "out", 0.01, None, lines.append)

    def write() -> None:
        outcome = outcomes.pop(0) if outcomes else None
        if not outcomes:
            done.set()
        if outcome is not None:
            raise outcome

    monkeypatch.setattr(checkpoints, "check_folder", lambda: None)
    monkeypatch.setattr(checkpoints, "owner", lambda: live.OURS)
    monkeypatch.setattr(checkpoints, "_write", write)
    checkpoints.start()
    assert done.wait(10)
    checkpoints.stop()
    said = f"checkpoint: {tmp_path / 'out'} not written (No space left on device); the session records on"
    assert lines == [said, said]  # was: one line a checkpoint; or the second spell of it never said


def test_a_session_that_fails_says_how_far_the_checkpoint_it_keeps_goes(tmp_path, caplog):
    import runtime.live as live

    session = HandClockSession(load_settings(None, SHORT_WINDOWS), 13.0)
    checkpoints = live.Checkpoints(tmp_path / "out", 0.0, session.so_far, None)
    checkpoints.claim()  # the first checkpoint, empty, as the session starts
    session.until(12.4)
    checkpoints._write()  # a checkpoint 12.4 s in, its physio windows up to 10.4 s
    with caplog.at_level("WARNING"):
        checkpoints.abandon()  # the session failed after it
    assert f"{tmp_path / 'out' / 'timeline.json'}: the session up to 12 s is kept there (its last checkpoint)" in \
        caplog.messages
    assert (tmp_path / "out" / "timeline.json").exists()


def test_a_session_that_fails_before_judging_anything_gives_its_folder_back_though_a_track_was_begun(tmp_path):
    import runtime.live as live

    session = HandClockSession(load_settings(None, SHORT_WINDOWS), 3.0)
    checkpoints = live.Checkpoints(tmp_path / "day" / "out", 0.0, session.so_far, None)
    checkpoints.claim()
    session.until(1.0)
    checkpoints._write()  # a checkpoint holding the live stress track, begun, with no window yet
    checkpoints.abandon()
    assert not (tmp_path / "day").exists()  # was: kept, "the session up to 1 s is kept there", nothing in it


def test_a_folder_made_for_a_timeline_that_cannot_be_created_is_taken_back(tmp_path, monkeypatch):
    import os

    import runtime.live as live

    opened = os.open

    def full_disk(path, *args, **kwargs):
        if str(path).endswith("timeline.json"):
            raise OSError(28, "No space left on device")
        return opened(path, *args, **kwargs)

    monkeypatch.setattr(live.os, "open", full_disk)
    with pytest.raises(InputError, match=r"out: cannot be written: No space left on device$"):
        live.Checkpoints(tmp_path / "day" / "out", 0.0, None, None).claim()
    assert not (tmp_path / "day").exists()  # the folders it made, as it found the place


def test_a_stick_unmounted_while_a_checkpoint_is_made_gets_nothing_written_beneath_its_mount_point(tmp_path,
                                                                                                   monkeypatch):
    import os

    import runtime.live as live
    from tests.runtime.live_fakes import on_another_device

    session = HandClockSession(load_settings(None, SHORT_WINDOWS), 6.0)
    out, moved = tmp_path / "out", []
    on_another_device(monkeypatch, out, moved)
    checkpoints = live.Checkpoints(out, 0.0, session.so_far, None)
    checkpoints.claim()
    made = session.so_far.timeline

    def unmounted_meanwhile():  # making a checkpoint takes seconds an hour in
        timeline = made()
        os.rename(out, tmp_path / "stick")  # the stick's files go with it ...
        out.mkdir()  # ... and its empty mount point is left, on the internal disk
        moved.append(True)
        return timeline

    monkeypatch.setattr(session.so_far, "timeline", unmounted_meanwhile)
    session.until(5.0)
    with pytest.raises(InputError, match="the folder is gone: its path is on another disk now"):
        checkpoints._write()
    assert not list(out.iterdir())  # was: the checkpoint written beneath the mount point, where no one looks


def test_checkpoints_every_0_s_write_none_while_the_session_runs(tmp_path, monkeypatch):
    import time

    import runtime.live as live

    written: list[float] = []
    checkpoints = live.Checkpoints(tmp_path / "out", 0.0, None, None)  # runtime.checkpoint_every_s = 0
    monkeypatch.setattr(checkpoints, "check_folder", lambda: None)
    monkeypatch.setattr(checkpoints, "owner", lambda: live.OURS)
    monkeypatch.setattr(checkpoints, "_write", lambda: written.append(time.monotonic()))
    checkpoints.start()
    time.sleep(0.3)
    checkpoints.stop()
    assert written == []  # was: one after another as fast as they could be made, for the whole session


def test_a_session_saved_in_the_temporary_folder_is_never_open_to_others_whatever_the_umask(tmp_path, monkeypatch):
    import os
    import stat
    import tempfile

    import runtime.live as live

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    session = HandClockSession(load_settings(None, SHORT_WINDOWS), 3.0)
    session.until(3.0)
    umask = os.umask(0o022)  # a machine's usual umask: others may read what is made
    try:
        saved = live._saved_elsewhere(session.so_far.timeline())
    finally:
        os.umask(umask)
    # a patient's session in a folder every user of the machine can list: its group may read it, others never
    assert stat.S_IMODE(saved.stat().st_mode) == 0o750


def test_live_fusion_given_a_shorter_context_than_its_fusers_own_still_sees_the_past_the_fuser_reads():
    from runtime.fusion.live import LiveFusion
    from tests.fusion.tracks import session, whole_tracks_window

    tracks = session(120.0, seed=5)
    live = LiveFusion.from_settings(load_settings(None, {"fusion.method": "attention"})["fusion"])
    assert live.fuser.context_windows() > 1  # attention reads the windows before the one it judges
    short = LiveFusion(live.fuser, live.window_s, live.hop_s, context_windows=1, arousal_from=live.arousal_from,
                       incongruence_settings=live.incongruence_settings)
    for end_s in (20.0, 60.5, 100.0):
        # as file mode fuses it, over the fuser's own context (was: over the judged window alone)
        assert short.window(tracks, end_s - 2.0, end_s) == whole_tracks_window(live, tracks, end_s - 2.0, end_s)



def test_a_live_stress_line_gives_its_figure_to_two_places():
    from runtime.arms.physio.stress import PhysioWindow
    from runtime.live import live_stress_line

    assert live_stress_line(PhysioWindow(300.0, 330.0, 0.6438, 1.0, "", {})) == \
        "at 330.0 s: stress 0.64 (live, against the session so far)"  # as docs/commands.md shows it
    assert live_stress_line(PhysioWindow(0.0, 30.0, None, 0.0, "live baseline forming (30 of 300 s)", {})) == \
        "at 30.0 s: no stress figure: live baseline forming (30 of 300 s)"


def test_a_board_opened_beside_a_strap_on_a_machine_without_bluetooth_is_let_go(monkeypatch):
    import runtime.live as live

    closed, close = [], live.close_link
    monkeypatch.setattr("firmware_bridge.ble.bluetooth_problem", lambda: "Bluetooth is not available here")
    monkeypatch.setattr(live, "close_link", lambda link: closed.append(link) or close(link))
    with pytest.raises(InputError, match="^ble:Polar H10: Bluetooth is not available here$"):
        LiveInputs(microphone=None, serial="loop://", ble="Polar H10").sensor_links(SessionClock())
    assert [link.name for link in closed] == ["serial-board"]  # was: its port held open after the refusal


def test_a_camera_that_gives_no_frame_beside_sensors_leaves_the_sensors_session_written(tmp_path):
    timeline = run_live(tmp_path / "out", load_settings(None, SHORT_WINDOWS),
                        LiveInputs(microphone=None, camera="color=c=black:s=64x64:d=0", camera_format="lavfi"),
                        duration_s=2.0, on_line=None, make_links=flat_eda_board)
    # was: refused at its end, "no frames captured", and what the board had sent lost with it
    assert timeline.track("face").settings["frames"]["stopped_reason"] == "camera stream ended after 0 frames"
    assert timeline.track("physio").windows and (tmp_path / "out" / "timeline.json").exists()
