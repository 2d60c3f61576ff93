import subprocess
import sys
import wave

import pytest

from runtime.cli import main
from runtime.errors import InputError
from tests.media_factory import tone, write_media


def test_extract_audio_command_writes_the_wav(tmp_path, capsys):
    video = write_media(tmp_path / "v.mkv", tone(2.0), 48000, "libopus", "libx264", video_s=2.0)
    assert main(["extract-audio", str(video), "-o", str(tmp_path / "a.wav"), "--sr", "8000"]) == 0
    with wave.open(str(tmp_path / "a.wav")) as handle:
        assert handle.getframerate() == 8000
    assert "a.wav" in capsys.readouterr().out


@pytest.mark.parametrize("args", [
    ["extract-audio", "{tmp}/missing.mp4"],
    ["analyze", "{tmp}/missing.mp4", "--out", "{tmp}/out"],
    ["audio", "classify", "{tmp}/missing.wav", "--csv", "{tmp}/x.csv"],
    ["analyze", "{tmp}/v.mp4", "--out", "{tmp}/out", "--config", "{tmp}/nope.toml"],
    ["analyze", "{tmp}/v.mp4", "--out", "{tmp}/out", "--config", "{tmp}"],  # was IsADirectoryError
    ["analyze", "{tmp}/v.mp4", "--out", "{tmp}/out", "--fusion", "mean", "--weights", "audio=0,face=1"],
    ["analyze", "{tmp}/v.mp4", "--out", "{tmp}/out", "--physio", "{tmp}/v.mp4", "--config", "{tmp}/nophysio.toml"],
])
def test_bad_input_gives_one_line_and_exit_2(tmp_path, capsys, args):
    write_media(tmp_path / "v.mp4", tone(1.0), 48000, "aac", "mpeg4", video_s=1.0)
    (tmp_path / "nophysio.toml").write_text("[physio]\nenabled = false\n")
    code = main([a.format(tmp=tmp_path) for a in args])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("emotrace: error: ") and err.count("\n") == 1
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists() and not (tmp_path / "x.csv").exists()


