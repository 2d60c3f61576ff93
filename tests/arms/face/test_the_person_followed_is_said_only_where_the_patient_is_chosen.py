"""With several people seen, the warning names the person the one face track follows (the scan's patient, whoever
that is: person 2 where the second one seen is seen longest and largest), and only where face.person = "patient"
chose them: a person named by number was chosen by the user, not guessed; one person seen is no news."""

import logging
from pathlib import Path

from runtime.arms.face.arm import analyze_face_request
from runtime.arms.video.scan import VideoScan
from runtime.config import load_settings
from runtime.media import MediaInfo
from runtime.pipeline import AnalysisRequest


def _request(person: str, n_people: int = 2) -> AnalysisRequest:
    settings = load_settings()
    settings["face"]["person"] = person
    # the last person is followed
    scan = VideoScan(frame_times_s=[i / 5 for i in range(10)], patient_id=n_people, n_people=n_people)
    media = MediaInfo("two.mp4", "mp4", 2.0, has_audio=False, has_video=True)
    return AnalysisRequest(Path("two.mp4"), media, settings, {"video_scan": scan})


def test_the_warning_names_the_patient_followed_whoever_it_is(caplog):
    with caplog.at_level(logging.WARNING):
        analyze_face_request(_request("patient"))
    assert ('two.mp4: 2 people seen; the face track follows person 2, seen longest and largest (face.person = '
            '"all" gives each a track)') in [r.getMessage() for r in caplog.records]


def test_a_person_chosen_by_number_is_not_said_to_be_followed_as_the_one_seen_longest(caplog):
    with caplog.at_level(logging.WARNING):
        analyze_face_request(_request("2"))
    assert not any("seen longest and largest" in r.getMessage() for r in caplog.records)


def test_one_person_seen_is_not_warned_of(caplog):
    with caplog.at_level(logging.WARNING):
        analyze_face_request(_request("patient", n_people=1))
    assert not any("people seen" in r.getMessage() for r in caplog.records)
