"""Dataset Studio: prepare fine-tuning datasets in the terminal."""

__version__ = "0.1.0"
