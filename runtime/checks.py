"""What an analysis needs, checked in seconds before minutes of work: the outputs, the input's streams, the models
the arms will read, the fusion settings against what the tracks can carry, and the fuser itself.

``runtime.pipeline.analyze_file`` runs ``check_request`` before any arm; a live session runs the parts that
apply to it (``check_backend``, ``probe_input`` for a replay, ``check_models``, ``check_live_model`` with
sensors) before its devices open.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from runtime.arms.registry import ARM_REGISTRY, arm_named
from runtime.config import Settings, setting_error
from runtime.errors import InputError, first_line
from runtime.files import check_output_file, check_output_folder
from runtime.media import MediaInfo, known_end_s, probe
from runtime.models import BACKENDS
from runtime.timeline import (
    CSV_FIXED_COLUMNS,
    declared_measurements,
    is_session_claim,
    recorded_live,
    timeline_software,
)
from runtime.track import CANONICAL_LABELS, outside_canonical, track_family

OUTPUT_FILES = ("timeline.json", "timeline.csv")


def check_request(input_path: Path, out_dir: Path, settings: dict[str, dict[str, Any]], extras: dict[str, Any],
                  fuse: bool = True) -> MediaInfo:
    """What an analysis needs, checked in seconds before minutes of work: the output files (none of them an
    input, nor a folder), the input's streams, the physio recording asked for, the model of every setting an arm
    will read, the activation sources fusion is to read, and the fuser itself. Returns the probed input."""
    physio_path = extras.get("physio_path")
    inputs = [input_path] + ([Path(physio_path)] if physio_path else [])
    check_output_folder(out_dir)
    if out_dir.is_dir():
        for name in OUTPUT_FILES:
            check_output_file(out_dir / name, inputs)
        refuse_live_session(out_dir)
    check_backend(settings)
    media = probe_input(input_path, settings)
    if physio_path and not settings.get("physio", {}).get("enabled", False):
        raise setting_error(settings, "physio.enabled", f"--physio {physio_path} was given, but the physio arm is "
                                                        "off; enable it or leave out --physio")
    enabled = [arm for arm in ARM_REGISTRY if settings.get(arm.section, {}).get("enabled", False)]
    running = [arm for arm in enabled if arm.reads_input(media, extras)]
    wanted = list(dict.fromkeys(arm.stream for arm in enabled if arm.stream))
    if not enabled:  # the settings' doing alone: named by where they came from, not by the input
        raise InputError(_switched_off_by(settings), "nothing to analyse: every arm is switched off in the settings")
    if not running and not wanted:  # the settings' doing, not the input's streams'
        on = ", ".join(arm.section for arm in enabled)
        raise InputError(input_path, f"nothing to analyse: the arms switched on ({on}) read no stream of it, and no "
                                     "--physio recording was given")
    if wanted and not running:  # an arm would say only its own stream is missing ("has no audio stream")
        raise InputError(input_path, f"has no {' or '.join(wanted)} stream")
    problems = [problem for problem in (arm.stream_problem(media) for arm in running) if problem]
    if problems:  # a stream an enabled arm reads: said now, not after the other arms' work
        raise InputError(input_path, problems[0])
    if any(arm.fit_to_input for arm in running) and not any(arm.stream for arm in running) and not known_end_s(media):
        raise InputError(input_path, NO_END_TO_FIT)  # the pipeline says it too, where no input track came
    check_models(settings, [arm.section for arm in running], fuse)
    return media


def _switched_off_by(settings: dict[str, dict[str, Any]]) -> str:
    """Where the settings that switched every arm off came from (a config file, the command line)."""
    if not isinstance(settings, Settings):
        return "settings"
    told = dict.fromkeys(settings.told(f"{arm.section}.enabled") for arm in ARM_REGISTRY)
    return ", ".join(source for source in told if source != "defaults") or "settings"


# Why a recording given beside an input cannot be placed against it: an input whose end is learnt by reading it.
NO_END_TO_FIT = ("its header gives no length, and no arm here reads it to find its end: a recording given beside it "
                 "cannot be placed against it (enable the audio, face or body arm)")


def probe_input(input_path: Path, settings: dict[str, dict[str, Any]], reads_voice: bool | None = None) -> MediaInfo:
    """What the input holds, its audio as the stream ``audio.stream`` names has it; a photograph, or a stream
    number past the input's audio streams where the voice is read (``reads_voice``; default: the audio arm is on),
    refused in one line."""
    audio_stream = settings.get("audio", {}).get("stream", 1)
    media = probe(input_path, audio_stream)
    media.refuse_still_image()
    if reads_voice is None:
        reads_voice = settings.get("audio", {}).get("enabled", False)
    if reads_voice and 0 < media.audio_streams < audio_stream:
        raise setting_error(settings, "audio.stream", f"{input_path} has {media.audio_streams} audio stream(s)")
    return media


def refuse_live_session(out_dir: Path) -> None:
    """An analysis never writes over a live session's timeline (or its claim of the folder): an analysis can be
    run again, a session cannot. Checked before the arms run and again before writing, as a session may begin
    in the folder meanwhile."""
    path = Path(out_dir) / "timeline.json"
    if recorded_live(path):
        if is_session_claim(path):  # a session's claim of its folder, not a timeline yet
            raise InputError(out_dir, "holds an empty timeline.json: a live session's, cut off as it started or "
                                      "starting now; give another folder")
        raise InputError(out_dir, "holds a live session's timeline, which this analysis would replace; give "
                                  "another folder")
    if not path.is_file():
        return
    try:
        with open(path, "rb"):  # one that cannot be read (its permissions) is said as that, not as no timeline
            pass
    except OSError as error:
        raise InputError(out_dir, f"holds a timeline.json that cannot be read ({error.strerror or error}), which this "
                                  "analysis would replace; give another folder") from None
    if timeline_software(path) is None:  # another program's file: never replaced unread
        raise InputError(out_dir, "holds a timeline.json that is no emotrace timeline, which this analysis would "
                                  "replace; give another folder")


def check_backend(settings: dict[str, dict[str, Any]]) -> None:
    """A backend this machine cannot run is said as the setting that chose it, before any arm or the fuser loads
    a model (each would say it in its own words, naming no setting)."""
    problem = BACKENDS[settings["runtime"]["backend"]].unavailable()
    if problem:
        raise setting_error(settings, "runtime.backend", problem)


def model_cards(section: str, settings: dict[str, dict[str, Any]], keys: Sequence[str] | None = None
                ) -> dict[str, Any]:
    """The model card of each model setting of ``section`` (of ``keys`` alone, where given: those a command
    reads) that names one; a missing or broken card is an ``InputError`` naming the setting and where it came
    from, the config file's key as the command line's option."""
    from runtime.models import load_card

    cards = {}
    for key in arm_named(section).model_settings if keys is None else keys:
        location = settings[section].get(key, "")
        if not location:
            continue
        try:
            cards[key] = load_card(location)
        except InputError as error:
            problem = error.problem if error.source == str(location) else str(error)
            raise setting_error(settings, f"{section}.{key}", problem) from None
    return cards


def column_taken(name: str) -> bool:
    """Whether ``name`` is already a column of timeline.csv: a fixed one, or a measurement of an arm's track or
    of the fused track. A model label so named would give the CSV two columns of one name."""
    from runtime.fusion.affect import AROUSAL_SOURCE_PREFIX, INCONGRUENT_PREFIX
    from runtime.fusion.base import MODALITY_QUALITY_PREFIX

    return (name in CSV_FIXED_COLUMNS or name in declared_measurements()
            or name.startswith((MODALITY_QUALITY_PREFIX, INCONGRUENT_PREFIX, AROUSAL_SOURCE_PREFIX)))


def check_models(settings: dict[str, dict[str, Any]], sections: list[str], fuse: bool = True) -> None:
    """The models the arms in ``sections`` will read (their cards), their labels against the timeline's columns,
    and, when the tracks will be fused, ``fusion.arousal_from`` against what those tracks carry and the fuser
    itself: an analysis checks them before any arm runs, a live session before its devices open (it fuses and
    writes its timeline at the end, when a broken fusion model would lose the session)."""
    cards = {section: model_cards(section, settings) for section in sections}
    _check_label_columns(settings, cards)
    if fuse and settings.get("fusion", {}).get("enabled", False):
        _check_arousal_sources(settings, cards)
        check_fuser(settings)


def check_live_model(settings: dict[str, dict[str, Any]]) -> None:
    """``physio.live_model`` where a config file or the command line names it, loaded as a live session with
    sensors loads it: a model the clinic named that is missing or unreadable is a typo, refused before any device
    opens as the other models are. Left at its default, a model missing from an install costs the live stress
    figures alone, said as the session starts (the physio track of record does not read it)."""
    from runtime.arms.physio.stress import load_physio_model

    location = settings.given("physio.live_model") if isinstance(settings, Settings) else None
    if location is None:
        return
    try:
        load_physio_model(location, settings["runtime"]["backend"])
    except InputError as error:
        problem = error.problem if error.source == str(location) else str(error)
        raise setting_error(settings, "physio.live_model", problem) from None


def _check_label_columns(settings: dict[str, dict[str, Any]], cards: dict[str, dict[str, Any]]) -> None:
    """A model whose own label (outside the emotion spectrum) is a timeline column is refused before any arm runs:
    the timeline could not be written at the end (a body classifier trained before labels were checked)."""
    for section, section_cards in cards.items():
        for key, card in section_cards.items():
            taken = [label for label in outside_canonical(card.labels) if column_taken(label)]
            if taken:
                raise setting_error(settings, f"{section}.{key}", f"the model's label {taken[0]!r} is the name of a "
                                    "timeline column (a measurement or a fixed column)")


def activation_names(section: str, cards: dict[str, Any]) -> set[str]:
    """What a track of ``section`` carries that ``fusion.arousal_from`` can name: its arm's activation
    measurements (scores in [0, 1], 0.5 the session's usual level), those of its model's labels that are
    activations (probabilities: the physio model's "stress") and a voice model's own labels (``given_labels``)."""
    arm = arm_named(section)
    card = cards.get("model")
    return (set(arm.activation_measurements) | (set(arm.activation_labels) & set(card.labels if card else []))
            | given_labels(card))


def given_labels(card: Any) -> set[str]:
    """The labels of a model trained on a manifest's own labels (its card's ``labels_as_given``: train audio
    --labels-as-given) outside the canonical ones: fusion leaves them out of the spectrum, so the clinic's own
    probability ('high' arousal) is something arousal may read, as it reads physio's stress."""
    if card is None or not card.extra.get("labels_as_given"):
        return set()
    return set(outside_canonical(card.labels))


def _check_arousal_sources(settings: dict[str, dict[str, Any]], cards: dict[str, dict[str, Any]]) -> None:
    """Each ``fusion.arousal_from`` source must be something its track carries on arousal's scale (by the arm's
    declarations and its model's own labels where it does not run here): a typo would otherwise leave arousal
    without it, and a measurement in its own unit (a heart rate in bpm read as a score) or a label that is no
    activation ("no_stress") would push arousal off, both silently."""
    for source in settings["fusion"].get("arousal_from", []):
        track, _, name = source.partition(".")
        section = track_family(track)
        arm = arm_named(section)
        # an arm that does not run here (off, no stream, no --physio) is checked by what it declares: a typo
        # is found before the run that would read it
        readable = (activation_names(section, cards[section]) if section in cards
                    else set(arm.activation_measurements) | set(arm.activation_labels))
        unread = ""  # why its model's own labels are unknown
        if name not in readable and section not in cards and name not in arm.measurement_names():
            try:  # what only its model's card can say: own labels
                readable |= given_labels(model_cards(section, settings).get("model"))
            except InputError as error:  # the arm refuses its card where it runs: here the entry is what is judged
                unread = f"; its model's labels are unknown: {error.problem}"
        if name in readable:
            continue
        can_read = f"arousal can read: {', '.join(sorted(readable)) or 'nothing'}{unread}"
        card = cards.get(section, {}).get("model")
        if name in arm.measurement_names():
            raise setting_error(settings, "fusion.arousal_from", f"the {track} track's {name!r} is a measurement on "
                                f"a scale of its own, not an activation score ({can_read})")
        if card and name in card.labels:
            raise setting_error(settings, "fusion.arousal_from", f"the {track} track's {name!r} is a label that is "
                                f"not an activation ({can_read})")
        raise setting_error(settings, "fusion.arousal_from", f"the {track} track carries no {name!r} ({can_read})")


def check_fuser(settings: dict[str, dict[str, Any]]) -> None:
    """Build the fuser ``[fusion]`` names and, for a learned one, load its model and run it once on one window of
    the modalities its card names, so that a missing or broken fusion model fails before the arms run."""
    import numpy as np

    from runtime.fusion import FusionInput, emotion_arm_tracks, foreign_modalities, fuser_from_settings

    section = settings["fusion"]
    fuser = fuser_from_settings(section, backend=settings["runtime"]["backend"])  # weights checked at load
    model = section.get("model") or None
    try:
        if not fuser.learned:
            return
        modalities = list(fuser.modalities)  # loads the card and the model
    except InputError as error:
        problem = error.problem if error.source == str(model) else str(error)
        raise setting_error(settings, "fusion.model", problem) from None
    # a modality no arm's track is named for (a card's 'voice' for the audio arm's track) is never an input: the
    # fuser would read the session's other tracks alone, its reasons the only word of it
    foreign = foreign_modalities(modalities)
    if foreign:
        raise setting_error(settings, "fusion.model",
                            f"the {section['method']} model's card names {', '.join(foreign)}, which no arm's track "
                            f"is ({', '.join(emotion_arm_tracks())}): it would never be fused")
    labels = len(CANONICAL_LABELS)
    one_window = FusionInput(modalities, np.full((1, len(modalities), labels), 1.0 / labels),
                             np.ones((1, len(modalities))), np.ones((len(modalities), labels), dtype=bool))
    try:
        fuser.fuse_arrays(one_window)
    except Exception as error:  # the graph disagrees with its card (e.g. another number of modalities)
        raise setting_error(settings, "fusion.model",
                            f"the {section['method']} model does not run on the modalities its card names "
                            f"({', '.join(modalities)}): {first_line(error, max_chars=None)}") from None
