"""``python -m texderive ARGS``: the command line, as the ``texderive`` script runs it."""
from .cli import main

if __name__ == "__main__":
    main(prog_name="texderive")
