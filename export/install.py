"""Putting a finished model folder into ``models/`` so that no reader ever sees half of one."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path


def staging_folder(models_dir: Path, model_id: str) -> Path:
    """An empty hidden folder beside the models, on their filesystem, so that ``install_folder`` can rename."""
    models_dir = Path(models_dir)
    models_dir.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{model_id}-", dir=models_dir))


def install_folder(staging: Path, target: Path) -> Path:
    """Replace ``target`` with the checked ``staging`` folder by renames only: the old model stays whole until
    the new one is in place, and a failure leaves one of the two. The folder is made readable by the device's
    service user (``mkdtemp`` creates it 0700)."""
    staging, target = Path(staging), Path(target)
    staging.chmod(0o755)
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}-old-", dir=target.parent))
        target.rename(old / target.name)
        staging.rename(target)
        shutil.rmtree(old)
    else:
        staging.rename(target)
    return target
