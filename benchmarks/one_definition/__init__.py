"""One definition per kind, prototyped: ``weighted`` and ``pareto`` stated once as typed
IR (:mod:`.ir`, :mod:`.kinds`), lowered to sqlglot trees for DuckDB and Spark
(:mod:`.to_sql`) and to compiled Python steps (:mod:`.to_python`), run end to end by
:mod:`.engines` and measured by ``benchmarks/bench_one_definition.py``.  The choice
it led to is in ``docs/design.md``, "One definition per kind: the choice"."""
