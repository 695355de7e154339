"""Run the command line as ``python -m tierkit``."""

from tierkit.cli import console_main

if __name__ == "__main__":
    console_main()
