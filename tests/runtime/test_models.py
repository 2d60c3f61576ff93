import json
import shutil
import subprocess
import sys
import types
import zipfile
from pathlib import Path

import numpy as np
import pytest

from runtime.errors import InputError
from runtime.models import load_card, load_model
from runtime.models.card import REPO_MODELS_DIR, file_sha256, verify_checksum
from runtime.models.runner import backend_for_file, run_each_row
from tests.conftest import REPO_ROOT
from tests.runtime.model_folders import copy_model, toy_classifier


def test_a_backend_that_cannot_read_the_file_gives_way_to_the_cards_own():
    assert backend_for_file("m/face.tflite", "tensorrt", own="tflite") == "tflite"
    assert backend_for_file("m/voice.onnx", "tflite", own="onnxruntime") == "onnxruntime"
    assert backend_for_file("m/voice.onnx", "tflite", own=None) == "onnxruntime"
    assert backend_for_file("m/voice.onnx", "openvino", own="onnxruntime") == "openvino"


def test_a_model_file_no_backend_reads_is_an_input_error():
    with pytest.raises(InputError, match="no backend reads .pt"):
        backend_for_file("m/model.pt", "onnxruntime")


def test_shipped_tflite_model_runs_when_the_runtime_backend_is_onnxruntime():
    model = load_model("face-detector", backend="onnxruntime")
    assert model.backend.name == "tflite" and model.identity()["backend"] == "tflite"
    shape = tuple(model.backend.interpreter.get_input_details()[0]["shape"])
    outputs = model.run({"input": np.zeros(shape, np.float32)})
    assert len(outputs) >= 1 and all(np.isfinite(o).all() for o in outputs)


def test_a_model_runs_on_the_cpu_threads_it_is_given():
    from runtime.arms.face.expression import ExpressionModel

    default = ExpressionModel()  # the ensemble card: its member gets the threads
    two = ExpressionModel(threads=2)
    threads = [m.model.backend.session.get_session_options().intra_op_num_threads
               for m in (default.members[0], two.members[0])]
    assert threads == [1, 2]
    crops = np.full((2, 48, 48), 120, np.uint8)
    assert np.allclose(default.predict(crops), two.predict(crops), atol=1e-5)


def test_fewer_than_one_thread_is_an_input_error():
    with pytest.raises(InputError, match="at least one CPU thread"):
        load_model("face-expression-cnn", threads=0)


# --- cards that do not fit their graphs, malformed cards, ids and paths, load errors of every backend -------------


@pytest.mark.parametrize(("edit", "count"), [
    (lambda card: card["labels"].remove("calm"), 7),
    (lambda card: card["labels"].pop(), 7),
    (lambda card: card["labels"].append("bored"), 9),
])
def test_a_card_whose_labels_do_not_match_the_models_output_is_refused_at_load(tmp_path, edit, count):
    folder = copy_model(tmp_path, "audio-emotion", edit)  # the checksum still matches: only labels differ
    with pytest.raises(InputError, match=rf"card\.json: card lists {count} labels, the model "
                                         r"\(session\.int8\.onnx\) outputs 8$"):
        load_model(folder, variant="session", labels_output=0)
    load_model(folder, variant="session")  # a model that is not asked to classify is not checked


def test_an_output_width_the_graph_leaves_open_is_checked_on_the_first_run(tmp_path):
    fits = load_model(toy_classifier(tmp_path / "fits", ["a", "b", "c"]), labels_output=0)
    assert fits.run({"x": np.ones((2, 3), np.float32)})[0].shape == (2, 3)
    model = load_model(toy_classifier(tmp_path / "toy", ["a", "b"]), labels_output=0)  # loads
    for _ in range(2):  # and stays refused
        with pytest.raises(InputError, match="card lists 2 labels, the model .toy.onnx. outputs 3"):
            model.run({"x": np.ones((2, 3), np.float32)})


