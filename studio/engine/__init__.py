"""The engine: pure Python + polars. Nothing here imports textual."""
