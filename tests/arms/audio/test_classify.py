"""``emotrace audio classify``: a recording's DC offset is removed before the VAD and the features, as in the arm."""

import csv
import json

import numpy as np
import pytest
import soundfile

from runtime.cli import main
from runtime.media import read_audio
from runtime.track import CANONICAL_LABELS
from tests.arms.audio.voice_models import RecordingModel

BASELINE_CLIPS = 14  # RAVDESS clips hold about 1.6 s of speech each: 14 are over the runtime's default 20 s


def _long_recording(ravdess_dir, clips: int = BASELINE_CLIPS) -> np.ndarray:
    """One speaker's clips end to end: over the runtime's default 20 s of speech, enough for a folder baseline."""
    return np.concatenate([read_audio(path) for path in sorted((ravdess_dir / "Actor_03").glob("*.flac"))[:clips]])


@pytest.mark.parametrize("baseline", ["none", "folder"])
def test_a_dc_offset_does_not_change_what_classify_writes(ravdess_dir, tmp_path, baseline):
    # a folder of one short clip is judged without its baseline: one long enough to be judged against it
    samples = (read_audio(ravdess_dir / "Actor_03" / "03-01-05-02-01-01-03.flac") if baseline == "none"
               else _long_recording(ravdess_dir))
    rows = {}
    for name, offset in (("plain", 0.0), ("offset", 0.05)):  # 0.05: inaudible, a cheap microphone's
        folder = tmp_path / name
        folder.mkdir()
        soundfile.write(folder / "clip.wav", samples + np.float32(offset), 16000, subtype="FLOAT")
        out = tmp_path / f"{name}.csv"
        assert main(["audio", "classify", str(folder), "--csv", str(out), "--speaker-baseline", baseline]) == 0
        [rows[name]] = list(csv.DictReader(out.open()))
    plain, offset = (np.array([float(rows[k][label]) for label in CANONICAL_LABELS]) for k in ("plain", "offset"))
    assert rows["plain"]["emotion"] == rows["offset"]["emotion"]
    assert np.abs(plain - offset).max() < 0.01


def test_classify_names_the_gain_for_a_clip_too_quiet_to_find_speech_in(ravdess_dir, tmp_path, capsys, caplog):
    samples = read_audio(ravdess_dir / "Actor_03" / "03-01-05-02-01-01-03.flac")
    for name, peak_dbfs in (("quiet", -44.0), ("inaudible", -75.0)):
        soundfile.write(tmp_path / f"{name}.wav", samples / np.abs(samples).max() * 10 ** (peak_dbfs / 20), 16000)
    assert main(["audio", "classify", str(tmp_path / "quiet.wav"), "--csv", str(tmp_path / "q.csv")]) == 0
    assert "quiet.wav: very quiet audio (loudest -44" in caplog.text
    assert main(["audio", "classify", str(tmp_path / "inaudible.wav"), "--csv", str(tmp_path / "i.csv")]) == 2
    assert "inaudible.wav: no speech found: very quiet audio" in capsys.readouterr().err
    assert not (tmp_path / "i.csv").exists()


def test_the_folder_baseline_judges_rows_z_scored_over_the_folder_with_the_session_variant(ravdess_dir):
    from runtime.arms.audio.classify import classify_files
    from runtime.arms.audio.features import zscore_by_group

    files = sorted((ravdess_dir / "Actor_03").glob("*.flac"))[:3]
    model = RecordingModel({"window_s": 2.0, "hop_s": 0.5, "min_speech_fraction": 0.3})
    classify_files(files, model, "none")
    raw = [rows for _, rows in model.calls]
    assert {variant for variant, _ in model.calls} == {"none"}
    model.calls.clear()
    classify_files(files, model, "folder", min_baseline_speech_s=0)  # one folder: one speaker; any speech will do
    assert {variant for variant, _ in model.calls} == {"session"}  # z-scored rows judged by the variant learnt on them
    expected = zscore_by_group(np.vstack(raw), np.zeros(sum(len(r) for r in raw), dtype=int))
    np.testing.assert_allclose(np.vstack([rows for _, rows in model.calls]), expected, rtol=1e-5, atol=1e-5)


