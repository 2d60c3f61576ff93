"""The audio arm: voice activity, voice-quality measurements and windowed voice-emotion probabilities."""

# ``emotrace audio classify``'s speaker baselines (none: each file as it is; folder: a folder is one speaker), here
# where importing them loads nothing, so that the command line names them without loading the arm.
SPEAKER_BASELINES = ("none", "folder")