@pytest.mark.parametrize(("edit", "problem"), [
    (lambda c: c.update(labels="neutral,calm"), "card field 'labels' must be a non-empty list of label names"),
    (lambda c: c.update(labels=[]), "card field 'labels' must be a non-empty list"),
    (lambda c: c.update(labels=["neutral", 3]), "card field 'labels' must be a non-empty list"),
    (lambda c: c.update(labels=["sad", "calm", "sad"]), "card field 'labels' names sad more than once"),
    (lambda c: c.update(sha256="abc"), "card field 'sha256' must map each variant to its file's SHA-256"),
    (lambda c: c["sha256"].update(session=12), "card field 'sha256' must map each variant"),
    (lambda c: c.update(files=["session.int8.onnx"]), "card field 'files' must map each variant to a file name"),
    (lambda c: c["files"].update(none=None), "card field 'files' must map each variant to a file name"),
    (lambda c: c.update(id=5), "card field 'id' must be a non-empty string"),
    (lambda c: c.update(version=None), "card field 'version' must be a non-empty string"),
    (lambda c: c.update(feature_set=2), "card field 'feature_set' must be a string or null"),
    (lambda c: c.update(metrics=[]), "card field 'metrics' must be an object"),
    (lambda c: c.update(licence="MIT"), "card field 'licence' must be an object"),
    (lambda c: c["sha256"].pop("none"), "card gives no sha256 for model variant.s. none: every model file is "
                                        "checked at load"),
    (lambda c: c.pop("sha256"), "card gives no sha256 for model variant.s. session, none"),
])
def test_a_card_field_of_the_wrong_type_is_one_line_naming_the_card(tmp_path, edit, problem):
    folder = copy_model(tmp_path, "audio-emotion", edit)
    with pytest.raises(InputError, match=problem) as caught:
        load_card(folder)
    assert caught.value.source == str(folder / "card.json") and "\n" not in str(caught.value)


def test_a_card_that_is_not_a_json_object_is_one_line(tmp_path):
    folder = copy_model(tmp_path, "audio-emotion")
    (folder / "card.json").write_text("[1, 2]")
    with pytest.raises(InputError, match="holds a JSON list, not a model card"):
        load_card(folder)


def test_a_card_with_an_integer_json_will_not_read_is_one_line(tmp_path):
    folder = copy_model(tmp_path, "audio-emotion")
    (folder / "card.json").write_text('{"version": 1' + "0" * 5000 + "}")
    with pytest.raises(InputError) as caught:  # was: internal error ValueError (json's 4300-digit limit)
        load_card(folder)
    assert str(caught.value).startswith(f"{folder / 'card.json'}: not a readable model card (")
    assert "\n" not in str(caught.value)


def test_every_shipped_card_passes_the_card_checks():
    for folder in sorted(p for p in REPO_MODELS_DIR.iterdir() if (p / "card.json").is_file()):
        card = load_card(folder.name)  # the field checks
        for variant in card.files:
            verify_checksum(card, variant)  # and every file it lists matches its sha256


def test_a_bare_id_is_the_shipped_model_even_beside_a_folder_of_that_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "audio-emotion").mkdir()  # e.g. an earlier run's --out folder
    assert load_card("audio-emotion").folder == REPO_MODELS_DIR / "audio-emotion"
    copy_model(tmp_path, "face-expression-cnn", lambda c: c.update(id="mine"), name="face-expression-cnn")
    assert load_card("face-expression-cnn").id == "face-expression-cnn"  # not the local folder's card
    assert load_model("face-expression-cnn").card.folder == REPO_MODELS_DIR / "face-expression-cnn"
    # a path (with a separator, or starting with ".") is a folder wherever it is
    assert load_card("./face-expression-cnn").id == "mine"
    assert load_card(tmp_path / "face-expression-cnn").id == "mine"
    assert load_card(f"{tmp_path}/face-expression-cnn/card.json").id == "mine"
    assert load_model("./face-expression-cnn").card.id == "mine"
    copy_model(tmp_path, "face-expression-cnn", name="local-only")
    with pytest.raises(InputError, match=r"^local-only: no shipped model of that id in .*\./local-only"):
        load_card("local-only")
    assert load_card("./local-only").id == "face-expression-cnn"