def test_installed_command_reports_bad_input_without_traceback(tmp_path):
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    result = subprocess.run([sys.executable, "-m", "runtime.cli", "extract-audio", str(empty)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip() == f"emotrace: error: {empty}: empty file"


@pytest.mark.parametrize("text", [",", " ", ", ,"])
def test_a_number_list_option_of_no_numbers_is_refused_not_read_as_none(text):
    from runtime.cli import _speed_factors

    with pytest.raises(InputError, match="--speed-perturb takes numbers such as 0.9,1.1, or 'none'"):
        _speed_factors(text)  # was: () -- the same as 'none', training without the speed copies
    assert _speed_factors("none") == () and _speed_factors("1.1, 0.9") == (0.9, 1.1)


def test_a_command_gives_back_the_sigterm_handler_it_found(tmp_path, capsys):
    import signal

    def host_handler(signum, frame):  # what a program embedding the CLI had set
        pass

    # a guard (the code before never touched the handler): fails when the CLI sets SIGTERM and does not restore it
    before = signal.signal(signal.SIGTERM, host_handler)
    try:
        assert main(["extract-audio", str(tmp_path / "missing.mp4")]) == 2  # a command that ends in an error
        assert signal.getsignal(signal.SIGTERM) is host_handler  # not left raising KeyboardInterrupt
    finally:
        signal.signal(signal.SIGTERM, before)


def test_a_training_command_on_a_device_install_names_what_it_lacks_in_one_line(tmp_path, capsys, monkeypatch):
    import export.body.train

    def without_torch(*_args):
        raise ModuleNotFoundError("No module named 'torch'", name="torch")

    monkeypatch.setattr(export.body.train, "train_body", without_torch)
    # was: "emotrace: internal error: ModuleNotFoundError", exit 1
    assert main(["train", "body", str(tmp_path / "segments.csv"), "--out", str(tmp_path / "body")]) == 2
    assert capsys.readouterr().err == ("emotrace: error: train body: needs the training host's torch, which this "
                                       "install lacks (pip install -e '.[train]')\n")


def test_a_missing_module_the_device_itself_needs_is_still_an_internal_error(tmp_path, capsys, monkeypatch):
    import export.body.train

    def without_numpy(*_args):
        raise ModuleNotFoundError("No module named 'numpy'", name="numpy")

    monkeypatch.setattr(export.body.train, "train_body", without_numpy)
    monkeypatch.delenv("EMOTRACE_DEBUG", raising=False)
    assert main(["train", "body", str(tmp_path / "segments.csv"), "--out", str(tmp_path / "body")]) == 1
    assert capsys.readouterr().err.startswith("emotrace: internal error: ModuleNotFoundError")


def test_the_version_is_the_installed_packages(capsys, monkeypatch):
    import importlib
    import importlib.metadata

    import runtime

    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out == f"emotrace {runtime.__version__}\n"

    def not_installed(_name):
        raise importlib.metadata.PackageNotFoundError("emotrace")

    try:  # the version is read from the package's metadata (pyproject.toml's), not written a second time
        monkeypatch.setattr(importlib.metadata, "version", lambda name: "9.9.9" if name == "emotrace" else "?")
        assert importlib.reload(runtime).__version__ == "9.9.9"
        monkeypatch.setattr(importlib.metadata, "version", not_installed)
        assert importlib.reload(runtime).__version__ == "unknown"  # a checkout never installed
    finally:
        monkeypatch.undo()
        importlib.reload(runtime)


def _settings_analyze_gets(tmp_path, monkeypatch, *options: str):
    """The settings ``analyze x.wav OPTIONS`` hands to the pipeline (stopped there: exit 2)."""
    import runtime.pipeline as pipeline

    seen = {}

    def analyzed(input_path, out, settings, extras=None):
        seen.update(settings=settings)
        raise InputError(input_path, "stopped here by the test")

    monkeypatch.setattr(pipeline, "analyze_file", analyzed)
    assert main(["analyze", str(tmp_path / "x.wav"), "--out", str(tmp_path / "o"), *options]) == 2
    return seen["settings"]


def test_analyze_hands_its_flags_to_the_settings(tmp_path, monkeypatch):
    settings = _settings_analyze_gets(tmp_path, monkeypatch, "--window-s", "3", "--hop-s", "1", "--realtime",
                                      "--weights", "audio=0.3,face=0.7")
    assert (settings["audio"]["window_s"], settings["audio"]["hop_s"], settings["runtime"]["realtime"]) == (3.0, 1.0,
                                                                                                          True)
    assert settings["fusion"]["method"] == "weighted"  # weights alone choose the weighted method
    assert settings["fusion"]["weights"] == "audio=0.3,face=0.7"


def test_extract_audio_writes_16_khz_unless_told(tmp_path):
    video = write_media(tmp_path / "v.mkv", tone(1.0), 48000, "pcm_s16le")
    assert main(["extract-audio", str(video), "-o", str(tmp_path / "a.wav")]) == 0
    with wave.open(str(tmp_path / "a.wav")) as wav:
        assert wav.getframerate() == 16000


def test_a_command_stopped_by_ctrl_c_exits_130(tmp_path, monkeypatch, capsys):
    import runtime.pipeline as pipeline

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "analyze_file", interrupted)
    assert main(["analyze", str(tmp_path / "x.wav"), "--out", str(tmp_path / "o")]) == 130
    assert capsys.readouterr().err == "emotrace: interrupted\n"


def run_with_its_reader_gone(args: list[str], stream: str) -> subprocess.CompletedProcess:
    """``emotrace ARGS`` whose ``stream`` ('stdout' or 'stderr') is a pipe no one reads any more, as for
    ``emotrace ... | head -1`` or a terminal closed before the command ends."""
    import os

    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run([sys.executable, "-m", "runtime.cli", *args], text=True, timeout=120,
                              stdout=write_end if stream == "stdout" else subprocess.PIPE,
                              stderr=write_end if stream == "stderr" else subprocess.PIPE)
    finally:
        os.close(write_end)


def test_a_command_whose_stdout_reader_left_succeeds_with_its_lines_lost(tmp_path):
    video = write_media(tmp_path / "v.mkv", tone(1.0), 48000, "libopus", "libx264", video_s=1.0)
    done = run_with_its_reader_gone(["extract-audio", str(video), "-o", str(tmp_path / "a.wav")], "stdout")
    assert (done.returncode, done.stderr) == (0, "")  # was 1: 'internal error: BrokenPipeError', the WAV written
    with wave.open(str(tmp_path / "a.wav")) as handle:
        assert handle.getnframes() > 0


def test_bad_input_whose_stderr_reader_left_still_exits_2(tmp_path):
    done = run_with_its_reader_gone(["extract-audio", str(tmp_path / "missing.mp4")], "stderr")
    assert (done.returncode, done.stdout) == (2, "")  # was 1, a traceback no one could read in place of the line


@pytest.mark.parametrize("command", [["audio", "classify"], ["evaluate", "audio"]])
def test_the_speaker_baseline_help_names_the_speech_a_baseline_needs_as_the_judging_uses_it(command, capsys):
    from runtime.arms.audio.classify import MIN_BASELINE_SPEECH_S

    with pytest.raises(SystemExit):
        main([*command, "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    # was: evaluate's 'as classify's folder', while classify z-scored a folder of any length
    assert f"under the runtime's default {MIN_BASELINE_SPEECH_S:g} s of speech by the population variant" in help_text


def test_an_output_name_that_is_not_utf8_is_printed_with_its_byte_escaped_on_a_strict_stdout(tmp_path):
    import os

    video = write_media(tmp_path / "v.mkv", tone(1.0), 48000, "pcm_s16le")
    out = bytes(tmp_path) + b"/s\xe9ance.wav"  # a Latin-1 name
    done = subprocess.run([sys.executable, "-m", "runtime.cli", "extract-audio", str(video), "-o", out],
                          capture_output=True, timeout=120, env={**os.environ, "PYTHONIOENCODING": "utf-8:strict"})
    # was: exit 1, 'internal error: UnicodeEncodeError' after the WAV was written
    assert (done.returncode, done.stderr) == (0, b"")
    assert done.stdout.decode("utf-8").startswith(f"{tmp_path}/s\\xe9ance.wav: 1.000 s")
    assert os.path.getsize(out) > 0


def test_a_warning_naming_a_file_that_is_not_utf8_prints_its_byte_escaped_as_the_csv_writes_it(tmp_path):
    import os

    folder = tmp_path / "clips"
    folder.mkdir()
    latin1 = bytes(folder) + b"/s\xe9ance.flac"  # a Latin-1 name, given and under a folder given
    open(latin1, "wb").close()
    # the warning is said as the files are gathered; the empty file then fails the batch
    done = subprocess.run([sys.executable, "-m", "runtime.cli", "audio", "classify", folder, latin1, "--csv",
                           tmp_path / "o.csv"], capture_output=True, timeout=120,
                          env={**os.environ, "PYTHONIOENCODING": "utf-8:strict"})
    err = done.stderr.decode("utf-8")
    assert done.returncode == 2 and err.isascii()
    assert err.splitlines()[0] == (f"1 of the audio files named more than once (the same file as one named before); "
                                   f"each read once, left out: {folder}/s\\xe9ance.flac")  # was: s\udce9ance.flac


@pytest.mark.parametrize(("option", "setting"), [("--window-s", "audio.window_s"), ("--hop-s", "audio.hop_s")])
def test_analyze_refuses_a_window_out_of_range_naming_the_option_typed(tmp_path, capsys, option, setting):
    out = tmp_path / "out"
    assert main(["analyze", str(tmp_path / "never-read.wav"), "--out", str(out), option, "-1"]) == 2
    assert capsys.readouterr().err == (f"emotrace: error: {option}: setting '{setting}' must be a number of seconds "
                                       "from 0.1 to 86400, not -1.0\n")  # was: 'command line: setting ...'
    assert not out.exists()


@pytest.mark.parametrize("command", [["train", "fusion", "--out", "o"], ["evaluate", "fusion", "--out", "o"],
                                     ["evaluate", "audio", "data", "--out", "o"],
                                     ["evaluate", "face", "data", "--out", "o"],
                                     ["evaluate", "physio", "data", "--out", "o"],
                                     ["train", "face", "data", "--out", "o"]])
@pytest.mark.parametrize("seed", ["-1", "18446744073709551616", "1.5"])
def test_a_seed_out_of_range_is_refused_as_the_options_are_parsed_naming_the_option(command, seed, capsys):
    from runtime.cli import MAX_SEED, build_parser

    with pytest.raises(SystemExit) as refused:  # was: an internal error after all the work
        build_parser().parse_args([*command, "--seed", seed])
    assert refused.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1].endswith(
        f"error: argument --seed: '{seed}': a seed is a whole number from 0 to {MAX_SEED}")
    assert build_parser().parse_args([*command, "--seed", str(MAX_SEED)]).seed == MAX_SEED


@pytest.mark.parametrize("repeats", ["0", "-1", "1.5", "1001"])
def test_a_number_of_repeats_out_of_range_is_refused_as_the_options_are_parsed(repeats, capsys):
    from runtime.cli import MAX_REPEATS, build_parser

    with pytest.raises(SystemExit) as refused:
        build_parser().parse_args(["evaluate", "fusion", "--out", "o", "--repeats", repeats])
    assert refused.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1].endswith(
        f"error: argument --repeats: '{repeats}': a number of seeds is a whole number from 1 to {MAX_REPEATS}")


def test_seeds_that_run_past_the_last_seed_are_refused_before_any_work_naming_both_options(tmp_path, capsys):
    from runtime.cli import MAX_SEED

    tables = [f"audio={tmp_path / 'never-read.csv'}", f"face={tmp_path / 'f.csv'}"]  # not there: read first, said
    command = ["evaluate", "fusion", "--table", tables[0], "--table", tables[1], "--out", str(tmp_path / "eval")]
    # was: the whole first comparison, then seed 2**32 an internal error in the fuser's training
    assert main([*command, "--seed", str(MAX_SEED), "--repeats", "2"]) == 2
    assert capsys.readouterr().err == (f"emotrace: error: --seed, --repeats: --seed {MAX_SEED} with --repeats 2 runs "
                                       f"seeds up to {MAX_SEED + 1}; a seed is a whole number from 0 to {MAX_SEED}\n")
    assert main([*command, "--seed", str(MAX_SEED - 1), "--repeats", "2"]) == 2  # the last seed in range: on to work
    assert "never-read.csv" in capsys.readouterr().err


def test_extract_audio_refuses_to_replace_a_file_at_its_default_output_and_replaces_one_named_with_o(tmp_path, capsys):
    video = write_media(tmp_path / "session.mkv", tone(1.0), 48000, "pcm_s16le")
    beside = tmp_path / "session.wav"
    beside.write_bytes(b"a separate, longer recording")
    assert main(["extract-audio", str(video)]) == 2  # was: replaced, exit 0, nothing said
    assert capsys.readouterr().err == (f"emotrace: error: {beside}: exists, and the default output replaces no file; "
                                       "name it with -o to replace it\n")
    assert beside.read_bytes() == b"a separate, longer recording"
    assert main(["extract-audio", str(video), "-o", str(beside)]) == 0  # named: replaced, as --csv and --out are
    with wave.open(str(beside)) as handle:
        assert handle.getnframes() == 16000


@pytest.mark.parametrize("name", ["session.wav", "SESSION.WAV"])  # a field recorder's capitals: was SESSION.wav
def test_extract_audio_writes_a_wav_inputs_sound_beside_it_as_name_audio_wav_and_its_help_says_so(
        tmp_path, capsys, name):
    recording = write_media(tmp_path / name, tone(1.0), 48000, "pcm_s16le")
    assert main(["extract-audio", str(recording)]) == 0
    written = recording.with_suffix(".audio.wav")
    assert sorted(tmp_path.iterdir()) == sorted([recording, written])
    with wave.open(str(written)) as handle:
        assert handle.getnframes() == 16000
    capsys.readouterr()
    with pytest.raises(SystemExit):
        main(["extract-audio", "--help"])
    assert "NAME.audio.wav for a .wav input" in " ".join(capsys.readouterr().out.split())  # was: VIDEO with .wav alone


def test_a_sample_rate_out_of_range_is_refused_naming_the_option(capsys):
    with pytest.raises(SystemExit) as refused:
        main(["extract-audio", "v.mp4", "--sr", "0"])
    assert refused.value.code == 2  # was: 'sample rate 0 Hz: must be between ...', which named no option
    assert capsys.readouterr().err.splitlines()[-1].endswith(
        "error: argument --sr: '0': a sample rate in Hz is a whole number from 1000 to 192000")


def test_a_config_naming_a_fusion_card_of_a_modality_no_arm_writes_is_one_line_naming_the_file(tmp_path, capsys):
    # a copy of the shipped stacking card naming 'voice' for the audio arm's track: no session ever has it
    import json
    import shutil

    from runtime.models.card import REPO_MODELS_DIR

    write_media(tmp_path / "v.mp4", tone(1.0), 48000, "aac", "mpeg4", video_s=1.0)
    folder = shutil.copytree(REPO_MODELS_DIR / "fusion-stacking", tmp_path / "fusion")
    card = json.loads((folder / "card.json").read_text())
    card["modalities"] = ["voice", "face"]
    (folder / "card.json").write_text(json.dumps(card))
    config = tmp_path / "clinic.toml"
    config.write_text(f'[fusion]\nmodel = "{folder}"\n')
    code = main(["analyze", str(tmp_path / "v.mp4"), "--out", str(tmp_path / "out"), "--config", str(config)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and not (tmp_path / "out").exists()
    assert err.startswith(f"emotrace: error: {config}: setting 'fusion.model' = ")
    assert err.endswith("the stacking model's card names voice, which no arm's track is (audio, face, body): it would "
                        "never be fused\n")


def test_extract_audio_refuses_to_write_over_its_own_input_and_leaves_it_whole(tmp_path, capsys):
    recording = write_media(tmp_path / "session.wav", tone(1.0), 48000, "pcm_s16le")
    before = recording.read_bytes()
    # was it written: the 48 kHz recording replaced by its 16 kHz mono copy, the original gone
    assert main(["extract-audio", str(recording), "-o", str(recording)]) == 2
    assert capsys.readouterr().err == f"emotrace: error: {recording}: output would overwrite the input\n"
    assert recording.read_bytes() == before


def test_extract_audio_writes_the_lowest_sample_rate_its_help_names(tmp_path, capsys):
    video = write_media(tmp_path / "v.mkv", tone(1.0), 48000, "pcm_s16le")
    assert main(["extract-audio", str(video), "-o", str(tmp_path / "a.wav"), "--sr", "1000"]) == 0  # "1000 to 192000"
    with wave.open(str(tmp_path / "a.wav")) as handle:
        assert (handle.getframerate(), handle.getnframes()) == (1000, 1000)
    assert capsys.readouterr().out == f"{tmp_path / 'a.wav'}: 1.000 s, 1000 Hz mono\n"


@pytest.mark.parametrize("stream", ["0", "-1"])
def test_extract_audio_refuses_an_audio_stream_number_below_one_and_writes_nothing(tmp_path, capsys, stream):
    from tests.media_factory import write_audio_streams

    path = write_audio_streams(tmp_path / "two.m4a", [tone(1.0), tone(1.0, frequency_hz=440.0)])
    # streams count from 1: 0 or -1 is no stream (Python's index would read the last one without a word)
    assert main(["extract-audio", str(path), "-o", str(tmp_path / "a.wav"), "--audio-stream", stream]) == 2
    assert capsys.readouterr().err == f"emotrace: error: {path}: has 2 audio stream(s), no stream {stream}\n"
    assert not (tmp_path / "a.wav").exists()


def test_analyze_without_realtime_keeps_the_configs_realtime(tmp_path, monkeypatch):
    config = tmp_path / "clinic.toml"
    config.write_text("[runtime]\nrealtime = true\n")
    # the flag not given is no "--realtime false": it leaves the config's setting as it is
    settings = _settings_analyze_gets(tmp_path, monkeypatch, "--config", str(config))
    assert settings["runtime"]["realtime"] is True and settings.source("runtime.realtime") == str(config)


def test_weights_alone_leaving_the_configs_fusion_model_behind_say_so_naming_weights_the_option_typed(
        tmp_path, monkeypatch, caplog):
    config = tmp_path / "clinic.toml"
    config.write_text('[fusion]\nmethod = "stacking"\nmodel = "fusion-stacking"\n')
    with caplog.at_level("WARNING"):
        _settings_analyze_gets(tmp_path, monkeypatch, "--config", str(config), "--weights", "audio=1,face=3")
    # --weights chose the weighted method: no --fusion was typed
    assert [r.getMessage() for r in caplog.records] == [
        f"{config}: fusion.model = 'fusion-stacking' left out: fusion.method 'weighted' from --weights does not use it"]


def test_analyze_refuses_an_empty_weights_option_before_any_work(tmp_path, capsys):
    video = write_media(tmp_path / "in.wav", tone(1.0), 16000, "pcm_s16le")
    assert main(["analyze", str(video), "--out", str(tmp_path / "out"), "--weights", " "]) == 2
    assert capsys.readouterr().err == "emotrace: error: --weights: no weights given (e.g. audio=0.3,face=0.7)\n"
    assert not (tmp_path / "out").exists()  # was: the default fusion run, as if no --weights were given
