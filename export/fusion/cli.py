"""What ``emotrace train fusion`` and ``emotrace evaluate fusion`` call: data in, models or a report out."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from export.fusion.evaluate import DEFAULT_METHODS, compare, scored_probs, scores, write_report
from export.fusion.pairs import PairedData, pair_tables, sessions_from_manifest
from export.fusion.tables import read_table
from export.install import destination_note, destination_option, guarded_target, rebuilt_beside
from export.quantization import MAX_INT8_LOSS
from runtime.errors import InputError


def parse_tables(specs: list[str], option: str = "--table", value: str = "CSV") -> list[tuple[str, Path]]:
    """``MODALITY=VALUE`` specs, one per modality (a second one would silently stand in for the first)."""
    out: list[tuple[str, Path]] = []
    for spec in specs:
        modality, sep, path = spec.partition("=")
        if not sep or not modality or not path:
            raise InputError(option, f"{spec!r} is not MODALITY={value}")
        if modality in (m for m, _ in out):
            raise InputError(option, f"modality {modality!r} is given twice; give one per modality")
        out.append((modality, Path(path)))
    return out


def check_arm_models(arm_models: dict[str, str], modalities: list[str]) -> None:
    """``--arm-model`` names each for a modality the fuser is trained on: a misspelt one would be recorded in the
    card and pin no track (train fusion checks the tables' names before any work, a manifest's after reading it)."""
    unknown = sorted(set(arm_models) - set(modalities))
    if unknown:
        raise InputError("--arm-model", f"{', '.join(map(repr, unknown))}: no modality of the fusion data "
                                        f"({', '.join(modalities)})")


def check_trainable_tables(specs: list[str], arm_models: dict[str, str] | None = None) -> None:
    """``train fusion``'s ``--table`` modalities, each one an arm's track is named for: a fuser trained on one no
    arm writes ('voice') would be installed into models/ and then refused by analyze (``runtime.checks``); and its
    ``arm_models`` (``--arm-model``), each for one of them (``check_arm_models``), before any work.
    ``evaluate fusion`` takes any name: it installs nothing, and the rule methods fuse any track."""
    from runtime.fusion import emotion_arm_tracks, foreign_modalities

    modalities = [modality for modality, _ in parse_tables(specs)]
    foreign = foreign_modalities(modalities)
    if foreign:
        raise InputError("--table", f"{', '.join(map(repr, foreign))}: no arm's track is named so "
                         f"({', '.join(emotion_arm_tracks())}), and analyze refuses a fuser trained on it, which no "
                         "session would give it; name each table for the arm it comes from")
    if modalities:  # --sessions: their modalities are known once they are read (train_fusion)
        check_arm_models(arm_models or {}, modalities)


def paired_data(
    tables: list[str],
    labels: Path | None,
    sessions: Path | None,
    test_fraction: float,
    seed: int,
    out_dir: Path | None,
) -> PairedData:
    """Paired windows from classify tables, or from labelled real sessions (analysed into ``out_dir``/sessions,
    kept; without one, a temporary folder removed once they are read)."""
    if not 0.0 < test_fraction < 1.0:
        raise InputError("--test-fraction", "must be between 0 and 1")
    if sessions is not None:
        if tables:
            raise InputError("--sessions", "give either --sessions or --table, not both")
        if labels is not None:  # it was left unread without a word
            raise InputError("--labels", "labels the --table rows; --sessions take their labels from the manifest")
        return sessions_from_manifest(
            sessions, test_fraction=test_fraction, seed=seed,
            cache_dir=None if out_dir is None else Path(out_dir) / "sessions"
        )
    if len(tables) < 2:
        raise InputError("--table", "give at least two, e.g. --table audio=a.csv --table face=f.csv")
    loaded = [read_table(path, modality, labels) for modality, path in parse_tables(tables)]
    paired = pair_tables(loaded, test_fraction=test_fraction, seed=seed)
    if labels is not None:  # its labels and people change the pairing: the card's Rebuild line names it
        paired.description["labels_csv"] = True
    return paired


def evaluate_fusion(
    make_paired: Callable[[int], PairedData],
    methods: str | None,
    weights: str | None,
    missing: float,
    seed: int,
    out_dir: Path,
    repeats: int = 1,
) -> tuple[Path, Path, str]:
    """The comparison for seed ``seed`` (its report in full), and over ``repeats`` seeds — each a different
    split of the people and a different pairing — the mean and spread of every figure."""
    from runtime.fusion import parse_weights

    if repeats < 1:
        raise InputError("--repeats", "must be at least 1")
    if not 0.0 <= missing <= 1.0:  # also false for nan; 0 (no holes) and 1 (modality wholly absent) both work
        raise InputError("--missing", f"must be a share of windows from 0 to 1, not {missing}")
    parsed = parse_weights(weights) if weights is not None else None
    names = [m.strip() for m in methods.split(",")] if methods else list(DEFAULT_METHODS)
    if parsed and "weighted" not in names:
        names.insert(1, "weighted")
    reports = [
        compare(make_paired(s), names, missing_fraction=missing, seed=s, weights=parsed)
        for s in range(seed, seed + repeats)
    ]
    report = reports[0]
    if repeats > 1:
        report["repeats"] = summarise_repeats(reports)
    json_path, md_path = write_report(report, out_dir)
    t = report["targets"]
    summary = (
        f"best: {t['best_method']} UA {t['best_method_ua']:.3f} vs best single {t['best_single_ua']:.3f} "
        f"({t['gain_points']:+.1f} points)"
    )
    if repeats > 1:
        wins = report["repeats"]["targets_met"]
        summary += (
            f"; over {repeats} seeds: targets met in {wins['gain']}/{repeats} (gain), {wins['missing']}/"
            f"{repeats} (missing)"
        )
    return json_path, md_path, summary


def summarise_repeats(reports: list[dict]) -> dict:
    """Mean and standard deviation of every (condition, method, metric) over the seeds."""
    out: dict = {"seeds": len(reports), "results": {}}
    for condition, row in reports[0]["results"].items():
        out["results"][condition] = {}
        for method, metrics in row.items():
            out["results"][condition][method] = {
                name: {"mean": float(np.mean(values)), "sd": float(np.std(values, ddof=1))}
                for name in metrics
                for values in [[r["results"][condition][method][name] for r in reports]]
            }
    out["targets_met"] = {
        "gain": sum(r["targets"]["gain_met"] for r in reports),
        "missing": sum(
            all(m["met_by_best_method"] for m in r["targets"]["missing"].values()) for r in reports
        ),
    }
    out["best_method_per_seed"] = [r["targets"]["best_method"] for r in reports]
    return out


def train_fusion(make_paired: Callable[[], PairedData], method: str, models_dir: Path | None = None,
                 arm_models: dict[str, str] | None = None, replace: bool = False) -> list[Path]:
    """Train on the training people, score the exported graphs on the test people, ship into models/ (a fuser
    there in the repo's models/ replaced only with ``replace``, as every export's, ``guarded_target``).

    ``make_paired`` is called once the models folder is checked: a folder that cannot take the fusers is refused
    before the paired data is built, which for ``--sessions`` means analysing every recording first."""
    from runtime.fusion import make_fuser

    methods = method_names(method)
    models_dir, shipped = check_models_dir(models_dir, methods, replace)
    paired = make_paired()
    check_arm_models(arm_models or {}, paired.data.modalities)
    train, train_targets = paired.part("train")
    test, test_scored, test_targets = paired.context("test")
    folders = []
    for name in methods:
        fuser = make_fuser(name).fit(train, train_targets)
        trained = Path(fuser.model)
        card = json.loads((trained / "card.json").read_text())
        card["metrics"] = {}
        for variant in [v for v in card["files"] if v != "default" or len(card["files"]) == 1]:
            scored = make_fuser(name, model=str(trained))
            scored.variant = variant
            scored.probabilities(test.subset(np.arange(min(16, test.n_windows))))  # load the model first
            started = time.perf_counter()
            probs = scored_probs(scored, test, test_scored)
            fused = test.n_windows if scored.temporal else int(test_scored.sum())  # as scored_probs fuses
            per_window_ms = 1000 * (time.perf_counter() - started) / max(fused, 1)
            card["metrics"][variant] = {"test": scores(probs, test_targets),
                                        "latency_ms_per_window": round(per_window_ms, 4)}
        if "int8" in card["files"]:
            drop = card["metrics"]["float"]["test"]["ua"] - card["metrics"]["int8"]["test"]["ua"]
            # Ship INT8 when it costs at most MAX_INT8_LOSS of UA on the held-out people. Unlike an arm's export,
            # a costlier INT8 graph is not refused: the float graph, trained and scored alike, ships instead.
            chosen = "int8" if drop <= MAX_INT8_LOSS else "float"
            card["files"]["default"] = card["files"][chosen]
            card["metrics"]["default"] = card["metrics"][chosen]
            card["quantization"] = f"dynamic INT8 (MatMul weights); UA change {-drop:+.4f} on test people"
        card["data"] = paired.description
        if arm_models:
            # At run time a track from another model makes this fuser fall back to quality-aware fusion.
            card["arm_models"] = dict(arm_models)
        card["windows"] = {"train": int(len(train_targets)), "test": int(len(test_targets))}
        card["licence"] = {
            "code": "Apache-2.0",
            "training_data": "derived from the modality tables' corpora: RAVDESS CC BY-NC-SA 4.0 "
            "(non-commercial, share-alike); FER-2013 states no licence",
        }
        card["rebuild"] = rebuild_command(card, shipped)
        from export.install import installing, write_card

        folder = models_dir / f"fusion-{name}"
        with installing(folder) as staging:
            shutil.copytree(trained, staging, dirs_exist_ok=True)
            write_card(staging, card)
            (staging / "MODEL_CARD.md").write_text(model_card_text(card))
            for file in staging.iterdir():
                file.chmod(0o644)
        folders.append(folder)
    return folders


def method_names(method: str) -> list[str]:
    """The learned fusers ``--method`` asks for."""
    return ["stacking", "attention"] if method == "both" else [method]


def check_models_dir(models_dir: Path | None, methods: list[str], replace: bool = False) -> tuple[Path, bool]:
    """The models folder (the repo's where none is given) and whether it is the repo's, with each fuser's folder in
    it checked before training rather than at install time."""
    from runtime.files import check_output_folder
    from runtime.fusion.learned import FUSION_TASK

    for name in methods:
        target, shipped = guarded_target(models_dir, replace, f"fusion-{name}", FUSION_TASK)  # never another arm's
        check_output_folder(target.parent)
        check_output_folder(target)
    return target.parent, shipped


def model_card_text(card: dict) -> str:
    lines = [
        f"# {card['id']} {card['version']}",
        "",
        "A learned fuser for emotrace: per-window modality probabilities, qualities and presence in, "
        "the fused "
        "emotion spectrum out (8 canonical labels). Assists a clinician; does not diagnose.",
        "",
        f"- Modalities, in input order: {', '.join(card['modalities'])}",
        f"- Files: {json.dumps(card['files'])}; sha256 in card.json",
        f"- Training windows: {card['windows']['train']}; test windows: {card['windows']['test']}",
        f"- Data: {card['data'].get('kind')}; test people {', '.join(card['data'].get('test_people', []))}",
        f"- Licence: {card['licence']['training_data']}",
        f"- Arm models it was trained on: {json.dumps(card.get('arm_models', 'not recorded'))}; tracks from "
        "other models make it fall back to quality-aware fusion (said in the fused track's model field)",
        "",
        "| variant | UA | macro-F1 | ECE | ms per window (this CPU, batch) |",
        "|---|---|---|---|---|",
    ]
    for variant, m in card["metrics"].items():
        t = m["test"]
        lines.append(f"| {variant} | {t['ua']:.3f} | {t['macro_f1']:.3f} | {t['ece']:.3f} | "
                     f"{m.get('latency_ms_per_window', float('nan')):.3f} |")
    if card.get("metrics_caveat"):  # what the figures above do not measure, where a card records it
        lines += ["", card["metrics_caveat"]]
    lines += ["", f"Rebuild: `{card['rebuild']}` (docs/fusion.md names the exact tables used). "
              + destination_note(card["id"], not rebuilt_beside(card["rebuild"])), ""]
    return "\n".join(lines)


def rebuild_command(card: dict, shipped: bool = True) -> str:
    """The train command that makes this fuser again, into the repo's models/ (``shipped``) or beside it: its data
    (a table per modality, with the labels CSV where one was given, or the labelled sessions), every setting that
    changes the split and the pairing, and, so that the fuser falls back to quality-aware fusion on tracks from
    other models, the arm models it was trained on."""
    data = card["data"]
    if data.get("kind") == "labelled sessions":
        source = "--sessions SESSIONS.csv"
    else:
        source = " ".join(f"--table {m}={m.upper()}.csv" for m in card["modalities"])
        source += " --labels LABELS.csv" if data.get("labels_csv") else ""
    split = "".join(f" {option} {data[key]}" for key, option in (("test_fraction", "--test-fraction"),
                                                                  ("seed", "--seed")) if key in data)
    arms = "".join(f" --arm-model {m}={model}" for m, model in card.get("arm_models", {}).items())
    method = card["id"].removeprefix("fusion-")
    return f"emotrace train fusion {source}{split}{arms} --method {method} {destination_option(shipped)}"


__all__ = ["check_models_dir", "check_trainable_tables", "evaluate_fusion", "method_names", "paired_data",
           "train_fusion"]
