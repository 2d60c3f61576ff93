import pytest

from runtime.checks import check_models
from runtime.config import DEFAULTS, load_settings
from runtime.errors import InputError
from runtime.models.card import REPO_MODELS_DIR
from tests.pipes import refusal_of_a_pipe


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
    ('[audio]\nwindow_s = -1.0\n', "'audio.window_s' must be a number of seconds from 0.1 to 86400, not -1.0"),
    ('[physio]\nwindow_s = nan\n', "'physio.window_s' must be a number of seconds from 0.1 to 86400, not nan"),
    ('[physio]\nhop_s = inf\n', "'physio.hop_s' must be a number of seconds from 0.1 to 86400, not inf"),
    ('[runtime]\nbackend = "cuda"\n', "must be one of"),
    ('[audio\n', "not valid TOML"),
    ('[face]\nperson = "therapist"\n', "patient, all or a person number"),
    ('[face]\nexpression_threads = 0\n', "'face.expression_threads' must be a number of threads from 1 to 64"),
])
def test_bad_config_names_the_file_and_the_key(tmp_path, text, problem):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(InputError, match=problem) as info:
        load_settings(path)
    assert str(path) in str(info.value)


# Values of the right type that ran for minutes, crashed, or silently changed or dropped what was analysed.
@pytest.mark.parametrize(("text", "problem"), [
    ('[audio]\nsample_rate_hz = 8000\n', "'audio.sample_rate_hz' must be 16000, the rate .* trained on"),
    ('[audio]\nsample_rate_hz = 0\n', "'audio.sample_rate_hz' must be 16000"),
    ('[audio]\nmin_speech_fraction = 1.5\n', "'audio.min_speech_fraction' must be a fraction from 0 to 1, not 1.5"),
    ('[audio]\nmin_speech_fraction = nan\n', "'audio.min_speech_fraction' must be a fraction from 0 to 1, not nan"),
    ('[audio]\nhop_s = 1e-9\n', "'audio.hop_s' must be a number of seconds from 0.1 to 86400, not 1e-09"),
    ('[audio]\nmodel = ""\n', "'audio.model' must name a model"),
    ('[face]\nperson = "0"\n', "'face.person' must be patient, all or a person number .*not '0'"),
    ('[face]\nperson = "\u00b2"\n', "'face.person' must be patient, all or a person number"),
    ('[face]\nmax_side_px = 0\n', "'face.max_side_px' must be a size in pixels from 128 to 16384, not 0"),
    ('[face]\nmin_face_px = -3\n', "'face.min_face_px' must be a size in pixels from 1 to 4096, not -3"),
    ('[face]\nsearch_every_s = -1.0\n', "'face.search_every_s' must be a number of seconds from 0 to 3600, not -1.0"),
    ('[face]\nmin_face_px = 2000\nmax_side_px = 1000\n', "'face.min_face_px' = 2000 is larger than the frames"),
    ('[face]\nexpression_threads = 5000\n', "'face.expression_threads' must be a number of threads from 1 to 64"),
    ('[face]\nsample_fps = 0.0\n', "'face.sample_fps' must be frames per second from 0.1 to 120, not 0.0"),
    ('[face]\nsample_fps = 1e-300\n', "'face.sample_fps' must be frames per second from 0.1 to 120, not 1e-300"),
    ('[face]\nsample_fps = nan\n', "'face.sample_fps' must be frames per second from 0.1"),
    ('[fusion]\nincongruence_confidence = nan\n', "'fusion.incongruence_confidence' must be a fraction from 0 to 1"),
    ('[fusion]\nincongruence_divergence = -1.0\n', "'fusion.incongruence_divergence' must be a Jensen-Shannon"),
    ('[fusion]\narousal_from = [1, 2]\n', "'fusion.arousal_from' must list TRACK.NAME entries .*not 1"),
    ('[runtime]\ncheckpoint_every_s = 0.5\n',  # rewriting the whole timeline twice a second: the session slowed
     "'runtime.checkpoint_every_s' must be 0 \\(no checkpoints while the session runs\\) or 10 to 86400 seconds"),
    ('[fusion]\narousal_from = ["activation"]\n', "'fusion.arousal_from' must list TRACK.NAME entries"),
    ('[fusion]\narousal_from = ["bdy.activation"]\n', "'fusion.arousal_from' must list TRACK.NAME entries"),
    ('[fusion]\narousal_from = ["audio.angry"]\n', "'fusion.arousal_from' names the emotion label 'audio.angry'"),
    ('[fusion]\narousal_from = ["body.activation", "body.activation"]\n',
     "'fusion.arousal_from' lists a source twice"),  # counted twice, arousal would lean on it
    ('[fusion]\nmethod = "weighted"\nweights = "audio=1,face-x=1"\n', "'fusion.weights' names no track: face-x"),
    ('[fusion]\nmethod = "weighted"\nweights = "audio=1001,face=1"\n', "'fusion.weights' must hold weights from 0 "
                                                                          "to 1000"),
    ('[audio]\nmin_baseline_speech_s = 0.0\n', "'audio.min_baseline_speech_s' must be a number of seconds above 0"),
    ('[physio]\nlive_baseline_s = -60.0\n', "'physio.live_baseline_s' must be a number of seconds from 0"),
    ('[fusion]\nmethod = "weighted"\nweights = "audio=abc"\n', "'fusion.weights' 'audio=abc' is not MODALITY="),
    ('[fusion]\nmethod = "weighted"\nweights = "audio=inf,face=1"\n', "'fusion.weights' 'audio=inf' is not MODALITY="),
    ('[fusion]\nmethod = "weighted"\nweights = "voice=1,face=0"\n', "'fusion.weights' names no track: voice"),
    ('[fusion]\nmethod = "weighted"\nweights = "audio=0,face=0,body=0"\n',
     "'fusion.weights' weighs every emotion track \\(audio, face, body\\) 0: nothing would be fused"),
    ('[fusion]\nmethod = "weighted"\nweights = "audio=0,face=0,body=0,physio=1"\n',  # physio is fused for arousal
     "'fusion.weights' weighs every emotion track \\(audio, face, body\\) 0: nothing would be fused"),
    ('[fusion]\nmethod = "weighted"\nweights = "audio=1,face=2,audio=3"\n',
     "'fusion.weights' .*audio is weighed twice"),
    ('[fusion]\nweights = "audio=0.3,face=0.7"\n', "'fusion.weights' = .* is for fusion.method 'weighted' only; "
                                                    "fusion.method is 'stacking'"),
    ('[fusion]\nmethod = "mean"\nmodel = "fusion-attention"\n', "'fusion.model' = 'fusion-attention' is for the "
                                                                  "learned methods"),
])
def test_values_outside_their_range_or_at_odds_are_refused_naming_file_and_key(tmp_path, text, problem):
    path = tmp_path / "clinic.toml"
    path.write_text(text)
    with pytest.raises(InputError, match=problem) as info:
        load_settings(path)
    assert info.value.source == str(path)


