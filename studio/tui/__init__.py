"""The terminal UI. It builds steps, runs them in workers and shows results."""
