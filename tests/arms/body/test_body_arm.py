import csv
import json
import shutil

import numpy as np
import pytest

from runtime.arms.body import measures
from runtime.arms.body.arm import RELATIVE, BodySettings, add_relative, measurement_names
from runtime.arms.body.pose import MIN_POSE_PRESENCE
from runtime.arms.video.detect import Roi
from runtime.arms.video.landmarks import CropLandmarker
from runtime.cli import main
from runtime.config import load_settings
from runtime.errors import InputError
from runtime.models.card import REPO_MODELS_DIR
from runtime.pipeline import analyze_file
from tests.arms.body.poses import seated_pose
from tests.arms.face.video_factory import astronaut, write_video
from tests.warnings_beside import warnings_beside

BODY_ONLY = {"fusion.enabled": False, "face.enabled": False}


def test_fidgeting_counts_jiggling_in_place_but_not_one_steady_reach():
    jiggle, visible = seated_pose(10)
    jiggle[1::2, list(measures.LEFT_HAND), 0] += 20  # back and forth, ends where it started
    reach, _ = seated_pose(10)
    reach[:, list(measures.LEFT_HAND), 1] -= np.linspace(0, 180, 10)[:, None]  # one smooth movement
    assert measures.fidgeting(jiggle, visible, 2.0) > 0.5
    assert measures.fidgeting(reach, visible, 2.0) == pytest.approx(0.0, abs=1e-6)


def test_self_touch_is_a_hand_at_the_face():
    points, visible = seated_pose(2)
    points[1, list(measures.RIGHT_HAND), :2] = [205, 105]
    assert measures.self_touch(points, visible).tolist() == [False, True]


def test_crossed_arms_read_as_less_open_than_arms_at_the_sides():
    open_pose, _ = seated_pose(1)
    crossed = open_pose.copy()
    crossed[:, list(measures.LEFT_HAND), 0], crossed[:, list(measures.RIGHT_HAND), 0] = 160, 240
    crossed[:, [measures.LEFT_ELBOW, measures.RIGHT_ELBOW], 0] = [[230, 170]]
    assert measures.openness(crossed)[0] < measures.openness(open_pose)[0]


def test_activation_is_one_half_at_the_session_level_and_grows_with_movement():
    assert measures.activation(1.0, 1.0) == pytest.approx(0.5)
    assert measures.activation(0.5, 1.0) < 0.5 < measures.activation(2.0, 1.0) < measures.activation(2.0, 2.0)


def test_a_body_window_with_one_pose_frame_claims_no_activation():
    from runtime.arms.body.arm import add_relative, window_measurements

    points, visibility = seated_pose(1)
    windows = [window_measurements(np.array([0.0]), points, visibility, 0.0, 2.0)]
    add_relative(windows)
    assert np.isnan(windows[0]["movement_overall_rel"]) and np.isnan(windows[0]["activation"])
    assert measures.activation(float("nan"), 2.0) > 0.5  # one known ratio still counts


def _session(movement_sw_per_s: list[float], fidgeting_sw_per_s: list[float]) -> list[dict[str, float]]:
    """Body windows as ``window_measurements`` leaves them, with these movement (every group) and fidgeting values."""
    return [{**{f"movement_{g}": m for g in measures.GROUPS}, "fidgeting": f, "stillness": 1.0, "self_touch": 0.0,
             "openness": 1.0, "head_height": 1.0, "lean_sideways_deg": 0.0, "shoulder_width_px": 100.0}
            for m, f in zip(movement_sw_per_s, fidgeting_sw_per_s, strict=True)]


@pytest.mark.parametrize("movement_sw_per_s", [[0.001, 0.002, 0.003, 0.003, 0.004, 0.01],  # noise, some jitter
                                               [0.0, 0.0, 0.0, 0.0, 0.002, 0.01]])  # a session median of 0
