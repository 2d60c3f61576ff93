import csv
import json
import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from runtime.arms.face.geometry import frame_measurements
from runtime.arms.video.detect import SsdDetector
from runtime.arms.video.landmarks import CropLandmarker, face_roi
from runtime.cli import main
from runtime.config import load_settings
from runtime.errors import InputError
from runtime.pipeline import analyze_file
from runtime.track import Track
from tests.arms.face.video_factory import astronaut, walking_out_frame, write_video
from tests.media_factory import tone, write_media

VIDEO_ONLY = {"fusion.enabled": False, "body.enabled": False}


@pytest.fixture(scope="module")
def detector():
    return SsdDetector("face-detector")


@pytest.fixture(scope="module")
def mesh():
    return CropLandmarker("face-landmarks")


@pytest.fixture(scope="module")
def gap_timeline(tmp_path_factory):
    folder = tmp_path_factory.mktemp("gap")
    video = write_video(folder / "gap.mp4", 8.0, no_face=(3.0, 5.0))
    return analyze_file(video, folder / "out", load_settings(None, VIDEO_ONLY))


def test_detector_finds_the_astronauts_face_and_nothing_in_a_blank_frame(detector):
    faces = detector.detect(astronaut())
    assert len(faces) == 1
    x0, y0, x1, y1 = faces[0].box
    assert 150 < (x0 + x1) / 2 < 300 and 60 < (y0 + y1) / 2 < 180  # her face, upper middle of the photo
    assert detector.detect(np.full((480, 640, 3), 90, np.uint8)) == []


def test_head_roll_follows_a_rotated_photograph(detector, mesh):
    rolls = []
    for angle_deg in (0.0, 20.0):
        matrix = cv2.getRotationMatrix2D((256, 256), angle_deg, 1.0)
        image = cv2.warpAffine(astronaut(), matrix, (512, 512))
        face = detector.detect(image)[0]
        rolls.append(frame_measurements(mesh.run(image, face_roi(face, mesh.roi_scale)).points)["head_roll_deg"])
    # cv2 turns the picture counter-clockwise: the eye line now falls to the right.
    assert rolls[0] - rolls[1] == pytest.approx(20.0, abs=4.0)


def test_face_track_claims_face_windows_and_marks_the_faceless_stretch(gap_timeline):
    face = gap_timeline.track("face")
    by_start = {w.start_s: w for w in face.windows}
    assert by_start[0.0].quality > 0.5 and by_start[6.0].quality > 0.5
    assert by_start[3.0].quality == 0.0 and by_start[3.0].reason == "face lost"
    assert by_start[3.0].probs is None
    assert "mouth_opening" in by_start[0.0].measurements and "head_yaw_deg" in by_start[0.0].measurements
    # the photograph looks at the camera throughout: gaze measured, never away from her own median
    assert abs(by_start[0.0].measurements["iris_offset_x"]) < 0.1
    assert by_start[0.0].measurements["gaze_away_fraction"] == 0.0


def test_a_face_window_carries_exactly_the_measurements_arousal_from_may_name(gap_timeline):
    from runtime.arms.face.arm import measurement_names

    claimed = [w for w in gap_timeline.track("face").windows if w.has_claim]
    assert claimed and all(set(w.measurements) == measurement_names() for w in claimed)


def test_face_track_speaks_only_about_labels_its_model_has(gap_timeline):
    face = gap_timeline.track("face")
    assert face.unsupported_labels == ["calm"] and "calm" not in face.labels
    claimed = [w for w in face.windows if w.probs is not None]
    assert claimed and all(abs(sum(w.probs) - 1.0) < 1e-6 for w in claimed)
    assert Track.from_dict(json.loads(json.dumps(face.to_dict()))).to_dict() == face.to_dict()


def test_a_video_without_any_face_gives_quality_zero_with_a_reason(tmp_path):
    video = write_video(tmp_path / "empty.mp4", 3.0, no_face=(0.0, 10.0))
    face = analyze_file(video, tmp_path / "out", load_settings(None, VIDEO_ONLY)).track("face")
    assert face.windows and all(w.quality == 0.0 and w.reason == "no face" for w in face.windows)


def test_two_people_give_one_patient_track_or_one_track_each(tmp_path):
    video = write_video(tmp_path / "two.mp4", 2.0, width=960, height=480, two_people=True)
    patient = analyze_file(video, tmp_path / "a", load_settings(None, VIDEO_ONLY))
    assert [t.name for t in patient.tracks] == ["face"]
    assert patient.track("face").settings["people_seen"] == 2
    everyone = analyze_file(video, tmp_path / "b", load_settings(None, {**VIDEO_ONLY, "face.person": "all"}))
    assert sorted(t.name for t in everyone.tracks) == ["face-1", "face-2"]


def test_a_patient_who_walks_out_of_view_and_sits_back_down_is_the_patient_again(tmp_path):
    # seated, then sliding out of view from 1.5 s (gone by 2.8 s), back in the same seat from 4 s
    video = write_video(tmp_path / "leave.mp4", 6.0, fps=5, frame_at=walking_out_frame)
    timeline = analyze_file(video, tmp_path / "out", load_settings(None, {"fusion.enabled": False}))
    face, body = timeline.track("face"), timeline.track("body")
    assert face.settings["people_seen"] == 1  # was: 2, the one who came back a new person
    back = [w for w in face.windows if w.start_s >= 4.0]
    assert back and all(w.quality > 0 for w in back)  # was: 'face lost' from the walk out to the end
    assert body.settings["poses_of_others_left_out"] == 0  # was: the returning patient's poses