def test_command_line_weights_with_another_method_are_refused_as_the_command_line(tmp_path):
    with pytest.raises(InputError, match="'fusion.weights' = 'audio=0,face=1' is for fusion.method 'weighted' only; "
                                         "fusion.method is 'mean'") as info:
        load_settings(None, {"fusion.method": "mean", "fusion.weights": "audio=0,face=1"})
    assert info.value.source == "command line"
    path = tmp_path / "c.toml"
    path.write_text('[fusion]\nmethod = "weighted"\nweights = "audio=1,face=3"\n')
    with pytest.raises(InputError, match="fusion.method is 'quality'") as info:  # both on the command line
        load_settings(path, {"fusion.weights": "audio=1", "fusion.method": "quality"})
    assert info.value.source == "command line"
    assert load_settings(path)["fusion"]["weights"] == "audio=1,face=3"


def test_a_hop_longer_than_the_window_is_allowed_for_sparse_sampling():
    settings = load_settings(None, {"audio.window_s": 2.0, "audio.hop_s": 10.0})  # 2 s every 10 s: a quick pass
    assert (settings["audio"]["window_s"], settings["audio"]["hop_s"]) == (2.0, 10.0)


def test_a_method_chosen_on_the_command_line_leaves_the_files_weights_and_model_behind(tmp_path, caplog):
    path = tmp_path / "c.toml"
    path.write_text('[fusion]\nmethod = "weighted"\nweights = "audio=1,face=3"\n')
    with caplog.at_level("WARNING"):
        settings = load_settings(path, {"fusion.method": "quality"})  # a clinic's config, a method tried for once
    assert settings["fusion"]["method"] == "quality" and settings["fusion"]["weights"] == ""
    assert [r.getMessage() for r in caplog.records] == [  # was: an INFO record, never shown
        f"{path}: fusion.weights = 'audio=1,face=3' left out: "
        "fusion.method 'quality' from command line does not use it"]
    path.write_text('[fusion]\nmethod = "stacking"\nmodel = "fusion-stacking"\n')
    assert load_settings(path, {"fusion.method": "mean"})["fusion"]["model"] == ""
    path.write_text('[fusion]\nweights = "audio=1,face=3"\n')  # the same layer: a clash, refused
    with pytest.raises(InputError, match="is for fusion.method 'weighted' only") as info:
        load_settings(path)
    assert info.value.source == str(path)


