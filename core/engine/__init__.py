"""Running a plan over customers: the Python engine, order features, one evaluation job; the SQL engines (DuckDB, Spark) in :mod:`tierkit.engine.sql`."""
