"""One model interface: a model card plus a file, run by an execution backend chosen by configuration."""

from runtime.models.card import ModelCard, load_card, reading_settings
from runtime.models.runner import BACKENDS, Model, load_model

__all__ = ["BACKENDS", "Model", "ModelCard", "load_card", "load_model", "reading_settings"]
