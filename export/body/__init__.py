"""Training host: body-language classifiers from the user's own labelled video segments."""
