"""The training host: datasets, training, evaluation, ONNX export and quantization. May import torch."""
