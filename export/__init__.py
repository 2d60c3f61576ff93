"""The training host: datasets, training, evaluation, ONNX export and quantization. May import torch."""

# Resamples of people for an interval (``export.metrics.group_bootstrap_intervals``), here where importing it loads
# nothing, so that the command line names it without loading numpy.
BOOTSTRAP_RESAMPLES = 2000
# How ``evaluate audio`` may judge a set's clips (speaker: each speaker's against that speaker's own baseline), here
# for the same reason.
EVALUATION_BASELINES = ("none", "speaker")
# The torch threads ``train face`` takes (``TrainConfig.threads``), here so the command line checks --threads as it
# parses it. More threads than a CPU training host has cores only contend; far more make OpenBLAS fail to start them
# against the process limit and crash (100000 did), so a fixed cap above any such host's core count.
MAX_TRAIN_THREADS = 256
