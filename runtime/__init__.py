"""emotrace runtime: the device side (sources, clock, arms, fusion, store, CLI). Never imports torch."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("emotrace")  # pyproject.toml's, the one place it is written
except PackageNotFoundError:  # run from a checkout that was never installed
    __version__ = "unknown"
