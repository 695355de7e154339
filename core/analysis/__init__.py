"""What the commands compute beyond one evaluation: explanations, what-if, backtests, ruleset tests, tag overlaps and the day's call list."""