def test_every_number_setting_has_a_range_in_the_one_table():
    from runtime.config import RULES

    numbers = [f"{s}.{k}" for s, v in DEFAULTS.items() for k, d in v.items()
               if isinstance(d, (int, float)) and not isinstance(d, bool)]
    assert [n for n in numbers if n not in RULES or RULES[n].check is None and RULES[n].low is None] == []
    assert load_settings(None) == DEFAULTS  # the defaults pass their own rules


def test_settings_remember_where_each_value_came_from(tmp_path):
    import copy

    path = tmp_path / "c.toml"
    path.write_text("[audio]\nwindow_s = 3.0\n")
    settings = copy.deepcopy(load_settings(path, {"audio.hop_s": 1.0}))
    assert (settings.source("audio.window_s"), settings.source("audio.hop_s"), settings.source("face.hop_s")) == (
        str(path), "command line", "defaults")


def test_a_config_folder_or_unreadable_file_is_one_line(tmp_path):
    with pytest.raises(InputError, match="is a folder; give a config file"):
        load_settings(tmp_path)
    bom = tmp_path / "bom.toml"
    bom.write_bytes("\ufeff[audio]\nwindow_s = 3.0\n".encode())  # as Windows editors save it
    assert load_settings(bom)["audio"]["window_s"] == 3.0


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
    from runtime.arms.physio.stress import PhysioSettings

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


@pytest.mark.parametrize(("digits", "problem"), [
    (401, "setting 'audio.window_s' must be a finite number, not an integer of 401 digits"),  # was: OverflowError
    (5001, "not valid TOML ("),  # was: internal ValueError (the words after are CPython's own)
])
def test_an_integer_no_float_can_hold_is_one_line_naming_the_file(tmp_path, digits, problem):
    config = tmp_path / "big.toml"
    config.write_text(f"[audio]\nwindow_s = 1{'0' * (digits - 1)}\n")
    with pytest.raises(InputError) as refused:
        load_settings(config)
    assert str(refused.value).startswith(f"{config}: {problem}")


def test_settings_at_the_top_of_their_range_are_accepted(tmp_path):
    path = tmp_path / "clinic.toml"
    path.write_text("[audio]\nmin_speech_fraction = 1.0\n[face]\nexpression_threads = 64\n")
    settings = load_settings(path)
    assert (settings["audio"]["min_speech_fraction"], settings["face"]["expression_threads"]) == (1.0, 64)


@pytest.mark.parametrize(("section", "settings_class"), [
    ("audio", "runtime.arms.audio.arm:AudioSettings"),
    ("face", "runtime.arms.face.settings:FaceSettings"),
    ("body", "runtime.arms.body.settings:BodySettings"),
    ("physio", "runtime.arms.physio.stress:PhysioSettings"),
])
def test_an_arm_s_settings_class_defaults_to_what_the_reference_configuration_says(section, settings_class):
    # Code that builds the settings without a configuration (training, benchmarks) reads the class's defaults;
    # the device reads DEFAULTS. Two copies of one default must not drift apart.
    import dataclasses
    import importlib

    module, name = settings_class.split(":")
    fields = {f.name: f.default for f in dataclasses.fields(getattr(importlib.import_module(module), name))}
    shared = set(fields) & set(DEFAULTS[section])
    assert {key: fields[key] for key in shared} == {key: DEFAULTS[section][key] for key in shared}
    assert set(fields) <= set(DEFAULTS[section])  # every setting an arm reads can be set in the configuration


@pytest.mark.parametrize("stream", [0, -1, 65])
def test_an_audio_stream_number_out_of_range_is_said_once_in_plain_words(stream):
    with pytest.raises(InputError) as raised:
        load_settings(None, {"audio.stream": stream})
    assert str(raised.value) == (f"command line: setting 'audio.stream' must be an audio stream's number from 1 "
                                 f"to 64, not {stream}")  # was: "number, from 1 from 1 to 64"


def test_a_model_folder_a_config_names_by_a_relative_path_is_read_from_the_config_file_s_folder(tmp_path,
                                                                                                 monkeypatch):
    clinic = tmp_path / "etc" / "emotrace"
    (clinic / "mymodels").mkdir(parents=True)
    (clinic / "mymodels" / "voice").symlink_to(REPO_MODELS_DIR / DEFAULTS["audio"]["model"], target_is_directory=True)
    path = clinic / "emotrace.toml"
    path.write_text('[audio]\nmodel = "mymodels/voice"\n[face]\nmodel = "./mymodels/face"\n'
                    '[physio]\nmodel = "physio-stress"\nlive_model = "/opt/live"\n')
    monkeypatch.chdir("/")  # a service started from /
    settings = load_settings(path)
    assert settings["audio"]["model"] == str(clinic / "mymodels" / "voice")  # was: 'mymodels/voice', read from /
    assert settings["face"]["model"] == str(clinic / "mymodels" / "face")
    assert settings["physio"]["model"] == "physio-stress"  # an id stays an id
    assert settings["physio"]["live_model"] == "/opt/live"
    check_models(settings, ["audio"], fuse=False)  # the card is found from /
    # the command line's own paths are the current folder's
    assert load_settings(path, {"audio.model": "cli/voice"})["audio"]["model"] == "cli/voice"