def test_classify_refuses_a_model_trained_on_other_features_before_any_file_is_read(tmp_path, capsys):
    import shutil

    from runtime.arms.audio.model import DEFAULT_AUDIO_MODEL
    from runtime.models.card import REPO_MODELS_DIR

    model = tmp_path / "other-features"
    shutil.copytree(REPO_MODELS_DIR / DEFAULT_AUDIO_MODEL, model)
    card = json.loads((model / "card.json").read_text())
    card["feature_set"] = "another-feature-set"
    (model / "card.json").write_text(json.dumps(card))
    (tmp_path / "clip.wav").write_bytes(b"")  # never read: the model is refused first
    assert main(["audio", "classify", str(tmp_path / "clip.wav"), "--csv", str(tmp_path / "o.csv"),
                 "--model", str(model)]) == 2
    assert "model expects features 'another-feature-set'" in capsys.readouterr().err


def test_a_clip_recorded_at_8_khz_is_said_to_be_narrowband_and_a_16_khz_one_is_not(ravdess_dir, tmp_path, caplog):
    from scipy.signal import resample_poly

    samples = read_audio(ravdess_dir / "Actor_03" / "03-01-05-02-01-01-03.flac")
    soundfile.write(tmp_path / "phone.wav", resample_poly(samples, 1, 2), 8000)
    soundfile.write(tmp_path / "studio.wav", samples, 16000)
    assert main(["audio", "classify", str(tmp_path), "--csv", str(tmp_path / "c.csv")]) == 0
    assert "phone.wav: recorded at 8000 Hz, so nothing above 4 kHz" in caplog.text  # was: judged without a word
    assert "studio.wav: recorded at" not in caplog.text


def test_telephone_band_speech_in_a_16_khz_file_is_said_to_be_narrowband_and_studio_speech_is_not(
        ravdess_dir, tmp_path, caplog):
    from scipy.signal import butter, resample_poly, sosfilt

    samples = read_audio(ravdess_dir / "Actor_03" / "03-01-05-02-01-01-03.flac")
    soundfile.write(tmp_path / "phone.wav", resample_poly(resample_poly(samples, 1, 2), 2, 1), 16000)
    soundfile.write(tmp_path / "lowpass.wav", sosfilt(butter(8, 3400, fs=16000, output="sos"), samples), 16000)
    soundfile.write(tmp_path / "studio.wav", samples, 16000)
    assert main(["audio", "classify", str(tmp_path), "--csv", str(tmp_path / "c.csv")]) == 0
    for name in ("phone", "lowpass"):  # was: judged without a word, their files being 16 kHz ones
        assert f"{name}.wav: speech has no energy above about 4 kHz (measured in the sound" in caplog.text
    assert "studio.wav: speech has no energy" not in caplog.text


def test_a_voice_on_a_second_audio_stream_is_said_when_classify_finds_no_speech_on_the_first(tmp_path, capsys,
                                                                                            ravdess_dir):
    from tests.media_factory import write_audio_streams

    speech = read_audio(sorted((ravdess_dir / "Actor_03").glob("*.flac"))[0], 48000)
    path = write_audio_streams(tmp_path / "two-mics.mka", [np.zeros_like(speech), speech])
    assert main(["audio", "classify", str(path), "--csv", str(tmp_path / "out.csv")]) == 2
    err = capsys.readouterr().err  # was: only 'no speech found'
    assert "no speech found" in err and "2 audio streams; the voice is read from stream 1 only" in err


