"""Headless commands, one module each (the command is named after its module): HELP,
add_arguments(parser), run(args) -> int."""
