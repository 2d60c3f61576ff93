import pytest

from runtime.config import load_settings
from runtime.errors import InputError


def _refusal(overrides):
    with pytest.raises(InputError) as raised:
        load_settings(None, overrides)
    return str(raised.value)


def test_checkpoints_may_be_off_or_up_to_a_day_apart_and_no_further():
    # 0: a live session's timeline written at its start only (docs); a day: the longest interval the rule names
    assert load_settings(None, {"runtime.checkpoint_every_s": 0.0})["runtime"]["checkpoint_every_s"] == 0.0
    assert load_settings(None, {"runtime.checkpoint_every_s": 86400.0})["runtime"]["checkpoint_every_s"] == 86400.0
    assert _refusal({"runtime.checkpoint_every_s": 86401.0}) == (
        "command line: setting 'runtime.checkpoint_every_s' must be 0 (no checkpoints while the session runs) or 10 "
        "to 86400 seconds, not 86401")


@pytest.mark.parametrize("rate_hz", [16001, 22050, 48000])
def test_an_audio_rate_above_the_models_own_is_refused_too(rate_hz):
    assert "'audio.sample_rate_hz' must be 16000, the rate" in _refusal({"audio.sample_rate_hz": rate_hz})


@pytest.mark.parametrize("name", ["audio-1", "body-2", "physio-1"])
def test_only_the_face_track_has_one_track_per_person_a_weight_may_name(name):
    problem = _refusal({"fusion.method": "weighted", "fusion.weights": f"{name}=1,face=1"})
    assert f"setting 'fusion.weights' names no track: {name} (tracks:" in problem


def test_a_weight_of_exactly_the_largest_allowed_is_accepted():
    settings = load_settings(None, {"fusion.method": "weighted", "fusion.weights": "audio=1000,face=1"})
    assert settings["fusion"]["weights"] == "audio=1000,face=1"


def test_one_persons_face_weight_alone_is_something_to_fuse():
    # face=0 with face-2=1: person 2's face track is fused (modality_weight), so the weights are not all 0
    weights = "audio=0,face=0,body=0,face-2=1"
    assert load_settings(None, {"fusion.method": "weighted", "fusion.weights": weights})["fusion"]["weights"] == weights


@pytest.mark.parametrize("entry", ["body.", "physio."])
def test_an_arousal_source_naming_a_track_but_no_measurement_is_refused(entry):
    assert "'fusion.arousal_from' must list TRACK.NAME entries" in _refusal({"fusion.arousal_from": [entry]})
    assert _refusal({"fusion.arousal_from": [entry]}).endswith(f"not {entry!r}")


def test_the_live_baseline_is_at_most_a_day():
    assert load_settings(None, {"physio.live_baseline_s": 86400.0})["physio"]["live_baseline_s"] == 86400.0
    assert _refusal({"physio.live_baseline_s": 86401.0}) == (
        "command line: setting 'physio.live_baseline_s' must be a number of seconds from 0 to 86400, not 86401.0")


def test_an_incongruence_divergence_above_one_bit_is_refused():
    # Jensen-Shannon divergence in bits lies in [0, 1]: above it no pair of windows would ever be flagged
    assert load_settings(None, {"fusion.incongruence_divergence": 1.0})["fusion"]["incongruence_divergence"] == 1.0
    assert _refusal({"fusion.incongruence_divergence": 1.01}) == (
        "command line: setting 'fusion.incongruence_divergence' must be a Jensen-Shannon divergence in bits from 0 "
        "to 1, not 1.01")


@pytest.mark.parametrize("text", ["window_s = 2.0\n[audio]\nhop_s = 0.5\n", "audio = 3\n"])
def test_a_key_outside_any_section_is_one_line_naming_the_file(tmp_path, text):
    # a key written above the first [section], or a section given a value
    path = tmp_path / "clinic.toml"
    path.write_text(text)
    with pytest.raises(InputError) as raised:
        load_settings(path)
    name = text.split(" ")[0]
    assert str(raised.value) == f"{path}: '{name}' must be a [section]"


def test_the_smallest_face_may_be_as_large_as_the_frames():
    settings = load_settings(None, {"face.min_face_px": 1280, "face.max_side_px": 1280})
    assert (settings["face"]["min_face_px"], settings["face"]["max_side_px"]) == (1280, 1280)
    assert "'face.min_face_px' = 1281 is larger than the frames" in _refusal(
        {"face.min_face_px": 1281, "face.max_side_px": 1280})


def test_a_setting_refused_after_loading_names_the_option_that_gave_it():
    # checks made after the settings are loaded (a model's card, the input's streams) use setting_error: the
    # line names what the user typed, as a refusal while loading does
    from runtime.config import setting_error

    settings = load_settings(None, {"audio.window_s": 3.0}, {"audio.window_s": "--window-s"})
    error = setting_error(settings, "audio.window_s", "longer than the model's 2 s")
    assert str(error) == "--window-s: setting 'audio.window_s' = 3.0: longer than the model's 2 s"
    plain = setting_error(load_settings(None, {"audio.window_s": 3.0}), "audio.window_s", "too long")
    assert plain.source == "command line"


@pytest.mark.parametrize("name", ["face-0", "face-01"])
def test_a_weight_for_a_face_track_no_person_has_is_refused(name):
    # with every real track at 0, this weight is all there is: nothing would be fused
    with pytest.raises(InputError, match=f"'fusion.weights' names no track: {name}"):
        load_settings(None, {"fusion.method": "weighted", "fusion.weights": f"audio=0,face=0,body=0,{name}=1"})


@pytest.mark.parametrize("name", ["face-0", "face-01"])
def test_an_arousal_source_on_a_face_track_no_person_has_is_refused(name):
    with pytest.raises(InputError, match="'fusion.arousal_from' must list TRACK.NAME entries"):
        load_settings(None, {"fusion.arousal_from": [f"{name}.activation"]})
