"""The stress model: its settings, loading it, and judging a session's windows with it.

Shared by the recording arm (``arm``: a whole session at once) and the live judge (``live``: each window as it
ends), which therefore import this and not each other.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from runtime.arms.physio.features import MEASUREMENTS, WindowFeatures, feature_matrix
from runtime.arms.physio.model import card_setting, input_settings_problem, model_inputs
from runtime.config import RULES, ConfigSection
from runtime.errors import InputError
from runtime.models import Model, load_card, load_model
from runtime.models.card import windows_not_as_trained

log = logging.getLogger("emotrace.physio")
DEFAULT_MODEL = "physio-stress"
STRESS_LABEL = "stress"
MIN_BASELINE_S = 300.0
MIN_BASELINE_WINDOWS = 10  # a window's rank among fewer than this says little (e.g. one window as long as it all)


@dataclass(frozen=True)
class PhysioSettings(ConfigSection):
    model: str = DEFAULT_MODEL
    window_s: float = 30.0
    hop_s: float = 5.0
    live_model: str = "physio-stress-live"  # judges a live session's windows as they end (LiveStress)
    live_baseline_s: float = MIN_BASELINE_S  # a live session gives no stress figure for windows starting earlier


@dataclass
class PhysioWindow:
    start_s: float
    end_s: float
    stress: float | None  # probability; None where the window makes no claim
    quality: float
    reason: str
    measurements: dict[str, float]


def load_physio_model(location: str = DEFAULT_MODEL, backend: str = "onnxruntime") -> Model:
    card = load_card(location)  # its kind first: another model's card may lack the variant loaded here
    if STRESS_LABEL not in card.labels or "features" not in card.extra:
        raise InputError(card.folder, f"not a physiological stress model (task {card.task!r}; its card lacks "
                                      "'stress' or 'features')")
    model = load_model(location, backend=backend, labels_output=0)
    model_features(model)
    input_settings(model)  # a card the device cannot follow is refused now, not at the first window
    return model


def warn_if_not_as_trained(model: Model, settings: PhysioSettings) -> bool:
    """One log line when the windows differ from the model's own: its context and local baseline are counted in
    windows, and its statistics were learnt over windows of one length, so other values change what it reads."""
    trained = (model.card.extra.get("window_s"), model.card.extra.get("hop_s"))
    if None in trained or (float(trained[0]), float(trained[1])) == (settings.window_s, settings.hop_s):
        return False
    log.warning("physio: %s", windows_not_as_trained(model.card.id, "stress figures",
                                                     (settings.window_s, settings.hop_s),
                                                     (float(trained[0]), float(trained[1]))))
    return True


def model_features(model: Model) -> tuple[str, ...]:
    """The measurements the model reads, in its order; a card naming one the feature code lacks is refused."""
    names = tuple(model.card.extra["features"])
    unknown = [n for n in names if n not in MEASUREMENTS]
    if unknown:
        raise InputError(model.card.folder / "card.json", f"unknown features {', '.join(unknown)}")
    return names


def input_settings(model: Model) -> dict[str, int | str]:
    """How the model's inputs are made from window features, as its card says (``model_inputs``'s keywords);
    a card whose settings the device cannot follow is refused, naming it."""
    extra = model.card.extra
    problem = input_settings_problem(extra)
    if problem:
        raise InputError(model.card.folder / "card.json", problem)
    return {key: card_setting(extra, key) for key in ("context_windows", "scaling", "local_baseline_windows")}


def session_stress(features: np.ndarray, quality: np.ndarray, model: Model) -> np.ndarray:
    """(n,) stress probabilities of a whole session's windows from their (n, d) ``model_features`` columns,
    each window against the whole session."""
    return stress_probabilities(model, model_inputs(features, quality, **input_settings(model)))


def stress_probabilities(model: Model, inputs: np.ndarray) -> np.ndarray:
    """(n,) stress probabilities for (n, k) model inputs, however they were made (whole session or running)."""
    if not len(inputs):
        return np.zeros(0)
    return model.run({"features": inputs})[0][:, model.labels.index(STRESS_LABEL)].astype(float)


def called_stress(p_stress: np.ndarray | float) -> np.ndarray:
    """Where a stress probability makes stress the window's leading label: over one half. At exactly one half
    the track leads with no_stress, its first label, so the figures count a tie as the device shows it."""
    return np.asarray(p_stress) > 0.5


def classify_session(windows: list[WindowFeatures], model: Model) -> list[PhysioWindow]:
    """Each window judged against the whole session (its ranks, context and local baseline both sides)."""
    quality = np.array([w.quality for w in windows])
    stress = session_stress(feature_matrix(windows, model_features(model)), quality, model)
    return [
        PhysioWindow(w.start_s, w.end_s, float(p) if q > 0 else None, float(q), w.reason, w.measurements)
        for w, p, q in zip(windows, stress, quality, strict=True)
    ]


def settings_as_trained(model: Model, window_s: float | None = None, hop_s: float | None = None) -> PhysioSettings:
    """The windows the model was trained on (its card's ``window_s``, ``hop_s``) where not given. Given ones are
    checked as the settings' rules check them: the command line's were refused by ``load_settings`` already, naming
    the option; a library caller's are refused here, before any recording is read, naming the setting."""
    for setting, value in (("physio.window_s", window_s), ("physio.hop_s", hop_s)):
        problem = None if value is None else RULES[setting].problem(value)
        if problem:
            raise InputError(setting, problem)
    extra, defaults = model.card.extra, PhysioSettings()
    return PhysioSettings(
        model=str(model.card.folder),
        window_s=float(window_s if window_s is not None else extra.get("window_s", defaults.window_s)),
        hop_s=float(hop_s if hop_s is not None else extra.get("hop_s", defaults.hop_s)),
    )
