"""Settings with a fixed set of words refuse others, and
``Settings.given`` says only what a config file or the command line set."""
import pytest

from runtime.config import load_settings
from runtime.errors import InputError


def _refusal(overrides):
    with pytest.raises(InputError) as raised:
        load_settings(None, overrides)
    return str(raised.value)


@pytest.mark.parametrize("word", ["everyone", "both", "none", "0"])
def test_face_person_is_patient_all_or_a_person_number_and_nothing_else(word):
    assert "setting 'face.person' must be patient, all or a person number" in _refusal({"face.person": word})


@pytest.mark.parametrize("dotted, word, choices", [
    ("fusion.when", "sometimes", "multiple"),
    ("audio.speaker_baseline", "folder", "session"),  # classify's "folder" is no baseline analyze or live has
])
def test_a_word_outside_a_settings_choices_is_refused_naming_the_setting(dotted, word, choices):
    problem = _refusal({dotted: word})
    assert problem.startswith(f"command line: setting '{dotted}' must be one of")
    assert choices in problem


def test_a_setting_left_at_its_default_is_not_given_and_one_set_is(tmp_path):
    config = tmp_path / "emotrace.toml"
    config.write_text("[physio]\nhop_s = 30.0\n")
    settings = load_settings(config, {"physio.window_s": 120.0, "physio.live_model": None})
    assert settings.given("physio.window_s") == 120.0  # the command line's
    assert settings.given("physio.hop_s") == 30.0  # the file's
    assert settings.given("physio.live_model") is None  # the default stands: a caller keeps its own (a card's)
    assert load_settings().given("physio.window_s") is None
