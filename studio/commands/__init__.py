"""Headless commands, one module each: NAME (optional), HELP, add_arguments(parser), run(args)."""
