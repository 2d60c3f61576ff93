"""audio classify: speakers a caller names, and what a file's row says (from a mutation review of classify.py)."""

from runtime.arms.audio.classify import classify_files
from tests.arms.audio.voice_models import RecordingModel


def test_folders_named_after_emotions_are_not_refused_when_the_caller_names_each_files_speaker(tmp_path):
    # a labelled corpus laid out a folder per label (evaluate audio) groups by the speakers it names, not folders
    files = [tmp_path / "happy" / "a.wav", tmp_path / "sad" / "b.wav"]  # never read: both fail alone
    model = RecordingModel({"window_s": 2.0, "hop_s": 0.5, "min_speech_fraction": 0.3})
    result = classify_files(files, model, "folder", speakers=["P1", "P1"])
    assert result.clips == [] and len(result.failed) == 2


def test_a_files_emotion_is_its_most_probable_label(ravdess_dir, tmp_path, monkeypatch):
    import csv

    import numpy as np

    from runtime.arms.audio.classify import classify_paths

    class Sad(RecordingModel):
        def predict(self, rows, variant):
            probs = np.full((len(rows), len(self.labels)), 0.05, dtype=np.float32)
            probs[:, self.labels.index("sad")] = 0.65
            return probs

    model = Sad({"window_s": 2.0, "hop_s": 0.5, "min_speech_fraction": 0.3})
    monkeypatch.setattr("runtime.arms.audio.classify.load_audio_model", lambda location: model)
    out = tmp_path / "out.csv"
    assert classify_paths([ravdess_dir / "Actor_03" / "03-01-01-01-01-01-03.flac"], out)[0] == 1
    row = next(csv.DictReader(out.open()))
    assert row["emotion"] == "sad" and row["sad"] == "0.650000"


def test_a_waveform_model_judges_each_window_with_30_percent_speech_as_the_arm_does(ravdess_dir, waveform_model_dir,
                                                                                       monkeypatch):
    from runtime.arms.audio.arm import judged_samples
    from runtime.arms.audio.model import load_audio_model
    from runtime.arms.audio.vad import detect_speech
    from runtime.arms.audio.windows import judged_windows

    clip = ravdess_dir / "Actor_03" / "03-01-01-01-01-01-03.flac"
    model = load_audio_model(waveform_model_dir)
    judged = []
    predict = model.predict_segments
    monkeypatch.setattr(model, "predict_segments", lambda segments: judged.append(len(segments)) or predict(segments))
    classify_files([clip], model, "none")
    samples = judged_samples(clip)
    speech = detect_speech(samples)
    expected = judged_windows(speech, samples.size / 16000, 2.0, 0.5, 0.3)
    assert judged == [len(expected)]
    assert len(expected) > len(judged_windows(speech, samples.size / 16000, 2.0, 0.5, 0.5))  # the share matters


def test_speakers_judged_without_a_baseline_are_named_in_order(ravdess_dir):
    clips = sorted((ravdess_dir / "Actor_03").glob("*.flac"))[:2]
    model = RecordingModel({"window_s": 2.0, "hop_s": 0.5, "min_speech_fraction": 0.3})
    result = classify_files(clips, model, "folder", speakers=["P2", "P1"])  # a clip each: under 20 s
    assert result.without_baseline == ["P1", "P2"]


def test_clipping_is_counted_on_the_samples_as_recorded_not_after_the_dc_offset_is_removed(ravdess_dir, tmp_path,
                                                                                            caplog):
    import numpy as np
    import soundfile

    from runtime.media import read_audio

    samples = read_audio(ravdess_dir / "Actor_03" / "03-01-05-02-01-01-03.flac")  # angry
    # a recorder with a large DC offset clips at its full scale (+1); less the offset, no sample is near full scale
    soundfile.write(tmp_path / "offset.wav", np.clip(samples * 20, -0.7, 0.3) + 0.7, 16000, subtype="PCM_16")
    model = RecordingModel({"window_s": 2.0, "hop_s": 0.5, "min_speech_fraction": 0.3})
    classify_files([tmp_path / "offset.wav"], model, "none")
    assert any("offset.wav: clipped audio (" in line for line in caplog.messages)


def test_a_waveform_models_clip_is_the_mean_of_its_windows(ravdess_dir, waveform_model_dir, monkeypatch):
    import numpy as np

    from runtime.arms.audio.model import load_audio_model

    model = load_audio_model(waveform_model_dir)

    def predict_segments(segments):
        rows = np.full((len(segments), 4), 0.1, dtype=np.float32)
        rows[:, 0] = 0.7
        rows[-1] = [0.1, 0.1, 0.1, 0.7]  # the last window leans elsewhere
        return rows

    monkeypatch.setattr(model, "predict_segments", predict_segments)
    clip = ravdess_dir / "Actor_03" / "03-01-01-01-01-01-03.flac"
    (path, probs), = classify_files([clip], model, "none").clips
    assert probs[3] > 0.1 and probs[0] < 0.7 and abs(float(probs.sum()) - 1) < 1e-5


def test_a_folder_baseline_asked_for_is_not_advised_again_in_a_quiet_speakers_gain_note(ravdess_dir, tmp_path, caplog):
    import soundfile

    from runtime.arms.audio.model import AudioEmotionModel
    from runtime.media import read_audio

    samples = read_audio(ravdess_dir / "Actor_03" / "03-01-01-01-01-01-03.flac")
    path = tmp_path / "P1" / "clip.wav"
    path.parent.mkdir()
    soundfile.write(path, samples * 10 ** (-20 / 20), 16000, subtype="FLOAT")  # far quieter than training speech
    classify_files([path], AudioEmotionModel(), "folder")  # one clip: too little speech for the baseline
    said = [line for line in caplog.messages if "the voice model was trained on" in line]
    assert len(said) == 1 and "--speaker-baseline folder" not in said[0]
    caplog.clear()
    classify_files([path], AudioEmotionModel(), "none")
    said = [line for line in caplog.messages if "the voice model was trained on" in line]
    assert len(said) == 1 and "--speaker-baseline folder" in said[0]