def test_inputs_a_graph_does_not_take_are_one_line_naming_the_model():
    model = load_model("face-expression-cnn")
    path = str(REPO_MODELS_DIR / "face-expression-cnn" / "expression_int8.onnx")
    cases = [({"image": np.zeros((2, 1, 64, 64), np.float32)},
              r"takes input 'image' of shape \(N, 1, 48, 48\); it was given \(2, 1, 64, 64\)"),
             ({"image": np.zeros((2, 48, 48), np.float32)}, "takes input 'image' of shape"),
             ({"img": np.zeros((2, 1, 48, 48), np.float32)}, "takes inputs image; it was given img"),
             ({"image": np.zeros((2, 1, 48, 48), np.float64)}, "rejects its input .*INVALID_ARGUMENT")]
    for inputs, problem in cases:
        with pytest.raises(InputError, match=problem) as caught:
            model.run(inputs)
        assert caught.value.source == path and "\n" not in str(caught.value)


def _truncated(tmp_path, model_id, backend=None):
    """A copy of a shipped model whose file is cut short, its card's checksum updated to match."""
    folder = copy_model(tmp_path, model_id)
    card = json.loads((folder / "card.json").read_text())
    path = folder / card["files"]["default"]
    path.write_bytes(path.read_bytes()[:2000])
    card["sha256"]["default"] = file_sha256(path)
    (folder / "card.json").write_text(json.dumps(card))
    return folder, path


@pytest.mark.filterwarnings("ignore:Specified provider")
def test_a_tensorrt_backend_that_cannot_load_the_file_says_so_in_one_line(tmp_path, monkeypatch):
    import onnxruntime as ort

    folder, path = _truncated(tmp_path, "face-expression-cnn")
    monkeypatch.setattr(ort, "get_available_providers", lambda: ["TensorrtExecutionProvider", "CPUExecutionProvider"])
    with pytest.raises(InputError, match="not a loadable ONNX model") as caught:
        load_model(folder, backend="tensorrt")
    assert caught.value.source == str(path) and "\n" not in str(caught.value)


def test_an_openvino_backend_that_cannot_load_the_file_says_so_in_one_line(tmp_path, monkeypatch):
    class Core:
        def compile_model(self, model, device, config):
            return model

        def read_model(self, path):
            raise RuntimeError(f"Exception from src/inference/src/cpp/core.cpp:90:\n[ ERROR ] Cannot read {path}\n")

    monkeypatch.setitem(sys.modules, "openvino", types.SimpleNamespace(Core=Core))
    folder, path = _truncated(tmp_path, "face-expression-cnn")
    with pytest.raises(InputError, match="not a model OpenVINO can load .Exception from src") as caught:
        load_model(folder, backend="openvino")
    assert caught.value.source == str(path) and "\n" not in str(caught.value)


def test_a_tflite_file_that_cannot_be_loaded_is_one_line(tmp_path):
    folder, path = _truncated(tmp_path, "face-expression-fer")
    with pytest.raises(InputError, match="not a loadable TFLite model") as caught:
        load_model(folder)
    assert caught.value.source == str(path) and "\n" not in str(caught.value)


