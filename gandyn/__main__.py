"""``python -m gandyn``: the same as the ``gandyn`` command."""

from gandyn.cli.main import main

if __name__ == "__main__":
    main()