def test_a_model_path_a_config_starts_with_a_tilde_is_read_from_the_home_folder(tmp_path, monkeypatch):
    home = tmp_path / "home" / "therapist"
    (home / "mymodels").mkdir(parents=True)
    (home / "mymodels" / "voice").symlink_to(REPO_MODELS_DIR / DEFAULTS["audio"]["model"], target_is_directory=True)
    monkeypatch.setenv("HOME", str(home))
    path = tmp_path / "etc" / "emotrace.toml"
    path.parent.mkdir()
    path.write_text('[audio]\nmodel = "~/mymodels/voice"\n')
    settings = load_settings(path)
    assert settings["audio"]["model"] == str(home / "mymodels" / "voice")  # was: .../etc/~/mymodels/voice
    check_models(settings, ["audio"], fuse=False)


def test_a_model_path_a_config_starts_with_the_tilde_of_no_user_is_refused_naming_the_file_and_setting(tmp_path):
    import pwd

    user = "emotrace-no-such-user"
    with pytest.raises(KeyError):
        pwd.getpwnam(user)  # the premise: this system has no such user
    path = tmp_path / "emotrace.toml"
    path.write_text(f'[face]\nmodel = "~{user}/face"\n')
    # was: read as a folder '~emotrace-no-such-user/face' beside the config file
    with pytest.raises(InputError) as refused:
        load_settings(path)
    assert str(refused.value) == (f"{path}: setting 'face.model': ~{user} in '~{user}/face' names no home folder here "
                                  "(no such user)")


def test_a_relative_model_path_in_a_config_reached_by_a_link_is_read_from_the_link_s_folder(tmp_path, monkeypatch):
    kept = tmp_path / "srv" / "settings"
    kept.mkdir(parents=True)
    (kept / "emotrace.toml").write_text('[audio]\nmodel = "mymodels/voice"\n')
    clinic = tmp_path / "etc" / "emotrace"
    clinic.mkdir(parents=True)
    (clinic / "emotrace.toml").symlink_to(kept / "emotrace.toml")
    monkeypatch.chdir("/")
    assert load_settings(clinic / "emotrace.toml")["audio"]["model"] == str(clinic / "mymodels" / "voice")
    assert load_settings(kept / "emotrace.toml")["audio"]["model"] == str(kept / "mymodels" / "voice")


def test_a_config_that_is_a_pipe_is_refused_at_once_as_an_input_pipe_is(tmp_path):
    fifo = tmp_path / "settings.toml"
    # was: waiting on the pipe for a writer, for ever at a command line
    assert refusal_of_a_pipe(load_settings, fifo) == f"{fifo}: is a device, pipe or socket; give a config file"


def test_a_value_an_option_gave_is_refused_naming_the_option_and_the_setting(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[fusion]\nmethod = "weighted"\n')
    with pytest.raises(InputError) as raised:
        load_settings(path, {"audio.window_s": -1.0}, {"audio.window_s": "--window-s"})
    assert str(raised.value) == "--window-s: setting 'audio.window_s' must be a number of seconds from 0.1 to 86400, " \
                                "not -1.0"  # was: "command line: setting ...", an option the user never typed
    with pytest.raises(InputError) as raised:  # a clash the option made is told by it too
        load_settings(path, {"fusion.method": "mean", "fusion.weights": "audio=1"},
                      {"fusion.method": "--fusion", "fusion.weights": "--weights"})
    assert raised.value.source == "--weights"
    settings = load_settings(path, {"audio.window_s": 3.0}, {"audio.window_s": "--window-s"})
    assert (settings.source("audio.window_s"), settings.told("audio.window_s")) == ("command line", "--window-s")
    assert settings.told("fusion.method") == str(path)


@pytest.mark.parametrize(("text", "problem"), [
    ("[audio]\nstream = true\n", "setting 'audio.stream' must be int, not True"),
    ("[face]\nmin_face_px = false\n", "setting 'face.min_face_px' must be int, not False"),
])
def test_a_true_or_false_for_a_whole_number_setting_is_refused_not_read_as_1_or_0(tmp_path, text, problem):
    # TOML's booleans are Python's ints: "stream = true" read as stream 1 would be a typo passing silently
    path = tmp_path / "clinic.toml"
    path.write_text(text)
    with pytest.raises(InputError) as raised:
        load_settings(path)
    assert str(raised.value) == f"{path}: {problem}"