def test_a_card_this_process_may_not_read_is_one_line(tmp_path, monkeypatch):
    import shutil
    from pathlib import Path

    from runtime.models.card import REPO_MODELS_DIR, load_card

    folder = tmp_path / "audio-emotion"
    shutil.copytree(REPO_MODELS_DIR / "audio-emotion", folder)
    real_read_text = Path.read_text

    def denied(path, *args, **kwargs):
        if path.name == "card.json":
            raise PermissionError(13, "Permission denied", str(path))
        return real_read_text(path, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", denied)  # root reads whatever chmod says, so the refusal is faked
    with pytest.raises(InputError, match="not a readable model card .*Permission denied"):
        load_card(folder)  # was: an internal PermissionError


@pytest.mark.parametrize(("model_id", "reader", "edit", "problem"), [
    ("face-detector", "runtime.arms.video.detect:SsdDetector", lambda c: c.pop("input_px"),
     "card lacks 'input_px', which its model needs here"),
    ("face-detector", "runtime.arms.video.detect:SsdDetector", lambda c: c["anchors"].pop("strides"),
     "card lacks 'strides'"),
    ("face-landmarks", "runtime.arms.video.landmarks:CropLandmarker", lambda c: c.update(n_landmarks="many"),
     "card holds a setting of the wrong kind"),
    ("iris-landmarks", "runtime.arms.face.iris:IrisLandmarker", lambda c: c.update(roi_scale=None),
     "card holds a setting of the wrong kind"),
    ("face-expression-fer", "runtime.arms.face.expression:ExpressionModel", lambda c: c.pop("input_px"),
     "card lacks 'input_px'"),
])
def test_a_card_missing_a_setting_its_model_reads_is_one_line_naming_the_card(tmp_path, model_id, reader, edit,
                                                                                problem):
    import importlib

    module, name = reader.split(":")
    folder = copy_model(tmp_path, model_id, edit)
    with pytest.raises(InputError, match=problem) as caught:  # was: an internal KeyError or ValueError
        getattr(importlib.import_module(module), name)(str(folder))
    assert caught.value.source == str(folder / "card.json") and "\n" not in str(caught.value)


def test_a_model_file_changed_since_its_card_was_written_is_refused_and_a_missing_one_named(tmp_path):
    from runtime.models.card import REPO_MODELS_DIR

    folder = tmp_path / "face-expression-cnn"
    shutil.copytree(REPO_MODELS_DIR / "face-expression-cnn", folder)
    card = load_card(folder)
    path = card.path("default")
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one byte flipped: a corrupted copy, or a file swapped by hand
    path.write_bytes(bytes(data))
    with pytest.raises(InputError, match="does not match the checksum in its card") as info:
        load_model(folder)
    assert info.value.source == str(path)
    path.unlink()
    with pytest.raises(InputError, match="model file is missing"):
        load_model(folder)


def test_tensorrt_on_a_machine_without_its_provider_is_refused_not_run_on_the_cpu(monkeypatch):
    import onnxruntime as ort

    from runtime.models.card import REPO_MODELS_DIR

    monkeypatch.setattr(ort, "get_available_providers", lambda: ["CPUExecutionProvider"])
    with pytest.raises(InputError, match="no TensorRT execution provider on this machine"):
        load_model(REPO_MODELS_DIR / "face-expression-cnn", backend="tensorrt")


@pytest.mark.parametrize("package", ["openvino", "ai_edge_litert"])
def test_a_backend_installed_but_broken_is_said_in_one_line_before_any_model_loads(tmp_path, monkeypatch, package):
    from runtime.models.runner import BACKENDS

    (tmp_path / package).mkdir()
    (tmp_path / package / "__init__.py").write_text(
        "raise ImportError('libbroken.so.1: cannot open shared object file: No such file or directory')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
        monkeypatch.delitem(sys.modules, name)
    backend = BACKENDS["openvino" if package == "openvino" else "tflite"]
    assert backend.unavailable().startswith("backend installed but cannot be loaded (libbroken.so.1: cannot open")
    # was: "" (the package was found), then an internal error at the model's import


@pytest.fixture(scope="module")
def wheel_built(tmp_path_factory) -> zipfile.ZipFile:
    """The project's wheel, built from a copy so that the checkout gets no build/ folder."""
    pytest.importorskip("setuptools")
    tmp_path = tmp_path_factory.mktemp("wheel")
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(REPO_ROOT / name, source / name)
    for name in ("runtime", "export", "firmware_bridge", "models"):
        shutil.copytree(REPO_ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    build = "import sys; from setuptools import build_meta; print(build_meta.build_wheel(sys.argv[1]))"
    run = subprocess.run([sys.executable, "-c", build, str(tmp_path / "dist")], cwd=source, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-1000:]
    with zipfile.ZipFile(tmp_path / "dist" / run.stdout.split()[-1]) as wheel:
        yield wheel


def test_a_wheel_carries_the_shipped_models_where_the_installed_runtime_looks_for_them(wheel_built):
    # was: models/ was no package data, so a plain `pip install .` knew no shipped model ('no shipped model of that
    # id in .../site-packages/models')
    import runtime.models.card as card

    in_wheel = set(wheel_built.namelist())
    # installed, the wheel's root is site-packages: card.py looks where the checkout's models/ sits beside runtime/
    package_root = Path(card.__file__).resolve().parents[2]
    shipped = {path.relative_to(package_root).as_posix() for path in REPO_MODELS_DIR.rglob("*") if path.is_file()}
    assert {f"models/{name}/card.json" for name in ("audio-emotion", "face-expression", "silero-vad")} <= shipped
    assert shipped - in_wheel == set()


def test_a_wheel_carries_the_fer2013_digests_evaluate_face_checks_sets_against(wheel_built):
    # without them an installed `evaluate face` could tell no FER-2013 Training image from a held-out one
    assert "export/face/fer2013_digests.npz" in set(wheel_built.namelist())


def test_a_wheel_carries_the_licence_text_and_names_the_licence(wheel_built):
    # was: no LICENSE file anywhere, the licence only a name in pyproject.toml; a distributor of the wheel had no text
    dist_info = next(name.split("/")[0] for name in wheel_built.namelist() if name.endswith(".dist-info/METADATA"))
    licence = wheel_built.read(f"{dist_info}/licenses/LICENSE").decode()
    assert licence == (REPO_ROOT / "LICENSE").read_text()
    assert "Apache License" in licence and "Version 2.0, January 2004" in licence
    assert "END OF TERMS AND CONDITIONS" in licence
    metadata = wheel_built.read(f"{dist_info}/METADATA").decode()
    assert "License-Expression: Apache-2.0" in metadata.splitlines()
    assert "License-File: LICENSE" in metadata.splitlines()


def test_a_wheel_installs_the_emotrace_command_as_the_cli_s_main(wheel_built):
    # the tests run `python -m runtime.cli`; a device runs the `emotrace` script the wheel's entry point makes
    import configparser
    import importlib.metadata

    import runtime.cli
    from runtime.config import tomllib  # tomli on Python 3.10

    dist_info = next(name.split("/")[0] for name in wheel_built.namelist() if name.endswith(".dist-info/METADATA"))
    entry_points = configparser.ConfigParser(delimiters=("=",))
    entry_points.read_string(wheel_built.read(f"{dist_info}/entry_points.txt").decode())
    scripts = dict(entry_points["console_scripts"])
    declared = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == declared == {"emotrace": "runtime.cli:main"}
    module = scripts["emotrace"].split(":")[0]
    assert f"{module.replace('.', '/')}.py" in wheel_built.namelist()
    target = importlib.metadata.EntryPoint("emotrace", scripts["emotrace"], "console_scripts").load()
    assert target is runtime.cli.main and callable(target)


def test_each_row_is_run_alone_and_an_empty_batch_is_a_value_error_naming_its_input():
    given = []

    def run(inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
        given.append(inputs["x"].shape)
        return [inputs["x"][:, :2] * 2]

    rows = np.arange(6, dtype=np.float32).reshape(3, 2)
    np.testing.assert_array_equal(run_each_row(run, "x", rows), rows * 2)
    assert given == [(1, 2)] * 3
    # was: numpy's 'need at least one array to concatenate', naming neither the input nor why
    with pytest.raises(ValueError, match="input 'x' has no rows.*output width is unknown"):
        run_each_row(run, "x", np.zeros((0, 2), dtype=np.float32))
    assert len(given) == 3