def test_a_session_still_throughout_reads_no_more_than_its_usual_activation_and_never_nan(movement_sw_per_s):
    windows = _session(movement_sw_per_s, movement_sw_per_s[::-1])
    add_relative(windows)
    ratios = [w[f"{name}_rel"] for w in windows for name in ["fidgeting"] + [f"movement_{g}" for g in RELATIVE]]
    assert np.isfinite(ratios).all()
    assert all(0.0 < w["activation"] <= 0.5 for w in windows)


def test_a_session_that_moves_is_measured_against_its_own_median():
    movement_sw_per_s, fidgeting_sw_per_s = [0.2, 0.3, 0.4, 0.6, 0.9], [0.3, 0.1, 0.2, 0.4, 0.08]
    windows = _session(movement_sw_per_s, fidgeting_sw_per_s)
    add_relative(windows)
    for w, m, f in zip(windows, movement_sw_per_s, fidgeting_sw_per_s, strict=True):
        assert [w[f"movement_{g}_rel"] for g in RELATIVE] == [m / 0.4] * len(RELATIVE)
        assert w["fidgeting_rel"] == f / 0.2
        assert w["activation"] == measures.activation(m / 0.4, f / 0.2)


def test_a_still_session_moving_once_reads_that_movement_against_the_noise_floor():
    windows = _session([0.0, 0.0, 0.0, 0.003, 0.2], [0.0, 0.0, 0.0, 0.0, 0.1])
    add_relative(windows)
    assert windows[-1]["activation"] > 0.5 > windows[0]["activation"]  # was NaN: a session median of 0
    assert windows[-1]["movement_overall_rel"] == 0.2 / measures.MOVEMENT_REFERENCE_FLOOR_SW_PER_S


def test_pose_presence_is_high_on_a_person_and_far_below_the_threshold_on_an_empty_crop():
    landmarker = CropLandmarker("body-pose-landmarks")
    whole_photo = Roi(np.array([256.0, 256.0]), 512.0, np.array([1.0, 0.0]))
    person = landmarker.run(astronaut(), whole_photo).presence
    empty = landmarker.run(np.full((512, 512, 3), 90, np.uint8), whole_photo).presence
    # The pose flag is a probability already; squashed twice, an empty crop read 0.5 and passed the threshold.
    assert person > 0.8 and empty < 0.1 < MIN_POSE_PRESENCE


def test_a_card_naming_an_unknown_presence_output_is_refused(tmp_path):
    folder = shutil.copytree(REPO_MODELS_DIR / "body-pose-landmarks", tmp_path / "pose")
    card = json.loads((folder / "card.json").read_text())
    card["presence_output"] = "probabilty"
    (folder / "card.json").write_text(json.dumps(card))
    with pytest.raises(InputError, match="presence_output 'probabilty'"):
        CropLandmarker(str(folder))


def test_with_the_face_arm_on_the_body_track_states_the_face_arms_sampling_rate(tmp_path):
    video = write_video(tmp_path / "v.mp4", 2.0, fps=10)
    settings = load_settings(None, {"fusion.enabled": False, "face.sample_fps": 2.0, "body.sample_fps": 5.0})
    timeline = analyze_file(video, tmp_path / "out", settings)
    assert timeline.track("body").settings["sample_fps"] == timeline.track("face").settings["sample_fps"] == 2.0


def test_body_track_on_a_real_photograph_carries_measurements_and_no_invented_emotions(tmp_path):
    video = write_video(tmp_path / "body.mp4", 6.0, no_face=(2.0, 4.0))
    body = analyze_file(video, tmp_path / "out", load_settings(None, BODY_ONLY)).track("body")
    claimed = [w for w in body.windows if w.quality > 0]
    assert claimed and all(w.probs is None for w in body.windows)
    assert body.labels == [] and "happy" in body.unsupported_labels
    assert all(0.0 < w.measurements["activation"] < 1.0 for w in claimed)
    assert any(w.quality == 0.0 and w.reason == "no body pose" for w in body.windows)


