import numpy as np
import pytest

from export.physio import study
from runtime.errors import InputError


def _subject(rng, labelled: bool) -> dict:
    n = 60
    features = rng.normal(size=(n, len(study.RAW_FEATURES)))
    fraction = rng.integers(0, 2, n).astype(float) if labelled else np.full(n, np.nan)
    return {"features": features, "stress_fraction": fraction}


def test_the_study_refuses_a_subject_with_no_labelled_window_naming_it_before_fitting():
    # as training's check_usable_windows does: the subject named, not sklearn's 'Found array with 0 sample(s)'
    rng = np.random.default_rng(0)
    data = {f"S{i:02d}": _subject(rng, labelled=i != 5) for i in range(2, 12)}
    with pytest.raises(InputError, match="no labelled window") as refused:
        study.run_setup(data, "reference_5s_hop")
    assert "S05" in str(refused.value)
