"""``python -m gandyn``: the same as the ``gandyn`` command."""

from gandyn.cli import main

if __name__ == "__main__":
    main()
