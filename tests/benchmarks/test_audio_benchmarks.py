"""The voice benchmarks end bad input in one line naming it, and their tables name what they measured."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.conftest import REPO_ROOT, load_script
from tests.media_factory import tone, write_media


def _benchmark(name: str):
    return load_script(f"benchmarks/{name}.py")


def _ends_in(module, monkeypatch, *argv: str) -> str:
    """The one line ``main`` ends the run with (SystemExit's message: printed alone, exit status 1)."""
    monkeypatch.setattr("sys.argv", [module.__name__, *argv])
    with pytest.raises(SystemExit) as ended:
        module.main()
    assert isinstance(ended.value.code, str) and "\n" not in ended.value.code
    return ended.value.code


@pytest.mark.parametrize("name", ["audio_int8_cv", "audio_candidates"])
def test_a_missing_corpus_is_one_line(name, tmp_path, monkeypatch):
    line = _ends_in(_benchmark(name), monkeypatch, str(tmp_path / "missing"))
    assert line.startswith(str(tmp_path / "missing")) and "no such folder or manifest" in line


def _ravdess(root, emotions: list[int]):
    """A RAVDESS-shaped folder: actor 01's empty speech clips of these emotion codes (their levels are patched)."""
    (root / "Actor_01").mkdir(parents=True)
    for code in emotions:
        (root / "Actor_01" / f"03-01-{code:02d}-01-01-01-01.wav").touch()
    return root


def test_the_speech_level_of_a_folder_without_ravdess_clips_is_one_line(tmp_path, monkeypatch):
    level = _benchmark("audio_speech_level")
    line = _ends_in(level, monkeypatch, str(tmp_path / "missing"))  # was: an IndexError
    assert line.startswith(f"{tmp_path / 'missing'}: no such folder")
    (tmp_path / "clip.wav").touch()  # was: 'no such folder' of a file that is there
    assert _ends_in(level, monkeypatch, str(tmp_path / "clip.wav")).startswith(
        f"{tmp_path / 'clip.wav'}: is a file; give RAVDESS's folder")
    (tmp_path / "other" / "Actor_01").mkdir(parents=True)
    (tmp_path / "other" / "Actor_01" / "hello.wav").touch()  # not a RAVDESS name: was an IndexError too
    assert _ends_in(level, monkeypatch, str(tmp_path / "other")).startswith(
        f"{tmp_path / 'other'}: holds no labelled audio clips")
    held_out = _ravdess(tmp_path / "held-out", [])
    (held_out / "Actor_01" / "03-01-01-01-01-01-21.wav").touch()  # actor 21: not a training speaker
    assert _ends_in(level, monkeypatch, str(held_out)).startswith(
        f"{held_out}: no RAVDESS speech clips of actors 01-20")


def test_the_speech_level_of_a_corpus_missing_an_emotion_is_one_line(tmp_path, monkeypatch, capsys):
    level = _benchmark("audio_speech_level")
    monkeypatch.setattr(level, "clip_speech_level_dbfs", lambda path: -20.0 - int(path.name[6:8]))
    corpus = _ravdess(tmp_path / "ravdess", [1, 3, 4, 5, 6, 7, 8])  # no calm (02)
    assert _ends_in(level, monkeypatch, str(corpus)) == (
        f"{corpus}: no clip of actors 01-20 with speech is calm; the table gives each RAVDESS emotion")
    (corpus / "Actor_01" / "03-01-02-01-01-01-01.wav").touch()
    monkeypatch.setattr("sys.argv", ["audio_speech_level", str(corpus)])
    level.main()
    out = capsys.readouterr().out
    assert out.startswith("8 of 8 clips of actors 01-20 with speech")
    assert "| calm | 1 | -22.0 | -22.0 to -22.0 |" in out  # each clip under the emotion its name gives


def test_the_speech_level_reads_the_clips_train_audio_reads(tmp_path, monkeypatch, capsys):
    from export.audio.datasets import load_corpus

    level = _benchmark("audio_speech_level")
    monkeypatch.setattr(level, "clip_speech_level_dbfs", lambda path: -20.0 - int(path.name[6:8]))
    corpus = _ravdess(tmp_path / "ravdess" / "Audio_Speech_Actors_01-24", list(range(1, 9))).parent  # as unzipped
    (corpus / "Audio_Speech_Actors_01-24" / "Actor_01" / "03-02-03-01-01-01-01.wav").touch()  # a song: left out
    monkeypatch.setattr("sys.argv", ["audio_speech_level", str(corpus)])
    level.main()  # was: no RAVDESS speech clips, looked for in Actor_NN folders at the top alone
    assert capsys.readouterr().out.startswith(f"{len(load_corpus(corpus).clips)} of 8 clips of actors 01-20")


def test_a_candidate_row_that_names_the_shipped_recipe_says_what_it_leaves_out(tmp_path, monkeypatch, capsys):
    candidates = _benchmark("audio_candidates")
    clips = [SimpleNamespace(emotion="happy", speaker=s) for s in ("a", "b")]
    corpus = SimpleNamespace(clips=clips, speakers=["a", "b"])
    monkeypatch.setattr(candidates, "corpus_windows", lambda data, trained: (corpus, trained / "cache", "windows"))
    monkeypatch.setattr(candidates, "compare_table", lambda clips, cache: None)
    calls = []

    def cross_validate(table, y_clip, speaker_clip, folds, spec, **recipe):
        calls.append((spec, recipe))
        return {f"{mode}/clip": dict.fromkeys(("ua", "wa", "macro_f1", "ece"), 0.5) for mode in ("session", "none")}

    monkeypatch.setattr(candidates, "cross_validate", cross_validate)
    monkeypatch.setattr("sys.argv", ["audio_candidates", str(tmp_path), "--trained", str(tmp_path)])
    candidates.main()
    table = (tmp_path / "comparison.md").read_text()
    shipped = [row for row in table.splitlines() if row.startswith("|") and "shipped" in row]
    assert shipped and all("without speed perturbation" in row for row in shipped)
    assert [recipe.get("augmented", ()) for spec, recipe in calls if spec is candidates.CLASSIFIER] == [()]
    assert table.strip() in capsys.readouterr().out  # printed as saved


def test_the_live_voice_benchmark_ends_a_setting_out_of_range_in_one_line(monkeypatch):
    line = _ends_in(_benchmark("live_voice_vs_file"), monkeypatch, "examples/session.mp4",
                    "--min-baseline-speech-s", "nan")  # was: an InputError's traceback
    assert line.startswith("--min-baseline-speech-s: setting 'audio.min_baseline_speech_s' must be")
    assert line.endswith("not nan")


@pytest.mark.parametrize("name", ["audio_int8_cv", "audio_candidates"])
def test_fewer_than_two_folds_is_one_line_before_any_corpus_work(name, tmp_path, monkeypatch):
    # was: sklearn's ValueError traceback, after every clip's features; the corpus here is not even read
    line = _ends_in(_benchmark(name), monkeypatch, str(tmp_path / "missing"), "--cv-folds", "1")
    assert line == "1: --cv-folds must be at least 2"


def test_the_voice_step_benchmark_times_each_window_the_stream_finishes(tmp_path, monkeypatch):
    step = _benchmark("live_voice_step")
    recording = write_media(tmp_path / "tone.wav", tone(3.0, 16000), 16000, "pcm_s16le")
    # time_pushes puts its tree first on sys.path: restored after this test (monkeypatch keeps the path as it was).
    # Which tree it reports is not checked here: in this process runtime is already imported from this checkout.
    monkeypatch.syspath_prepend(str(REPO_ROOT))
    timed = step.time_pushes(recording, repeats=2, tree=REPO_ROOT)
    assert timed["windows"] == 3  # 2 s windows every 0.5 s ending at 2.0, 2.5 and 3.0 s
    assert 0 < timed["window_ms_median"] <= timed["window_ms_p95"] <= timed["window_ms_max"]
    assert timed["other_push_ms_median"] > 0


def test_the_voice_step_benchmark_alternates_the_trees_and_gives_each_its_medians(tmp_path, monkeypatch, capsys):
    step = _benchmark("live_voice_step")
    ran: list[str] = []

    def run(argv, cwd, **kwargs):
        ran.append(argv[argv.index("--tree") + 1])
        assert cwd == Path(ran[-1])  # each tree's models are its own
        ms = 10.0 * len(ran)
        line = {"window_ms_median": ms, "window_ms_p95": ms + 1, "window_ms_max": ms + 2, "other_push_ms_median": 1}
        return SimpleNamespace(returncode=0, stdout=json.dumps(line), stderr="")

    monkeypatch.setattr(step.subprocess, "run", run)
    medians = step.alternate(REPO_ROOT / "examples" / "session.mp4", [tmp_path, REPO_ROOT], rounds=3, repeats=1)
    assert ran == [str(tmp_path), str(REPO_ROOT)] * 3
    assert medians[str(tmp_path)]["window_ms_median"] == 30.0  # runs 1, 3, 5
    assert medians[str(REPO_ROOT)]["window_ms_max"] == 42.0  # runs 2, 4, 6: 20, 40, 60 ms + 2
    assert len(capsys.readouterr().out.splitlines()) == 6


def test_the_voice_step_benchmark_refuses_a_folder_that_is_no_checkout_in_one_line(tmp_path, monkeypatch):
    line = _ends_in(_benchmark("live_voice_step"), monkeypatch, "--against", str(tmp_path))
    assert line == f"{tmp_path}: not a checkout of this project (no runtime/arms/audio/stream.py)"


def _actor_clips(root: Path, actor: int, names: list[str]) -> Path:
    """A RAVDESS-shaped WAV folder: one actor's clips of these emotion-intensity codes ("05-02"), each 0.5 s."""
    folder = root / f"Actor_{actor:02d}"
    folder.mkdir(parents=True)
    for i, code in enumerate(names, start=1):
        # each its own pitch: a copy of another recording is left out as train audio leaves it
        write_media(folder / f"03-01-{code}-01-{i:02d}-{actor:02d}.wav", tone(0.5, 16000, 200.0 + 20 * i), 16000,
                    "pcm_s16le")
    return root


def test_the_clipping_benchmark_reads_a_wav_corpus_and_ends_one_lacking_an_emotion_in_one_line(tmp_path,
                                                                                               monkeypatch):
    clipping = _benchmark("audio_clipping")
    corpus = _actor_clips(tmp_path / "wav", 3, ["05-02", "04-02", "03-02", "06-02", "07-02", "07-01"])
    samples, spans = clipping.recording(corpus)  # was: found no .flac, then np.concatenate([])'s traceback
    assert samples.size == 5 * 8000 and [label for label, start_s, end_s in spans] == list(clipping.EMOTIONS)
    (corpus / "Actor_03" / "03-01-07-02-01-05-03.wav").unlink()  # disgust of strong intensity gone
    assert _ends_in(clipping, monkeypatch, str(corpus)) == (
        f"{corpus}: no strong-intensity disgust clip of actor 03 (03-01-EE-02-SS-RR-03)")
    other = _actor_clips(tmp_path / "other", 4, ["05-02"])
    assert _ends_in(clipping, monkeypatch, str(other)).startswith(f"{other}: no RAVDESS speech clips of actor 03")


def test_the_tremor_benchmark_reads_a_wav_corpus_and_ends_one_without_its_clips_in_one_line(tmp_path, monkeypatch,
                                                                                           capsys):
    tremor = _benchmark("voice_tremor")
    corpus = _actor_clips(tmp_path / "wav", 11, ["01-01", "02-01", "05-01"])
    read: list[int] = []
    monkeypatch.setattr(tremor, "clip_indices", lambda samples, rng: read.append(samples.size) or {
        "as recorded": [(0.1, 0.2)]})
    monkeypatch.setattr("sys.argv", ["voice_tremor", str(corpus), "--actors", "11"])
    tremor.main()  # was: no .flac found, then a KeyError
    assert read == [8000, 8000]  # the neutral and calm clips, not the angry one
    assert capsys.readouterr().out.startswith("actors 11, 2 windows")
    assert _ends_in(tremor, monkeypatch, str(_actor_clips(tmp_path / "angry", 12, ["05-01"])), "--actors", "12") == (
        f"{tmp_path / 'angry'}: no neutral or calm clip of actor 12")


def test_each_benchmark_imports_this_checkout_before_any_other():
    # run from a clone, a benchmark without the insert imports whichever runtime the interpreter finds first
    import ast

    project = {"runtime", "export", "firmware_bridge", "benchmarks", "examples"}
    lacking = []
    for script in sorted((REPO_ROOT / "benchmarks").glob("*.py")):
        body = ast.parse(script.read_text()).body
        inserted = False
        for node in body:
            inserted = inserted or "sys.path.insert(0" in ast.unparse(node)
            names = ([node.module or ""] if isinstance(node, ast.ImportFrom)
                     else [a.name for a in node.names] if isinstance(node, ast.Import) else [])
            if any(name.split(".")[0] in project for name in names) and not inserted:
                lacking.append(script.name)
                break
    assert lacking == []  # was: live_long.py, vad_levels.py, voice_tremor.py
