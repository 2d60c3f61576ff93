"""Training host side of the audio arm: corpora, training, evaluation, export."""