def test_a_patient_back_in_their_seat_after_a_break_of_over_30_s_is_the_patient_again(tmp_path):
    # seated for 6 s, then sliding out of view (gone by 8.2 s), back in the seat from 60 s to 64 s: fewer frames
    # after the break than before, so a new number after it would leave the patient's track 'face lost' there
    times_s = [*np.arange(0.0, 8.4, 0.2), *np.arange(10.0, 60.0, 5.0), *np.arange(60.0, 64.0, 0.2)]
    video = write_video(tmp_path / "break.mp4", 64.0, frame_times_s=[float(t) for t in times_s],
                        frame_at=lambda t_s: walking_out_frame(t_s, leaves_s=6.0, back_s=60.0))
    timeline = analyze_file(video, tmp_path / "out", load_settings(None, {"fusion.enabled": False}))
    face, body = timeline.track("face"), timeline.track("body")
    assert face.settings["people_seen"] == 1  # was: 2, the one who came back after 52 s a new person
    back = [w for w in face.windows if w.start_s >= 60.0]
    assert back and all(w.quality > 0 for w in back)  # was: 'face lost' from the return to the end
    assert body.settings["poses_of_others_left_out"] == 0


def test_an_audio_only_input_gets_no_face_track(tmp_path):
    from runtime.arms.face.arm import analyze_face_request
    from runtime.media import probe
    from runtime.pipeline import AnalysisRequest

    path = write_media(tmp_path / "a.wav", tone(1.0), audio_codec="pcm_s16le")
    request = AnalysisRequest(path, probe(path), load_settings())
    assert analyze_face_request(request) is None


def test_face_classify_writes_one_row_per_image(tmp_path):
    cv2.imwrite(str(tmp_path / "person.png"), cv2.cvtColor(astronaut(), cv2.COLOR_RGB2BGR))
    cv2.imwrite(str(tmp_path / "wall.png"), np.full((200, 200, 3), 90, np.uint8))
    out = tmp_path / "faces.csv"
    assert main(["face", "classify", str(tmp_path), "--csv", str(out)]) == 0
    rows = {r["path"].split("/")[-1]: r for r in csv.DictReader(out.read_text().splitlines())}
    assert rows["person.png"]["emotion"] == "happy" and rows["person.png"]["reason"] == ""  # she smiles broadly
    assert rows["wall.png"]["emotion"] == "" and rows["wall.png"]["reason"] == "no face found"  # was: no word why