def _bad_clips(folder):
    """Four files no clip can be read from: empty, not audio at all, audio without speech, and a link to a
    recording on a drive not mounted (was: left out of a folder's batch without a word, exit 0)."""
    (folder / "empty.wav").write_bytes(b"")
    (folder / "notes.mp3").write_text("not audio\n")
    soundfile.write(folder / "silence.wav", np.zeros(16000 * 3, np.float32), 16000)
    (folder / "visit2.wav").symlink_to(folder / "unmounted" / "visit2.wav")
    return ["empty.wav: empty file", "notes.mp3: not a readable media file", "silence.wav: no speech found",
            "visit2.wav: is a link to"]


@pytest.mark.parametrize("baseline", ["none", "folder"])
def test_a_batch_goes_on_past_bad_files_and_says_each_in_one_line(ravdess_dir, tmp_path, capsys, caplog, baseline):
    import shutil

    clean, mixed = tmp_path / "clean", tmp_path / "mixed"
    for folder in (clean, mixed):
        folder.mkdir()
        for clip in sorted((ravdess_dir / "Actor_03").glob("*.flac"))[:2]:
            shutil.copy(clip, folder)
    problems = _bad_clips(mixed)
    assert main(["audio", "classify", str(clean), "--csv", str(tmp_path / "clean.csv"),
                 "--speaker-baseline", baseline]) == 0
    capsys.readouterr()
    # was: exit 2 at the first bad file, and no CSV at all
    assert main(["audio", "classify", str(mixed), "--csv", str(tmp_path / "mixed.csv"),
                 "--speaker-baseline", baseline]) == 2
    out, err = capsys.readouterr()
    lines = err.splitlines()
    for problem in problems:
        assert sum(problem in line for line in lines) == 1
    assert lines[-1] == f"emotrace: error: 4 of 6 files failed; {tmp_path / 'mixed.csv'} holds the other 2"
    # two clips are a few seconds of speech: the folder is judged without a baseline of its own, said
    short = "1 folder(s) with under the runtime's default 20 s of speech judged without a baseline of their own"
    assert any(short in message and str(mixed) in message for message in caplog.messages) == (baseline == "folder")
    assert not any("the speaker's baseline is from" in message for message in caplog.messages)
    assert len(lines) == 5 and "Traceback" not in err
    assert out == f"{tmp_path / 'mixed.csv'}: 2 file(s) classified\n"
    rows = {name: list(csv.DictReader((tmp_path / f"{name}.csv").open())) for name in ("clean", "mixed")}
    # no row for a bad file, and the good ones as without them (a folder baseline of the files read)
    assert [r["path"].replace("mixed", "clean") for r in rows["mixed"]] == [r["path"] for r in rows["clean"]]
    assert [r["emotion"] for r in rows["mixed"]] == [r["emotion"] for r in rows["clean"]]
    for a, b in zip(rows["mixed"], rows["clean"], strict=True):
        np.testing.assert_allclose([float(a[k]) for k in CANONICAL_LABELS], [float(b[k]) for k in CANONICAL_LABELS])


