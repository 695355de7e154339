"""The engine-neutral form of tierkit's logic, and its lowerings.

A kind, an expression or an input step states its logic once, as typed nodes
(:mod:`.nodes`); :mod:`.from_expr` turns ruleset expressions into them through the
one expression checker (:class:`tierkit.expr.compiler.Checker`).  :mod:`.to_sql` lowers the
nodes to sqlglot trees, one dialect table row per engine (DuckDB, Spark), and
:mod:`.to_python` to Python functions built as ``ast`` trees: the row engine's
lowering while kinds move onto the nodes, and the tests' reference lowering.
"""