def test_train_body_learns_from_labelled_segments_and_fills_the_body_track(tmp_path):
    moving = write_video(tmp_path / "moving.mp4", 8.0)
    other = write_video(tmp_path / "other.mp4", 8.0, fps=5)
    manifest = tmp_path / "segments.csv"
    with open(manifest, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["video", "start_s", "end_s", "label"])
        for video in (moving, other):
            writer.writerows([[video.name, 0, 4, "calm"], [video.name, 4, 8, "angry"]])
    assert main(["train", "body", str(manifest), "--out", str(tmp_path / "body-mine")]) == 0
    # guard: the out-folder check lets a retrain replace its own run
    assert main(["train", "body", str(manifest), "--out", str(tmp_path / "body-mine")]) == 0
    card = json.loads((tmp_path / "body-mine" / "card.json").read_text())
    assert card["labels"] == ["calm", "angry"] and "leave_one_video_out" in card["metrics"]
    settings = load_settings(None, {**BODY_ONLY, "body.model": str(tmp_path / "body-mine")})
    body = analyze_file(moving, tmp_path / "out", settings).track("body")
    claimed = [w for w in body.windows if w.quality > 0]
    assert body.labels == ["calm", "angry"] and all(abs(sum(w.probs) - 1) < 1e-6 for w in claimed)


