"""The SQL engines: a plan lowered to one query per run, on DuckDB (embedded) or Spark, and its results read back as the Python engine's."""