def test_a_batch_of_bad_files_alone_writes_nothing_and_says_so(tmp_path, capsys):
    folder = tmp_path / "clips"
    folder.mkdir()
    _bad_clips(folder)
    out = tmp_path / "out.csv"
    out.write_text("an earlier table\n")
    assert main(["audio", "classify", str(folder), "--csv", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.err.splitlines()[-1] == f"emotrace: error: 4 of 4 files failed; {out} not written"
    assert captured.out == "" and out.read_text() == "an earlier table\n"


def test_a_bad_speaker_baseline_is_refused_before_any_file_is_read(tmp_path):
    from runtime.arms.audio.classify import classify_files
    from runtime.errors import InputError

    model = RecordingModel({"window_s": 2.0, "hop_s": 0.5, "min_speech_fraction": 0.3})
    # was: the missing file's error, the setting being checked only after every file had been read
    with pytest.raises(InputError, match="speaker baseline must be 'none' or 'folder'"):
        classify_files([tmp_path / "missing.wav"], model, "speaker")
    assert model.calls == []


@pytest.mark.parametrize("names", [("angry", "sad"), ("Happiness", "fear"), ("neutral",)])
def test_a_folder_baseline_over_folders_named_after_emotions_is_refused_before_any_file_is_read(tmp_path, names):
    from runtime.arms.audio.classify import classify_files
    from runtime.errors import InputError

    model = RecordingModel({"window_s": 2.0, "hop_s": 0.5, "min_speech_fraction": 0.3})
    files = [tmp_path / name / "clip.wav" for name in names]
    # each label z-scored against itself: the label's own sound is what the baseline takes away
    with pytest.raises(InputError, match=r"folders are named after emotions \(.*\): put each speaker's files"):
        classify_files(files, model, "folder")
    assert model.calls == []


def test_a_folder_baseline_over_speakers_folders_reads_them(tmp_path):
    from runtime.arms.audio.classify import classify_files

    model = RecordingModel({"window_s": 2.0, "hop_s": 0.5, "min_speech_fraction": 0.3})
    # a speaker's folder beside one named like a label is no folder-per-label test set
    classified = classify_files([tmp_path / "P01" / "a.wav", tmp_path / "sad" / "b.wav"], model, "folder")
    # read, not refused: each file's own error (missing here), none about folders named after emotions
    assert classified.clips == [] and [error.source for error in classified.failed] == [
        str(tmp_path / "P01" / "a.wav"), str(tmp_path / "sad" / "b.wav")]


def test_the_folder_baseline_groups_by_the_speakers_a_caller_names_over_the_files_folders(ravdess_dir):
    from runtime.arms.audio.classify import classify_files
    from runtime.arms.audio.features import zscore_by_group

    files = sorted((ravdess_dir / "Actor_03").glob("*.flac"))[:4]  # one folder, but two speakers by the caller
    model = RecordingModel({"window_s": 2.0, "hop_s": 0.5, "min_speech_fraction": 0.3})
    classify_files(files, model, "none")
    raw = [rows for _, rows in model.calls]
    model.calls.clear()
    classify_files(files, model, "folder", speakers=["P1", "P2", "P1", "P2"], min_baseline_speech_s=0)
    judged = {path: rows for path, (_, rows) in zip(files, model.calls, strict=True)}
    for speaker_files in ((0, 2), (1, 3)):  # each speaker's windows z-scored against that speaker's alone
        stacked = np.vstack([raw[i] for i in speaker_files])
        expected = zscore_by_group(stacked, np.zeros(len(stacked), dtype=int))
        np.testing.assert_allclose(np.vstack([judged[files[i]] for i in speaker_files]), expected, rtol=1e-5,
                                   atol=1e-5)


def test_a_folder_with_under_20_s_of_speech_is_judged_without_its_baseline_as_the_runtime_would(
        ravdess_dir, tmp_path, monkeypatch, caplog):
    import shutil

    model = RecordingModel({"window_s": 2.0, "hop_s": 0.5, "min_speech_fraction": 0.3})
    monkeypatch.setattr("runtime.arms.audio.classify.load_audio_model", lambda location: model)
    clips = sorted((ravdess_dir / "Actor_03").glob("*.flac"))
    long, short = tmp_path / "P01", tmp_path / "P02"
    for folder, count in ((long, BASELINE_CLIPS), (short, 1)):
        folder.mkdir()
        for clip in clips[:count]:
            shutil.copy(clip, folder)
    _bad_clips(long)
    assert main(["audio", "classify", str(long), str(short), "--csv", str(tmp_path / "out.csv"),
                 "--speaker-baseline", "folder"]) == 2  # the bad clips' exit
    # was: the one clip z-scored against its own few seconds (the emotion taken away), unsaid
    assert [variant for variant, _ in model.calls] == ["session"] * BASELINE_CLIPS + ["none"]
    assert (f"1 folder(s) with under the runtime's default 20 s of speech judged without a baseline of their own "
            f"(the population variant), as the runtime judges a session that short: {short}") in caplog.messages
    # was: '(the others could not be read)', a silent clip among them
    assert (f"{long}: the speaker's baseline is from {BASELINE_CLIPS} of its {BASELINE_CLIPS + 4} files "
            "(3 could not be read, 1 held no speech)") in caplog.messages


@pytest.mark.parametrize("baseline", ["none", "folder"])
def test_a_batch_says_each_bad_file_as_it_meets_it_and_the_count_at_the_end(ravdess_dir, tmp_path, monkeypatch,
                                                                             baseline):
    import shutil

    import runtime.arms.audio.classify as classify
    import runtime.cli as cli

    folder = tmp_path / "clips"
    folder.mkdir()
    (folder / "a_empty.wav").write_bytes(b"")
    shutil.copy(sorted((ravdess_dir / "Actor_03").glob("*.flac"))[0], folder / "b_clip.flac")
    events: list[str] = []
    features = classify._file_features
    monkeypatch.setattr(classify, "_file_features", lambda path, *rest: events.append(f"read {path.name}")
                        or features(path, *rest))
    monkeypatch.setattr(cli, "_complain", events.append)
    out = tmp_path / "out.csv"
    assert main(["audio", "classify", str(folder), "--csv", str(out), "--speaker-baseline", baseline]) == 2
    # was: both error lines after every file was read, a long batch silent about its failures till its end
    assert events == ["read a_empty.wav", f"emotrace: error: {folder / 'a_empty.wav'}: empty file",
                      "read b_clip.flac", f"emotrace: error: 1 of 2 files failed; {out} holds the other 1"]


@pytest.mark.parametrize("gain_db", [0.0, -30.0])
def test_classify_flags_a_clip_far_quieter_than_the_training_speech(ravdess_dir, tmp_path, caplog, gain_db):
    samples = read_audio(ravdess_dir / "Actor_03" / "03-01-01-01-01-01-03.flac")  # neutral: about -44 dBFS
    path = tmp_path / "clip.wav"
    soundfile.write(path, samples * 10 ** (gain_db / 20), 16000, subtype="FLOAT")
    assert main(["audio", "classify", str(path), "--csv", str(tmp_path / "out.csv")]) == 0
    said = [line for line in caplog.text.splitlines() if "the voice model was trained on" in line]
    assert len(said) == (1 if gain_db else 0)
    assert all(f"{path}: speech at" in line and "microphone's gain" in line for line in said)
    # how audio classify gets a baseline, and the speech it needs (the runtime's minimum)
    assert all("(--speaker-baseline folder; 20 s of their speech or more)" in line for line in said)


def test_classify_flags_a_clipped_clip_and_advises_no_baseline_for_its_level(ravdess_dir, tmp_path, caplog):
    # was: only the gain note, 'or judge against the speaker's own baseline', which does not mend clipping
    samples = read_audio(ravdess_dir / "Actor_03" / "03-01-05-02-01-01-03.flac")  # angry
    for name, gain in (("clean", 1.0), ("clipped", 20.0)):
        soundfile.write(tmp_path / f"{name}.wav", np.clip(samples * gain, -1, 1), 16000, subtype="PCM_16")
    assert main(["audio", "classify", str(tmp_path / "clean.wav"), str(tmp_path / "clipped.wav"),
                 "--csv", str(tmp_path / "out.csv")]) == 0
    said = [line for line in caplog.messages if "clipped audio" in line]
    assert len(said) == 1 and said[0].startswith(f"{tmp_path / 'clipped.wav'}: clipped audio (")
    gain = [line for line in caplog.messages if "the voice model was trained on" in line]
    assert len(gain) == 1 and "clipped.wav: speech at" in gain[0] and "speaker's own baseline" not in gain[0]


@pytest.mark.parametrize("baseline", ["none", "folder"])
def test_classify_flags_the_level_only_where_no_baseline_of_the_speakers_own_judges_it(ravdess_dir, tmp_path,
                                                                                          caplog, baseline):
    folder = tmp_path / "speaker"
    folder.mkdir()
    # -25 dB: speech about -66 dBFS, of which the VAD still finds over 20 s, enough for the folder's baseline
    soundfile.write(folder / "clip.wav", _long_recording(ravdess_dir) * 10 ** (-25 / 20), 16000, subtype="FLOAT")
    assert main(["audio", "classify", str(folder), "--csv", str(tmp_path / "out.csv"),
                 "--speaker-baseline", baseline]) == 0
    assert ("the voice model was trained on" in caplog.text) == (baseline == "none")


def test_classify_reads_the_audio_model_of_a_config_from_its_folder_unless_given(tmp_path, capsys, ravdess_dir):
    clip = sorted((ravdess_dir / "Actor_03").glob("*.flac"))[0]
    config = tmp_path / "etc" / "clinic.toml"
    config.parent.mkdir()
    config.write_text('[audio]\nmodel = "mymodels/voice"\n')
    out = tmp_path / "out.csv"
    # was: 'unrecognized arguments: --config', so the clinic's audio.model never applied
    assert main(["audio", "classify", str(clip), "--csv", str(out), "--config", str(config)]) == 2
    # naming the file and the key that named the model, as analyze does (was: the model's folder alone)
    named = tmp_path / "etc" / "mymodels" / "voice"
    assert capsys.readouterr().err == (f"emotrace: error: {config}: setting 'audio.model' = '{named}': no model card "
                                       "(card.json) there: the folder does not exist\n")
    assert main(["audio", "classify", str(clip), "--csv", str(out), "--config", str(config),
                 "--model", "audio-emotion"]) == 0  # the option over the config


def test_a_clip_given_twice_is_classified_once(tmp_path, ravdess_dir, caplog):
    clip = sorted((ravdess_dir / "Actor_03").glob("*.flac"))[0]
    out = tmp_path / "out.csv"
    assert main(["audio", "classify", str(clip), str(clip), "--csv", str(out)]) == 0
    assert [row["path"] for row in csv.DictReader(out.open())] == [str(clip)]  # was: two rows of the one clip
    assert f"1 of the audio files named more than once (the same file as one named before); each read once, left " \
           f"out: {clip}" in caplog.text


def test_a_file_name_that_is_not_utf8_gets_its_row_with_the_byte_escaped_and_the_batch_its_csv(ravdess_dir, tmp_path,
                                                                                                capsys):
    import os
    import shutil

    clip = sorted((ravdess_dir / "Actor_03").glob("*.flac"))[0]
    shutil.copy(clip, tmp_path / "ok.flac")
    shutil.copy(clip, os.fsdecode(bytes(tmp_path) + b"/s\xe9ance.flac"))  # a Latin-1 name
    out = tmp_path / "out.csv"
    # was: exit 1, 'internal error: UnicodeEncodeError', and no CSV: the good file's row lost too
    assert main(["audio", "classify", str(tmp_path), "--csv", str(out)]) == 0
    rows = list(csv.DictReader(out.read_text(encoding="utf-8").splitlines()))
    assert sorted(r["path"] for r in rows) == [str(tmp_path / "ok.flac"), f"{tmp_path}/s\\xe9ance.flac"]
    assert rows[0]["emotion"] == rows[1]["emotion"]


def test_classify_judges_a_files_windows_at_the_hop_its_model_card_gives(ravdess_dir):
    from runtime.arms.audio.classify import file_window_features

    # the windows a clip is judged over are the grid the model was trained on: its card's window and hop (a 2 s
    # window every 0.5 s), not one window every window length, which would judge fewer, other stretches
    clip = ravdess_dir / "Actor_03" / "03-01-05-02-01-01-03.flac"
    every_half_s = file_window_features(clip, {"window_s": 2.0, "hop_s": 0.5})
    every_s = file_window_features(clip, {"window_s": 2.0, "hop_s": 1.0})
    assert len(every_half_s) > len(every_s) >= 2