def _classified(tmp_path: Path, images: dict[str, np.ndarray], *options: str) -> dict[str, dict]:
    """face classify's rows, by file name, of RGB ``images`` written as PNG files."""
    for name, image in images.items():
        cv2.imwrite(str(tmp_path / name), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    out = tmp_path / "faces.csv"
    assert main(["face", "classify", *(str(tmp_path / name) for name in images), "--csv", str(out), *options]) == 0
    return {r["path"].split("/")[-1]: r for r in csv.DictReader(out.read_text().splitlines())}


def test_face_classify_finds_the_small_faces_the_face_arm_finds_in_photographs_scaled_as_analyze_scales(tmp_path):
    from tests.arms.face.video_factory import distant_face_frame

    rows = _classified(tmp_path, {
        "room.png": distant_face_frame(62, (900, 300)),  # a 1280x720 room camera's distant face
        "phone.png": distant_face_frame(210, (2600, 1000), 4032, 3024),  # 67 px at 1280, as analyze sees it
    })
    # was: no face found in each (the whole-frame look alone, at full resolution)
    assert rows["room.png"]["emotion"] == rows["phone.png"]["emotion"] == "happy"
    config = tmp_path / "far.toml"
    config.write_text("[face]\nmin_face_px = 60\n")
    far = distant_face_frame(150, (2600, 1000), 4032, 3024)  # 150 px in the photo, 48 at 1280: under 60 there
    row = _classified(tmp_path, {"far.png": far}, "--config", str(config))["far.png"]
    assert row["emotion"] == ""
    assert row["reason"] == "face under 60 px (in the image scaled to 1280 px, face.max_side_px)"


def test_face_classify_takes_the_largest_face_the_mesh_reads_not_a_larger_false_box(tmp_path):
    photo = np.zeros((600, 1400, 3), np.uint8)  # her portrait, and a smaller copy around which the detector
    photo[40:552, 40:552] = astronaut()  # boxes a 225-px false face (mesh presence under 0.001) at 1280 px
    photo[100:356, 900:1156] = cv2.resize(astronaut(), (256, 256), interpolation=cv2.INTER_AREA)
    row = _classified(tmp_path, {"two.png": photo})["two.png"]
    assert row["emotion"] == "happy" and row["reason"] == ""  # was: face mesh not found on the face


def test_face_classify_suggests_cropped_for_a_face_crop_given_as_a_photograph(fer2013_dir, tmp_path):
    fer = cv2.cvtColor(cv2.imread(str(sorted((fer2013_dir / "PublicTest" / "happy").glob("*.png"))[0])),
                       cv2.COLOR_BGR2RGB)
    rows = _classified(tmp_path, {"fer.png": fer, "wall.png": np.full((480, 640, 3), 90, np.uint8)})
    assert rows["fer.png"]["emotion"] == ""
    assert rows["fer.png"]["reason"] == ("no face found (a 48x48 image, smaller than the face finder's 192-px input: "
                                         "a face crop? --cropped reads it as one)")  # was: no face found, no hint
    assert rows["wall.png"]["reason"] == "no face found"  # an image the finder sees whole: no hint


def test_face_classify_cropped_beats_chance_on_fer_faces(fer2013_dir, tmp_path):
    root = fer2013_dir / "PublicTest"
    paths = [p for cls in ("happy", "surprise", "neutral") for p in sorted((root / cls).glob("*.png"))[:15]]
    out = tmp_path / "fer.csv"
    assert main(["face", "classify", *map(str, paths), "--csv", str(out), "--cropped"]) == 0
    expected = {"happy": "happy", "surprise": "surprised", "neutral": "neutral"}
    rows = list(csv.DictReader(out.read_text().splitlines()))
    correct = sum(r["emotion"] == expected[r["path"].split("/")[-2]] for r in rows)
    assert len(rows) == 45 and correct / 45 > 0.5  # chance over seven labels is 0.14


def test_face_classify_leaves_a_crop_too_small_to_read_unclassified(fer2013_dir, tmp_path, caplog):
    fer = sorted((fer2013_dir / "PublicTest" / "happy").glob("*.png"))[0]
    crops = tmp_path / "crops"
    crops.mkdir()
    cv2.imwrite(str(crops / "fer.png"), cv2.imread(str(fer)))
    cv2.imwrite(str(crops / "dot.png"), np.full((1, 1, 3), 128, np.uint8))
    cv2.imwrite(str(crops / "strip.png"), cv2.resize(cv2.imread(str(fer)), (48, 10)))
    out = tmp_path / "crops.csv"
    assert main(["face", "classify", str(crops), "--csv", str(out), "--cropped"]) == 0
    rows = {r["path"].split("/")[-1]: r for r in csv.DictReader(out.read_text().splitlines())}
    assert rows["fer.png"]["emotion"] != ""
    assert rows["dot.png"]["emotion"] == "" and rows["strip.png"]["emotion"] == ""
    assert rows["dot.png"]["reason"] == rows["strip.png"]["reason"] == "crop under 24 px"
    assert "2 image(s) left unclassified (empty emotion): crop under 24 px" in caplog.text


def test_face_classify_leaves_a_black_or_blank_crop_empty_with_why(fer2013_dir, tmp_path, caplog):
    fer = fer2013_dir / "PublicTest"
    crops = tmp_path / "crops"
    crops.mkdir()
    cv2.imwrite(str(crops / "face.png"), cv2.imread(str(sorted((fer / "happy").glob("*.png"))[0])))
    cv2.imwrite(str(crops / "black.png"), np.zeros((48, 48, 3), np.uint8))
    cv2.imwrite(str(crops / "dark.png"), np.full((48, 48, 3), 20, np.uint8))
    cv2.imwrite(str(crops / "grey.png"), np.full((48, 48, 3), 128, np.uint8))
    cv2.imwrite(str(crops / "fer-black.png"), cv2.imread(str(fer / "angry" / "30002.png")))  # all black in FER-2013
    out = tmp_path / "crops.csv"
    assert main(["face", "classify", str(crops), "--csv", str(out), "--cropped"]) == 0
    rows = {r["path"].split("/")[-1]: r for r in csv.DictReader(out.read_text().splitlines())}
    assert rows["face.png"]["emotion"] and rows["face.png"]["reason"] == ""
    for name in ("black.png", "fer-black.png"):  # was: sad 0.68, no reason
        assert rows[name]["emotion"] == rows[name]["sad"] == ""
        assert rows[name]["reason"] == "face too dark to read its expression (mean grey 0 of 255)"
    assert rows["grey.png"]["emotion"] == "" and rows["grey.png"]["reason"].startswith("face crop blank")  # was sad
    assert rows["dark.png"]["reason"] == "face too dark to read its expression (mean grey 20 of 255)"
    # one line per kind of reason, not per mean grey
    assert "3 image(s) left unclassified (empty emotion): face too dark to read its expression\n" in caplog.text


def test_face_classify_leaves_a_photographed_face_too_dark_to_read_empty_with_why(tmp_path):
    noise = np.random.default_rng(0).normal(0, 6, astronaut().shape)  # a dim room at 15 % of the light, and noise
    dim = np.clip(astronaut() * 0.15 + noise, 0, 255).astype(np.uint8)
    cv2.imwrite(str(tmp_path / "dim.png"), cv2.cvtColor(dim, cv2.COLOR_RGB2BGR))
    out = tmp_path / "dim.csv"
    assert main(["face", "classify", str(tmp_path / "dim.png"), "--csv", str(out)]) == 0
    row = next(csv.DictReader(out.read_text().splitlines()))
    assert row["emotion"] == "" and row["reason"].startswith("face too dark to read its expression")  # was: a label


def test_a_16_bit_image_is_read_on_its_full_range_and_one_using_only_its_low_bits_is_said(tmp_path, caplog):
    from runtime.arms.face.classify import read_rgb

    photo = cv2.cvtColor(astronaut(), cv2.COLOR_RGB2BGR)
    cv2.imwrite(str(tmp_path / "full.png"), photo.astype(np.uint16) * 257)
    assert np.abs(read_rgb(tmp_path / "full.png").astype(int) - astronaut()).max() <= 1 and not caplog.messages
    twelve_bit = tmp_path / "twelve.png"  # a 12-bit sensor's values in a 16-bit file
    cv2.imwrite(str(twelve_bit), photo.astype(np.uint16) * 16)
    assert read_rgb(twelve_bit).max() <= 16  # nearly black on the 16-bit range: not stretched into a guess
    assert caplog.messages == [f"{twelve_bit}: 16-bit image whose values reach only 4080 of 65535 (a 12-bit or "
                               "smaller range?): read on the full 16-bit range, so it is nearly black"]
    out = tmp_path / "x.csv"
    assert main(["face", "classify", str(twelve_bit), "--csv", str(out), "--cropped"]) == 0
    assert next(csv.DictReader(out.read_text().splitlines()))["reason"].startswith("face too dark")


@pytest.mark.parametrize("fill", ["photo", "nan", "grey"])
def test_a_floating_point_image_is_refused_in_one_line_not_read_as_grey_levels(tmp_path, capsys, fill):
    from runtime.arms.face.classify import read_rgb

    photo = cv2.cvtColor(astronaut(), cv2.COLOR_RGB2BGR).astype(np.float32) / 255.0  # 0-1, as float TIFFs often are
    if fill == "nan":
        photo[:8] = np.nan  # no grey level at all: never cast
    if fill == "grey":  # one channel, which OpenCV's colour read fails on (was: its own log line, cut off)
        photo = photo.mean(axis=2)
    path = tmp_path / "float.tif"
    assert cv2.imwrite(str(path), photo)
    # was: read as 0-255 grey levels, a 0-1 photograph all but black ('face too dark') without a word
    with pytest.raises(InputError, match=r"float\.tif: not a readable image \(floating-point samples\)$"):
        read_rgb(path)
    out = tmp_path / "x.csv"
    assert main(["face", "classify", str(path), "--csv", str(out), "--cropped"]) == 2
    assert capsys.readouterr().err == f"emotrace: error: {path}: not a readable image (floating-point samples)\n"


def test_a_damaged_jpeg_is_said_once_in_our_words_not_the_codecs(tmp_path, capfd, caplog):
    from runtime.arms.face.classify import read_rgb

    ok, encoded = cv2.imencode(".jpg", cv2.cvtColor(astronaut(), cv2.COLOR_RGB2BGR))
    damaged = tmp_path / "cut.jpg"
    damaged.write_bytes(encoded.tobytes()[: encoded.size * 2 // 3])  # a copy that stopped
    image = read_rgb(damaged)
    assert ok and image.shape == astronaut().shape  # read as far as it goes
    assert capfd.readouterr().err == ""  # was: libjpeg's "Premature end of JPEG file" on stderr
    assert caplog.messages == [f"{damaged}: damaged image, read as far as it goes (Premature end of JPEG file)"]


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk: length, type, data and its CRC."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def test_a_png_whose_colour_profile_libpng_ignores_is_read_without_a_word(tmp_path, capfd, caplog):
    from runtime.arms.face.classify import read_rgb

    png = cv2.imencode(".png", np.full((30, 30, 3), 120, np.uint8))[1].tobytes()
    path = tmp_path / "profiled.png"  # a bad iCCP chunk after the header: libpng warns and ignores the profile
    path.write_bytes(png[:33] + _png_chunk(b"iCCP", b"bad\x00\x00" + zlib.compress(b"no profile" * 10)) + png[33:])
    assert read_rgb(path).shape == (30, 30, 3)
    assert capfd.readouterr().err == "" and not caplog.messages  # not called damaged: the picture is whole


def test_an_image_declaring_more_pixels_than_opencv_reads_is_refused_in_one_line_naming_it(tmp_path, capsys):
    bomb = tmp_path / "bomb.png"  # 69 bytes declaring 60000 x 60000 pixels
    bomb.write_bytes(b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", 60000, 60000, 8, 2, 0, 0, 0))
                     + _png_chunk(b"IDAT", zlib.compress(b"\0" * 100)) + _png_chunk(b"IEND", b""))
    assert main(["face", "classify", str(bomb), "--csv", str(tmp_path / "x.csv")]) == 2  # was 1: internal error
    assert capsys.readouterr().err == (f"emotrace: error: {bomb}: not a readable image (it declares more pixels than "
                                       "OpenCV reads)\n")
    assert not (tmp_path / "x.csv").exists()


def test_face_classify_goes_on_past_images_it_cannot_read_and_says_each_in_one_line(fer2013_dir, tmp_path, capsys):
    fer = sorted((fer2013_dir / "PublicTest" / "happy").glob("*.png"))[:2]
    crops = tmp_path / "crops"
    crops.mkdir()
    for path in fer:
        cv2.imwrite(str(crops / path.name), cv2.imread(str(path)))
    cv2.imwrite(str(crops / "dot.png"), np.full((1, 1, 3), 128, np.uint8))  # read, but too small: a row, no failure
    (crops / "empty.png").write_bytes(b"")
    (crops / "notes.jpg").write_text("not an image\n")
    out = tmp_path / "crops.csv"
    # was: exit 2 at the first unreadable image, and no CSV at all
    assert main(["face", "classify", str(crops), "--csv", str(out), "--cropped"]) == 2
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    # an empty file said as that, as every other command says it (was: 'not a readable image')
    assert lines == [f"emotrace: error: {crops / 'empty.png'}: empty file",
                     f"emotrace: error: {crops / 'notes.jpg'}: not a readable image",
                     f"emotrace: error: 2 of 5 files failed; {out} holds the other 3"]
    assert captured.out == f"{out}: 3 image(s), 2 classified\n"
    rows = {r["path"].split("/")[-1]: r for r in csv.DictReader(out.read_text().splitlines())}
    assert sorted(rows) == sorted([*(path.name for path in fer), "dot.png"])  # no row for an unreadable image
    assert all(rows[path.name]["emotion"] for path in fer) and rows["dot.png"]["reason"] == "crop under 24 px"


def test_face_classify_of_unreadable_images_alone_writes_nothing(tmp_path, capsys):
    for name in ("a.png", "b.png"):
        (tmp_path / name).write_bytes(b"")
    out = tmp_path / "x.csv"
    assert main(["face", "classify", str(tmp_path / "a.png"), str(tmp_path / "b.png"), "--csv", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.err.splitlines()[-1] == f"emotrace: error: 2 of 2 files failed; {out} not written"
    assert captured.out == "" and not out.exists()


def test_face_classify_reports_a_missing_file_in_one_line(tmp_path, capsys):
    assert main(["face", "classify", str(tmp_path / "nope.png"), "--csv", str(tmp_path / "x.csv")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_a_person_number_nobody_has_is_said_once(tmp_path, monkeypatch, caplog):
    from runtime.arms.face import arm
    from runtime.arms.face.observer import FaceObservation
    from runtime.arms.video.scan import VideoScan
    from runtime.media import probe
    from runtime.pipeline import AnalysisRequest

    video = write_media(tmp_path / "v.mp4", tone(1.0), 48000, "aac", "mpeg4", video_s=1.0)
    scan = VideoScan(frame_times_s=[0.0, 0.5], n_people=2, patient_id=1,
                     faces=[FaceObservation(0.0, 1, 0.9, 0.9, 80.0), FaceObservation(0.5, 2, 0.9, 0.9, 60.0)])
    monkeypatch.setattr(arm, "shared_scan", lambda _request: scan)
    settings = load_settings(None, {**VIDEO_ONLY, "face.person": "99", "face.model": ""})
    with caplog.at_level("WARNING", logger=arm.__name__):
        track = arm.analyze_face_request(AnalysisRequest(video, probe(video), settings))
    assert all(w.reason == "no face" for w in track.windows)
    said = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert said == [f"{video}: face.person = 99, but only 2 people were seen: every face window says no face"]


def _observation(t_s: float, eye_opening: float):
    from runtime.arms.face.observer import FaceObservation

    return FaceObservation(t_s, 1, 0.9, 0.9, 100.0, measurements={"eye_opening": eye_opening},
                           probs=np.full(7, 1 / 7))


def test_a_blink_is_counted_once_however_many_frames_its_eyes_stay_closed():
    from runtime.arms.face.geometry import blinks

    opening = np.array([0.3, 0.3, 0.05, 0.05, 0.3, 0.3, 0.05, 0.3])
    assert blinks(opening, np.arange(8) * 0.2).tolist() == pytest.approx([0.4, 1.2])


def test_a_windows_expression_weighs_each_frame_by_its_face_confidence():
    from runtime.arms.face.arm import mean_expression
    from runtime.arms.face.observer import FaceObservation

    sure = FaceObservation(0.0, 1, 0.9, 1.0, 100.0, probs=np.array([1.0, 0, 0, 0, 0, 0, 0]))
    unsure = FaceObservation(0.2, 1, 0.1, 1.0, 100.0, probs=np.array([0, 1.0, 0, 0, 0, 0, 0]))
    rejected = FaceObservation(0.4, 1, 0.9, 0.1, 100.0, probs=np.array([0, 0, 1.0, 0, 0, 0, 0]))  # mesh rejected
    assert mean_expression([sure, unsure, rejected])[:3] == pytest.approx([0.9, 0.1, 0.0])


def test_blink_rate_is_not_measured_from_fewer_than_three_frames():
    from runtime.arms.face.arm import FaceSettings, face_track
    from runtime.arms.video.scan import VideoScan
    from runtime.track import CANONICAL_LABELS

    labels = [label for label in CANONICAL_LABELS if label != "calm"]
    short = VideoScan(frame_times_s=[0.0, 0.2], faces=[_observation(0.0, 0.3), _observation(0.2, 0.05)],
                      n_people=1, patient_id=1)
    window = face_track(short, 1, 0.4, FaceSettings(), labels).windows[0]
    assert window.quality > 0 and np.isnan(window.measurements["blink_rate_per_min"])
    times, eyes = [0.0, 0.2, 0.4, 0.6], [0.3, 0.3, 0.05, 0.3]
    longer = VideoScan(frame_times_s=times, faces=[_observation(t, e) for t, e in zip(times, eyes, strict=True)],
                       n_people=1, patient_id=1)
    assert face_track(longer, 1, 0.8, FaceSettings(), labels).windows[0].measurements["blink_rate_per_min"] == 75.0


def test_face_windows_read_each_faces_time_a_few_times_not_once_per_window():
    from runtime.arms.face.arm import FaceSettings, face_track
    from runtime.arms.face.observer import FaceObservation
    from runtime.arms.video.scan import VideoScan

    class CountedFace(FaceObservation):
        """A face observation that counts how often its time is read."""

        reads = 0

        @property
        def t_s(self) -> float:
            CountedFace.reads += 1
            return self._t_s

        @t_s.setter
        def t_s(self, value: float) -> None:
            self._t_s = value

    times = [i / 5 for i in range(5 * 600)]  # ten minutes at 5 fps: 600 windows
    faces = [CountedFace(t, 1, 0.9, 0.9, 100.0, measurements={"eye_opening": 0.3}, probs=np.full(7, 1 / 7))
             for t in times]
    scan = VideoScan(frame_times_s=times, faces=faces, n_people=1, patient_id=1)
    CountedFace.reads = 0
    track = face_track(scan, 1, 600.0, FaceSettings(), [])
    assert all(w.quality == pytest.approx(0.81) for w in track.windows[:-1])
    # Every face looked at for every window made the face track's time grow with the square of the session:
    # 1.8 million reads here, 65 million for an hour.
    assert CountedFace.reads < 10 * len(faces)


def test_a_window_the_camera_saw_only_in_part_is_judged_at_that_share_of_its_quality():
    from runtime.arms.face.arm import FaceSettings, face_track
    from runtime.arms.video.scan import VideoScan

    times = [i / 5 for i in range(15)]  # 5 fps until 2.8 s, then the camera is lost: its frames stand until 3.3 s
    scan = VideoScan(frame_times_s=times, faces=[_observation(t, 0.3) for t in times], n_people=1, patient_id=1)
    windows = {(w.start_s, w.end_s): w for w in face_track(scan, 1, 6.0, FaceSettings(), []).windows}
    assert windows[(0.0, 2.0)].quality == pytest.approx(0.81)
    assert windows[(2.0, 4.0)].quality == pytest.approx(0.81 * 0.65)  # was 0.81: the lost 0.7 s counted as seen
    assert windows[(3.0, 5.0)].quality == 0 and windows[(3.0, 5.0)].reason.startswith("no video frames")


def test_a_face_too_dark_to_read_gets_quality_0_and_why_not_an_expression_read_from_noise():
    from runtime.arms.face.arm import face_track
    from runtime.arms.face.settings import FaceSettings
    from runtime.arms.video.scan import make_observers, scan_frames
    from runtime.sources.video import VideoFrame
    from tests.arms.face.video_factory import moving_frame

    photo, noise = astronaut().astype(np.float32), np.random.default_rng(0)
    settings = FaceSettings()
    faces, _ = make_observers(settings)

    def track(light: float):
        frames = [VideoFrame(i / 5, np.clip(moving_frame(photo * light, i / 5, 640, 480)
                                            + noise.normal(0, 6 * (light < 1), (480, 640, 3)), 0, 255)
                             .astype(np.uint8)) for i in range(20)]
        scan = scan_frames(frames, faces)
        return face_track(scan, scan.patient_id, 4.0, settings, faces.expression.labels)

    dim = track(0.15)  # a dim room at 15 % of the light, with the camera's noise
    assert all(w.quality == 0 and w.reason.startswith("face too dark to read its expression") for w in dim.windows)
    assert all(w.measurements.get("face_coverage", 0) > 0 for w in dim.windows)  # the face is still there
    lit = track(1.0)  # was: the dim face read as sad at quality 0.72
    assert all(w.quality > 0.5 and w.probs for w in lit.windows)


def test_a_face_whose_crop_is_blank_gets_quality_0_and_why_not_an_expression(monkeypatch):
    from runtime.arms.face.arm import face_track
    from runtime.arms.face.settings import FaceSettings
    from runtime.arms.video.scan import make_observers, scan_frames
    from runtime.sources.video import VideoFrame
    from tests.arms.face.video_factory import moving_frame

    settings = FaceSettings()
    faces, _ = make_observers(settings)
    crop = faces.expression.crop
    # the face found and meshed, its crop washed out to a flat bright grey (a face burnt out white): no features
    monkeypatch.setattr(faces.expression, "crop", lambda image, roi: np.full_like(crop(image, roi), 200))
    frames = [VideoFrame(i / 5, moving_frame(astronaut(), i / 5, 640, 480)) for i in range(10)]
    scan = scan_frames(frames, faces)
    track = face_track(scan, scan.patient_id, 2.0, settings, faces.expression.labels)
    assert track.windows and all(w.measurements.get("face_coverage", 0) > 0 for w in track.windows)  # face there
    # was: the blank crop read for an expression (a flat grey crop as sad at 0.59), the window claiming it
    assert all(not w.has_claim and w.quality == 0 and w.reason == "face crop blank, no features to read its "
               "expression (spread 0.0 grey of 255)" for w in track.windows)


def test_face_classify_says_each_unreadable_image_as_it_meets_it(tmp_path, monkeypatch):
    import runtime.arms.face.classify as classify
    import runtime.cli as cli

    (tmp_path / "a.png").write_bytes(b"")
    cv2.imwrite(str(tmp_path / "b.png"), np.full((48, 48, 3), 128, np.uint8))
    events: list[str] = []
    read = classify.read_rgb
    monkeypatch.setattr(classify, "read_rgb", lambda path: events.append(f"read {path.name}") or read(path))
    monkeypatch.setattr(cli, "_complain", events.append)
    out = tmp_path / "x.csv"
    assert main(["face", "classify", str(tmp_path / "a.png"), str(tmp_path / "b.png"), "--csv", str(out),
                 "--cropped"]) == 2
    # was: every failure line after the last image was read
    assert events == ["read a.png", f"emotrace: error: {tmp_path / 'a.png'}: empty file",
                      "read b.png", f"emotrace: error: 1 of 2 files failed; {out} holds the other 1"]


def test_face_classify_reads_the_face_settings_of_a_config(fer2013_dir, tmp_path, capsys):
    fer = sorted((fer2013_dir / "PublicTest" / "happy").glob("*.png"))[0]
    config = tmp_path / "clinic.toml"
    config.write_text("[face]\nmin_face_px = 100\n")
    out = tmp_path / "crops.csv"
    # was: 'unrecognized arguments: --config', so the clinic's face.min_face_px never applied
    assert main(["face", "classify", str(fer), "--csv", str(out), "--cropped", "--config", str(config)]) == 0
    [row] = csv.DictReader(out.read_text().splitlines())
    assert row["emotion"] == "" and row["reason"] == "crop under 100 px"  # the 48 px FER crop is under it
    config.write_text('[face]\nmodel = ""\n')
    assert main(["face", "classify", str(fer), "--csv", str(out), "--cropped", "--config", str(config)]) == 2
    assert f"{config}: setting 'face.model' = '': names no expression model" in capsys.readouterr().err
    for setting, cropped in (("model", ["--cropped"]), ("detector", []), ("landmarks", [])):
        config.write_text(f'[face]\n{setting} = "nosuch"\n')
        assert main(["face", "classify", str(fer), "--csv", str(out), "--config", str(config), *cropped]) == 2
        # was: 'nosuch: no shipped model of that id', naming neither the file nor the key
        assert f"{config}: setting 'face.{setting}' = 'nosuch': no shipped model" in capsys.readouterr().err
    config.write_text('[face]\ndetector = "nosuch"\n')  # crops need no finder: a setting it does not read
    assert main(["face", "classify", str(fer), "--csv", str(out), "--config", str(config), "--cropped"]) == 0


def test_face_classify_reads_an_image_whose_name_is_not_utf8_and_writes_its_row(tmp_path):
    import os
    import subprocess
    import sys

    crop = np.repeat(np.linspace(40, 220, 48, dtype=np.uint8)[None, :, None], 48, axis=0).repeat(3, axis=2)  # not blank
    cv2.imwrite(str(tmp_path / "ok.png"), crop)
    Path(os.fsdecode(bytes(tmp_path) + b"/f\xe9.png")).write_bytes((tmp_path / "ok.png").read_bytes())  # Latin-1
    out = tmp_path / "faces.csv"
    # a process of its own: OpenCV's imread given such a name crashed the process (exit 139, no line, no CSV)
    done = subprocess.run([sys.executable, "-m", "runtime.cli", "face", "classify", str(tmp_path), "--csv", str(out),
                           "--cropped"], capture_output=True, text=True, timeout=300)
    assert (done.returncode, done.stderr) == (0, "")
    rows = list(csv.DictReader(out.read_text(encoding="utf-8").splitlines()))
    assert sorted(r["path"] for r in rows) == [f"{tmp_path}/f\\xe9.png", str(tmp_path / "ok.png")]
    assert rows[0]["emotion"] == rows[1]["emotion"] != ""


def test_a_jpeg_cut_short_under_a_name_that_is_not_utf8_is_read_as_far_as_it_goes_as_under_any_name(tmp_path):
    import os

    from runtime.arms.face.classify import read_rgb

    encoded = cv2.imencode(".jpg", cv2.cvtColor(astronaut(), cv2.COLOR_RGB2BGR))[1].tobytes()
    cut = Path(os.fsdecode(bytes(tmp_path) + b"/coup\xe9.jpg"))  # Latin-1
    cut.write_bytes(encoded[: len(encoded) * 2 // 3])
    assert read_rgb(cut).shape == astronaut().shape  # as its bytes decoded would not be: nothing of a cut JPEG


def test_a_windows_quality_counts_only_the_frames_whose_expression_could_be_read():
    from runtime.arms.face.arm import face_window
    from runtime.arms.face.observer import FaceObservation

    dark = "face too dark to read its expression (mean grey 20 of 255)"
    found = [FaceObservation(0.2 * i, 1, 0.9, 0.9, 100.0, probs=np.full(7, 1 / 7), unreadable="" if i % 2 else dark)
             for i in range(10)]  # the face in every frame, readable in every other one
    window = face_window(0.0, 2.0, 10, found, False, 1.0)
    assert window.quality == pytest.approx(0.5 * 0.81)  # was it the face's coverage, 0.81


def test_a_window_without_the_face_carries_only_a_face_coverage_of_0():
    from runtime.arms.face.arm import FaceSettings, face_track
    from runtime.arms.video.scan import VideoScan

    times = [i / 5 for i in range(30)]
    seen = [t for t in times if 2.0 <= t < 3.0]  # the face only from 2 s to 3 s
    scan = VideoScan(frame_times_s=times, faces=[_observation(t, 0.3) for t in seen], n_people=1, patient_id=1)
    windows = {w.start_s: w for w in face_track(scan, 1, 6.0, FaceSettings(), []).windows}
    assert windows[0.0].reason == "no face" and windows[0.0].measurements == {"face_coverage": 0.0}
    assert windows[3.0].reason == "face lost" and windows[3.0].measurements == {"face_coverage": 0.0}


def test_a_blink_at_a_windows_end_counts_in_the_windows_it_starts_not_the_one_it_ends():
    from runtime.arms.face.arm import FaceSettings, face_track
    from runtime.arms.video.scan import VideoScan

    times = [i / 5 for i in range(20)]
    scan = VideoScan(frame_times_s=times, faces=[_observation(t, 0.05 if t == 2.0 else 0.3) for t in times],
                     n_people=1, patient_id=1)
    rates = {w.start_s: w.measurements["blink_rate_per_min"] for w in face_track(scan, 1, 4.0, FaceSettings(),
                                                                                 []).windows}
    assert rates[0.0] == 0.0 and rates[1.0] == 30.0 and rates[2.0] == 30.0  # windows are [start, end)


def test_blink_rate_is_measured_from_three_frames():
    from runtime.arms.face.arm import FaceSettings, face_track
    from runtime.arms.video.scan import VideoScan

    times, eyes = [0.0, 0.2, 0.4], [0.3, 0.05, 0.3]
    scan = VideoScan(frame_times_s=times, faces=[_observation(t, e) for t, e in zip(times, eyes, strict=True)],
                     n_people=1, patient_id=1)
    assert face_track(scan, 1, 0.6, FaceSettings(), []).windows[0].measurements["blink_rate_per_min"] == (
        pytest.approx(100.0))  # one blink in 0.6 s


def test_a_windows_face_size_is_the_median_of_its_frames():
    from runtime.arms.face.arm import FaceSettings, face_track
    from runtime.arms.face.observer import FaceObservation
    from runtime.arms.video.scan import VideoScan

    times, sizes = [0.0, 0.2, 0.4], [100.0, 300.0, 110.0]  # one frame's box blown up by a false detection
    faces = [FaceObservation(t, 1, 0.9, 0.9, size, measurements={"eye_opening": 0.3}, probs=np.full(7, 1 / 7))
             for t, size in zip(times, sizes, strict=True)]
    scan = VideoScan(frame_times_s=times, faces=faces, n_people=1, patient_id=1)
    assert face_track(scan, 1, 0.6, FaceSettings(), []).windows[0].measurements["face_size_px"] == 110.0


def _face_warnings(tmp_path, monkeypatch, caplog, person: str, n_people: int) -> tuple[Path, list[str]]:
    """The face arm's warnings on a scan of ``n_people`` people (none of them in any frame when 0)."""
    from runtime.arms.face import arm
    from runtime.arms.face.observer import FaceObservation
    from runtime.arms.video.scan import VideoScan
    from runtime.media import probe
    from runtime.pipeline import AnalysisRequest

    video = write_media(tmp_path / "v.mp4", tone(1.0), 48000, "aac", "mpeg4", video_s=1.0)
    faces = [FaceObservation(0.0, k, 0.9, 0.9, 80.0) for k in range(1, n_people + 1)]
    scan = VideoScan(frame_times_s=[0.0, 0.2, 0.4], n_people=n_people, patient_id=1 if n_people else None,
                     faces=faces)
    monkeypatch.setattr(arm, "shared_scan", lambda _request: scan)
    settings = load_settings(None, {**VIDEO_ONLY, "face.person": person, "face.model": ""})
    with caplog.at_level("WARNING", logger=arm.__name__):
        arm.analyze_face_request(AnalysisRequest(video, probe(video), settings))
    return video, [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]


def test_the_last_persons_number_is_said_nothing_of_and_one_person_too_few_is_said_in_the_singular(
        tmp_path, monkeypatch, caplog):
    assert _face_warnings(tmp_path, monkeypatch, caplog, "2", 2)[1] == []
    video, said = _face_warnings(tmp_path, monkeypatch, caplog, "3", 1)
    assert said == [f"{video}: face.person = 3, but only 1 person was seen: every face window says no face"]


def test_a_video_without_a_face_is_said_with_the_number_of_frames_sampled(tmp_path, monkeypatch, caplog):
    video, said = _face_warnings(tmp_path, monkeypatch, caplog, "patient", 0)
    assert said == [f"{video}: no face found in 3 sampled frames"]


def test_everyones_face_tracks_of_a_video_without_a_face_are_one_track_saying_no_face():
    from runtime.arms.face.arm import FaceSettings, face_tracks
    from runtime.arms.video.scan import VideoScan

    scan = VideoScan(frame_times_s=[i / 5 for i in range(10)])
    tracks = face_tracks(scan, 2.0, FaceSettings(person="all", model=""))
    assert [t.name for t in tracks] == ["face"]
    assert tracks[0].windows and all(w.reason == "no face" for w in tracks[0].windows)


def test_a_16_bit_image_reaching_a_12_bit_sensors_white_of_4095_is_said_and_one_past_it_is_not(tmp_path, caplog):
    from runtime.arms.face.classify import read_rgb

    ramp = np.linspace(0, 1, 64 * 64).reshape(64, 64)
    for brightest in (4095, 4096):
        cv2.imwrite(str(tmp_path / f"{brightest}.png"), np.repeat(np.round(ramp * brightest)[..., None], 3, axis=2)
                    .astype(np.uint16))
        read_rgb(tmp_path / f"{brightest}.png")
    assert caplog.messages == [f"{tmp_path / '4095.png'}: 16-bit image whose values reach only 4095 of 65535 (a "
                               "12-bit or smaller range?): read on the full 16-bit range, so it is nearly black"]