@pytest.mark.parametrize(("rows", "problem"), [
    ("video,start_s,end_s,label\nv.mp4,0\n", "line 2: 2 field(s) where the header has 4"),
    ("video,start_s,end_s,label\nv.mp4,nan,nan,calm\n", "line 2: needs 0 <= start_s < end_s, both finite"),
    (b"\xff\xfe\x00garbage\x81", "is not UTF-8 text"),  # was: internal error UnicodeDecodeError
])
def test_train_body_refuses_a_bad_manifest_row_in_one_line(tmp_path, capsys, rows, problem):
    manifest = tmp_path / "segments.csv"
    manifest.write_bytes(rows if isinstance(rows, bytes) else rows.encode())
    assert main(["train", "body", str(manifest), "--out", str(tmp_path / "body-mine")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"emotrace: error: {manifest}: {problem}") and err.count("\n") == 1, err
    assert not (tmp_path / "body-mine").exists()


def test_train_body_refuses_an_out_folder_of_another_model_before_scanning_and_leaves_it_whole(tmp_path, capsys):
    installed = tmp_path / "models" / "physio-stress"
    shutil.copytree(REPO_MODELS_DIR / "physio-stress", installed)
    before = {p.name: p.read_bytes() for p in installed.iterdir()}
    manifest = tmp_path / "segments.csv"
    manifest.write_text("video,start_s,end_s,label\nmissing.mp4,0,4,calm\n")  # never read: refused before
    assert main(["train", "body", str(manifest), "--out", str(installed)]) == 2
    # was: the physio model's card.json overwritten by a body card, its graph left beside it
    task = json.loads((installed / "card.json").read_text())["task"]
    assert capsys.readouterr().err == (f"emotrace: error: {installed}: holds a model for {task!r}, not 'body-language "
                                       "classes from body window measurements'; give a new or empty folder, or an "
                                       "earlier run's\n")
    assert {p.name: p.read_bytes() for p in installed.iterdir()} == before
    assert main(["train", "body", str(manifest), "--out", str(manifest)]) == 2  # was: FileExistsError, after a scan
    assert "is a file; give a folder to write into" in capsys.readouterr().err


def test_face_holding_names_the_face_whose_box_holds_the_point():
    from types import SimpleNamespace

    from runtime.arms.body.pose import face_holding

    faces = [SimpleNamespace(person_id=1, box=np.array([0.0, 0.0, 100.0, 100.0])),
             SimpleNamespace(person_id=2, box=np.array([300.0, 0.0, 400.0, 100.0]))]
    assert face_holding(np.array([50.0, 60.0]), faces) == 1
    assert face_holding(np.array([390.0, 110.0]), faces) == 2  # within the margin below the box
    assert face_holding(np.array([200.0, 50.0]), faces) is None


def test_with_two_people_the_body_track_follows_the_face_arms_patient(tmp_path):
    from runtime.arms.body.arm import patient_poses
    from runtime.arms.body.pose import face_holding
    from runtime.arms.face.settings import FaceSettings
    from runtime.arms.video.scan import scan_video

    video = write_video(tmp_path / "two.mp4", 4.0, width=960, height=480, two_people=True)
    scan = scan_video(video, FaceSettings(), BodySettings(), sample_fps=FaceSettings().sample_fps)
    assert scan.n_people >= 2 and scan.patient_id is not None
    kept = patient_poses(scan)
    assert len(kept) >= len(scan.frame_times_s) // 2
    for pose in kept:
        faces = [f for f in scan.faces if f.t_s == pose.t_s]
        holder = face_holding(pose.points[0, :2], faces)
        assert holder in (None, scan.patient_id)


def test_poses_of_other_people_are_left_out_only_when_several_people_were_seen():
    from runtime.arms.body.arm import patient_poses
    from runtime.arms.body.pose import BodyObservation
    from runtime.arms.video.scan import VideoScan

    points, visibility = seated_pose(1)
    poses = [BodyObservation(0.2 * i, points[0], visibility[0], 0.9, person_id=pid)
             for i, pid in enumerate([1, 1, 2, None, 1])]
    several = VideoScan(bodies=poses, patient_id=1, n_people=2)
    assert [p.person_id for p in patient_poses(several)] == [1, 1, 1]
    alone = VideoScan(bodies=poses, patient_id=1, n_people=1)
    assert len(patient_poses(alone)) == 5


def test_a_body_window_the_camera_saw_only_in_part_is_judged_at_that_share_of_its_quality():
    from runtime.arms.body.arm import body_track
    from runtime.arms.body.pose import BodyObservation
    from runtime.arms.video.scan import VideoScan

    points, visibility = seated_pose(1)
    times = [i / 5 for i in range(15)]  # 5 fps until 2.8 s, then the camera is lost: its frames stand until 3.3 s
    poses = [BodyObservation(t, points[0], visibility[0], 0.9, person_id=1) for t in times]
    scan = VideoScan(frame_times_s=times, bodies=poses, patient_id=1, n_people=1)
    windows = {(w.start_s, w.end_s): w for w in body_track(scan, 6.0, BodySettings()).windows}
    seen = windows[(0.0, 2.0)].quality
    assert seen > 0 and windows[(2.0, 4.0)].quality == pytest.approx(seen * 0.65)  # was: seen, the loss unnoticed


def test_a_lowered_head_sits_lower_and_a_dropped_left_shoulder_leans_positive():
    points, _ = seated_pose(2)
    points[1, measures.NOSE, 1] += 40  # the nose 40 px lower: the head bowed
    assert measures.head_height(points).tolist() == pytest.approx([1.0, 0.6])  # shoulder widths above the shoulders
    points[1, measures.LEFT_SHOULDER, 1] += 20  # the person's left shoulder lower
    lean = measures.sideways_lean_deg(points)
    assert lean[0] == pytest.approx(0.0) and lean[1] == pytest.approx(np.degrees(np.arctan2(20, 100)))


def test_movement_is_in_shoulder_widths_per_second_whatever_the_cameras_distance():
    for scale in (1.0, 2.0):  # the same movement filmed twice as close
        points, visible = seated_pose(3)
        points[:, :, :2] *= scale
        points[:, :, 0] += scale * 10.0 * np.arange(3)[:, None]  # 10 px per frame at this scale
        speeds = measures.group_speeds(points, visible, np.array([0.0, 0.2, 0.4]))
        assert speeds["overall"] == pytest.approx([0.5, 0.5])  # 0.1 shoulder widths per 0.2 s


def test_a_hand_on_the_other_forearm_is_self_touch_measured_in_shoulder_widths():
    points, visible = seated_pose(2)
    points[:, :, :2] *= 1.7  # shoulders 170 px apart: distances count in shoulder widths, not pixels
    points[1, list(measures.LEFT_HAND), :2] = points[1, measures.RIGHT_ELBOW, :2] + [30, 0]  # 0.18 of 170 px
    assert measures.self_touch(points, visible).tolist() == [False, True]


def test_activation_reads_movement_fully_and_fidgeting_half():
    assert measures.activation(1.0, 1.0) == pytest.approx(0.5)
    assert measures.activation(2.0, 1.0) == pytest.approx(1 / (1 + np.exp(-1)))
    assert measures.activation(1.0, 4.0) == pytest.approx(1 / (1 + np.exp(-1)))  # fidgeting 4x counts as moving 2x
    assert measures.activation(0.5, float("nan")) == pytest.approx(1 / (1 + np.exp(1)))


def test_a_body_classifier_reads_features_in_its_cards_order_and_fills_what_is_missing():
    from runtime.arms.body.classifier import BodyClassifier

    classifier = BodyClassifier.__new__(BodyClassifier)  # the matrix alone: no graph is needed for it
    classifier.features, classifier.fill = ["b", "a"], np.array([7.0, 9.0], dtype=np.float32)
    assert classifier.matrix([{"a": 1.0}, {"a": np.nan, "b": 2.0}]).tolist() == [[7.0, 1.0], [2.0, 9.0]]


def test_a_body_windows_quality_is_its_share_of_frames_with_a_pose_times_the_poses_presence():
    from runtime.arms.body.arm import body_track
    from runtime.arms.body.pose import BodyObservation
    from runtime.arms.video.scan import VideoScan

    points, visibility = seated_pose(1)
    times = [i / 5 for i in range(10)]  # ten frames in the first 2 s window, a pose in every other one
    poses = [BodyObservation(t, points[0], visibility[0], 0.5, person_id=1) for t in times[::2]]
    scan = VideoScan(frame_times_s=times, bodies=poses, patient_id=1, n_people=1)
    first = body_track(scan, 2.0, BodySettings()).windows[0]
    assert first.quality == pytest.approx(0.5 * 0.5)  # half the frames, presence 0.5, every point visible


def test_body_measures_in_threads_at_once_say_nothing_and_lose_no_warning_of_another_thread():
    # a live session's video thread measures bodies while its sensor threads process physio
    points, visible = seated_pose(4)
    visible[1] = 0.0  # nothing seen in the second frame: no speed into or out of it

    def measure() -> None:
        speeds = measures.group_speeds(points, visible, np.arange(4.0))
        assert np.isnan(speeds["overall"]).tolist() == [True, True, False]
        assert "activation" in measurement_names()

    raised, shown, kept, theirs = warnings_beside(measure, rounds=200)
    assert (shown, kept, theirs) == (raised, True, [])  # was: most lost to the filter each thread set


def test_a_still_picture_reads_as_still_and_a_moving_one_as_movement(tmp_path):
    from tests.arms.face.video_factory import moving_frame

    still_image = moving_frame(astronaut(), 0.0, 640, 480)
    still = write_video(tmp_path / "still.mp4", 6.0, fps=5, frame_at=lambda t_s: still_image)
    moving = write_video(tmp_path / "moving.mp4", 6.0, fps=5)
    measured = {}
    for name, video in (("still", still), ("moving", moving)):
        track = analyze_file(video, tmp_path / name, load_settings(None, BODY_ONLY)).track("body")
        measured[name] = [w.measurements for w in track.windows if w.quality > 0]
        assert len(measured[name]) >= 4, name
    # was: 0.23-0.33 SW/s and stillness 0 on the still picture, each crop cut from the last frame's raw points
    assert all(m["movement_overall"] < measures.STILL_SPEED for m in measured["still"])
    assert all(m["stillness"] >= 0.75 for m in measured["still"])
    still_most = max(m["movement_overall"] for m in measured["still"])
    assert all(m["movement_overall"] > 3 * still_most and m["stillness"] < 0.5 for m in measured["moving"])


def test_the_crops_points_hold_still_through_jitter_and_follow_a_move():
    from runtime.arms.body.pose import held_crop_points, one_euro

    rng = np.random.default_rng(0)
    place = np.array([[300.0, 300.0], [300.0, 150.0]])  # hips and scale point: a body radius of 150 px
    state, crop, raw, crops = None, None, [], []
    for i in range(20):  # the model's points jittering 3 px about one place
        raw.append(place + rng.normal(0, 3, (2, 2)))
        state = one_euro(state, raw[-1], 0.2 * i, 150)
        crop = held_crop_points(crop, state.points, 150)
        crops.append(crop)
    raw_steps = np.linalg.norm(np.diff(raw, axis=0), axis=-1)
    assert np.linalg.norm(state.points - place, axis=-1).max() < raw_steps.mean()  # smoothed near the place
    assert np.all(np.diff(crops[5:], axis=0) == 0)  # the crop itself stays put (was: cut from each frame's points)
    for i in range(20, 30):  # then moving 300 px a second (2 radii a second)
        moved = place + [60.0 * (i - 19), 0.0]
        state = one_euro(state, moved, 0.2 * i, 150)
        crop = held_crop_points(crop, state.points, 150)
    assert np.linalg.norm(crop - moved, axis=-1).max() < 60  # within a frame's travel of the moving body


def test_a_body_window_with_two_pose_frames_measures_the_movement_between_them():
    from runtime.arms.body.arm import window_measurements

    points, visibility = seated_pose(2)
    points[1, :, 0] += 20.0  # the whole body 20 px (0.2 shoulder widths) to the side in 0.2 s
    values = window_measurements(np.array([0.0, 0.2]), points, visibility, 0.0, 2.0)
    assert values["movement_overall"] == pytest.approx(1.0) and values["stillness"] == 0.0


def test_posture_is_measured_against_the_sessions_median_leaning_in_bowing_and_closing_up_each_read_as_such():
    windows = _session([0.2] * 3, [0.2] * 3)
    windows[2].update(shoulder_width_px=120.0, head_height=0.6, openness=0.5)  # nearer, head lower, arms in
    add_relative(windows)
    assert windows[0]["lean_forward"] == 0.0 and windows[2]["lean_forward"] == pytest.approx(0.2)
    assert windows[0]["head_down"] == 0.0 and windows[2]["head_down"] == pytest.approx(0.4)
    assert windows[0]["openness_rel"] == 0.0 and windows[2]["openness_rel"] == pytest.approx(-0.5)


def test_a_body_windows_quality_is_weighed_by_how_visible_the_upper_body_is_not_the_legs():
    from runtime.arms.body.arm import body_track
    from runtime.arms.body.pose import BodyObservation
    from runtime.arms.video.scan import VideoScan

    points, visibility = seated_pose(1)
    visibility[0, :25], visibility[0, 25:] = 0.8, 0.0  # upper body seen at 0.8, the legs under the table
    times = [i / 5 for i in range(10)]
    poses = [BodyObservation(t, points[0], visibility[0], 1.0, person_id=1) for t in times]
    scan = VideoScan(frame_times_s=times, bodies=poses, patient_id=1, n_people=1)
    assert body_track(scan, 2.0, BodySettings()).windows[0].quality == pytest.approx(0.8)


def test_the_body_track_names_the_patient_and_counts_others_poses_left_out_only_with_several_people():
    from runtime.arms.body.arm import body_track
    from runtime.arms.body.pose import BodyObservation
    from runtime.arms.video.scan import VideoScan

    points, visibility = seated_pose(1)
    times = [i / 5 for i in range(5)]
    poses = [BodyObservation(t, points[0], visibility[0], 0.9, person_id=pid)
             for t, pid in zip(times, [1, 1, 2, None, 1], strict=True)]
    several = body_track(VideoScan(frame_times_s=times, bodies=poses, patient_id=1, n_people=2), 1.0, BodySettings())
    assert (several.settings["person_id"], several.settings["poses_of_others_left_out"]) == (1, 2)
    alone = body_track(VideoScan(frame_times_s=times, bodies=poses, patient_id=1, n_people=1), 1.0, BodySettings())
    assert (alone.settings["person_id"], alone.settings["poses_of_others_left_out"]) == (None, 0)


def test_a_video_without_a_body_pose_is_said_with_the_number_of_frames_sampled(tmp_path, monkeypatch, caplog):
    from runtime.arms.body import arm
    from runtime.arms.video.scan import VideoScan
    from runtime.media import probe
    from runtime.pipeline import AnalysisRequest
    from tests.media_factory import tone, write_media

    video = write_media(tmp_path / "v.mp4", tone(1.0), 48000, "aac", "mpeg4", video_s=1.0)
    monkeypatch.setattr(arm, "shared_scan", lambda _request: VideoScan(frame_times_s=[0.0, 0.2, 0.4]))
    with caplog.at_level("WARNING", logger=arm.__name__):
        track = arm.analyze_body_request(AnalysisRequest(video, probe(video), load_settings(None, BODY_ONLY)))
    assert track.windows and all(w.reason == "no body pose" for w in track.windows)
    assert caplog.messages == [f"{video}: no body pose found in 3 sampled frames"]


def test_fidgeting_counts_a_hand_seen_in_half_the_windows_frames():
    points, visible = seated_pose(4)
    points[1::2, list(measures.LEFT_HAND), 0] += 20  # jiggling in place
    visible[2:, list(measures.LEFT_HAND)] = 0.0  # seen in the first two frames of four
    visible[:, list(measures.RIGHT_HAND)] = 0.0  # the other hand never seen
    assert measures.fidgeting(points, visible, 2.0) > 0.1


def test_a_hand_not_seen_touches_nothing_even_where_its_estimate_lies_on_the_face():
    points, visible = seated_pose(2)
    points[:, list(measures.RIGHT_HAND), :2] = [205, 105]  # estimated at the face in both frames
    visible[1, list(measures.RIGHT_HAND)] = 0.1  # ... but not seen in the second
    assert measures.self_touch(points, visible).tolist() == [True, False]


def test_a_person_with_their_back_to_the_camera_leans_as_one_facing_it():
    points, _ = seated_pose(2)
    points[:, [measures.LEFT_SHOULDER, measures.RIGHT_SHOULDER], 0] = [[150, 250]]  # their left on the image left
    points[1, measures.LEFT_SHOULDER, 1] += 20  # their left shoulder lower
    lean = measures.sideways_lean_deg(points)
    assert lean[0] == pytest.approx(0.0) and lean[1] == pytest.approx(np.degrees(np.arctan2(20, 100)))


def test_activation_is_floored_at_a_sixteenth_of_the_usual_level_about_0_002_at_its_lowest():
    assert measures.activation(0.0, float("nan")) == pytest.approx(1 / (1 + np.exp(4)))  # log2(1/16) = -4
    assert measures.activation(0.0, 0.0) == pytest.approx(1 / (1 + np.exp(6)))  # -4 - 0.5 * 4: 0.0025


def test_a_nose_in_two_face_boxes_belongs_to_the_face_whose_centre_is_nearer():
    from types import SimpleNamespace

    from runtime.arms.body.pose import face_holding

    faces = [SimpleNamespace(person_id=1, box=np.array([0.0, 0.0, 100.0, 100.0])),
             SimpleNamespace(person_id=2, box=np.array([80.0, 0.0, 180.0, 100.0]))]  # two heads side by side
    for listed in (faces, faces[::-1]):
        assert face_holding(np.array([95.0, 50.0]), listed) == 2  # 35 px from 2's centre, 45 px from 1's
        assert face_holding(np.array([85.0, 50.0]), listed) == 1


def test_the_crop_is_cut_anew_once_either_alignment_point_strays_a_twentieth_of_a_body_radius():
    from runtime.arms.body.pose import held_crop_points

    crop = np.array([[300.0, 300.0], [300.0, 150.0]])  # hips and scale point: a body radius of 150 px
    hips_moved = crop + [[6.0, 0.0], [0.0, 0.0]]  # the hips 6 px (0.04 radii) on: the crop holds
    assert held_crop_points(crop, hips_moved, 150.0) is crop
    hips_moved = crop + [[9.0, 0.0], [0.0, 0.0]]  # 9 px (0.06 radii), the other point still: cut anew
    assert held_crop_points(crop, hips_moved, 150.0).tolist() == hips_moved.tolist()
