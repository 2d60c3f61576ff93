import pytest

from runtime.config import DEFAULTS, load_settings
from runtime.errors import InputError


def test_file_and_overrides_layer_over_defaults(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[audio]\nwindow_s = 3\nspeaker_baseline = "none"\n')
    settings = load_settings(path, {"audio.hop_s": 1.0, "audio.window_s": None})
    assert settings["audio"]["window_s"] == 3.0 and isinstance(settings["audio"]["window_s"], float)
    assert settings["audio"]["hop_s"] == 1.0
    assert settings["audio"]["speaker_baseline"] == "none"
    assert settings["runtime"]["backend"] == DEFAULTS["runtime"]["backend"]


@pytest.mark.parametrize(("text", "problem"), [
    ('[audio]\nwindow_sec = 2.0\n', "unknown setting 'audio.window_sec'"),
    ('[audio]\nwindow_s = "long"\n', "must be float"),
    ('[audio]\nwindow_s = -1.0\n', "must be a positive number of seconds"),
    ('[physio]\nwindow_s = nan\n', "'physio.window_s' must be a positive number of seconds, not nan"),
    ('[physio]\nhop_s = inf\n', "'physio.hop_s' must be a positive number of seconds, not inf"),
    ('[runtime]\nbackend = "cuda"\n', "must be one of"),
    ('[audio\n', "not valid TOML"),
    ('[face]\nperson = "therapist"\n', "patient, all or a person number"),
    ('[face]\nexpression_threads = 0\n', "'face.expression_threads' must be at least 1"),
])
def test_bad_config_names_the_file_and_the_key(tmp_path, text, problem):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(InputError, match=problem) as info:
        load_settings(path)
    assert str(path) in str(info.value)


def test_missing_config_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="no such config file"):
        load_settings(tmp_path / "nope.toml")


def test_reference_config_in_deploy_states_every_default():
    from tests.conftest import REPO_ROOT

    reference = load_settings(REPO_ROOT / "deploy" / "emotrace.toml")
    assert reference == load_settings(None)
    import tomllib

    stated = tomllib.loads((REPO_ROOT / "deploy" / "emotrace.toml").read_text())
    assert {s: set(v) for s, v in stated.items()} == {s: set(v) for s, v in DEFAULTS.items()}


@pytest.mark.parametrize("section", ["audio", "face", "body", "physio"])
def test_arm_settings_take_every_field_their_config_section_holds(tmp_path, section):
    import dataclasses

    from runtime.arms.audio.arm import AudioSettings
    from runtime.arms.body.arm import BodySettings
    from runtime.arms.face.arm import FaceSettings
    from runtime.arms.physio.arm import PhysioSettings

    kind = {"audio": AudioSettings, "face": FaceSettings, "body": BodySettings, "physio": PhysioSettings}[section]
    path = tmp_path / "c.toml"
    path.write_text(f"[{section}]\nwindow_s = 7.5\nhop_s = 2.5\n")
    values = load_settings(path)[section]
    settings = kind.from_config(values)
    assert (settings.window_s, settings.hop_s) == (7.5, 2.5)
    for field in dataclasses.fields(kind):
        # every field is a config key (a setting the file cannot change would be a silent default)
        assert field.name in values, f"{section}.{field.name} is not in the config"
        assert getattr(settings, field.name) == values[field.name]
