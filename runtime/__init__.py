"""emotrace runtime: the device side (sources, clock, arms, fusion, store, CLI). Never imports torch."""

__version__ = "0.1.0"
