"""The run store: every saved evaluation, so that runs can be listed, compared and diffed, and grades held steady between runs."""
