"""What a data team would write instead: the grade and Pareto rules by hand.

The ``grade`` (weighted) and ``pareto`` schemes of ``b2b-pareto.yaml``, once as a
polars script and once as a DuckDB query, CSV in (declared types), labels, scores and
the Pareto shares out, no reasons.  The benchmark's peers: the one-definition
engines must come near them while also giving every reason.  Arithmetic runs in the
engine's order so that scores compare to 1e-9.
"""

from __future__ import annotations

from pathlib import Path

SCHEMA = {"annual_procurement": "DOUBLE", "our_revenue_12m": "DOUBLE", "gross_margin_pct": "DOUBLE",
          "fortune500": "BOOLEAN", "industry_leader": "BOOLEAN"}
BINS = [(1.0e10, 100.0), (1.0e9, 80.0), (1.0e8, 60.0), (1.0e7, 35.0), (0.0, 10.0)]
GRADES = [("S", 65.0), ("A", 52.0), ("B", 40.0), ("C", 27.0)]  # below: D
WEIGHTS = (0.3, 0.2, 0.2, 0.3)


def run_polars(source: Path, output: Path) -> int:
    import polars as pl

    types = {"id": pl.String, "annual_procurement": pl.Float64, "our_revenue_12m": pl.Float64,
             "gross_margin_pct": pl.Float64, "fortune500": pl.Boolean, "industry_leader": pl.Boolean}
    frame = pl.scan_csv(source, schema_overrides=types).select(list(types)).filter(pl.col("id").is_not_null()
                                                                                    & pl.col("annual_procurement").is_not_null())
    ap, gm = pl.col("annual_procurement"), pl.col("gross_margin_pct")
    revenue = pl.col("our_revenue_12m").fill_null(0.0)
    sow = pl.when(ap > 0).then(revenue / ap)
    bins = pl.when(ap >= BINS[0][0]).then(BINS[0][1])
    for low, points in BINS[1:]:
        bins = bins.when(ap >= low).then(points)
    points = [
        bins.otherwise(0.0),
        pl.when(gm <= 5.0).then(0.0).when(gm >= 40.0).then(100.0).otherwise((gm - 5.0) / 35.0 * 100.0),
        pl.when(pl.col("fortune500").fill_null(False)).then(100.0)
          .when(pl.col("industry_leader").fill_null(False)).then(75.0).otherwise(20.0),
        pl.when(sow <= 0.0).then(0.0).when(sow >= 0.3).then(100.0).otherwise((sow - 0.0) / 0.3 * 100.0),
    ]
    frame = frame.with_columns(revenue.alias("v"), *(p.alias(f"p{i}") for i, p in enumerate(points)))
    p = [pl.col(f"p{i}") for i in range(4)]
    missing = sum(x.is_null().cast(pl.Int64) for x in p)
    full = (WEIGHTS[0] * p[0] + WEIGHTS[1] * p[1] + WEIGHTS[2] * p[2] + WEIGHTS[3] * p[3]) / 1.0 * 1.0
    known_sum = sum((w * x).fill_null(0.0) for w, x in zip(WEIGHTS, p))
    known_weight = sum(pl.when(x.is_null()).then(0.0).otherwise(w) for w, x in zip(WEIGHTS, p))
    score = pl.when(missing == 0).then(full).when((missing <= 1) & (missing < 4)).then(known_sum / known_weight * 1.0)
    frame = frame.with_columns(score.alias("score"))
    grade = pl.when(pl.col("score").is_null()).then(pl.lit("insufficient_data"))
    for label, low in GRADES:
        grade = grade.when(pl.col("score") >= low).then(pl.lit(label))
    grade = grade.otherwise(pl.lit("D"))
    grade = pl.when((ap >= 1.0e10) & (grade != "S")).then(pl.lit("S")).otherwise(grade)
    v = pl.col("v")
    positive = pl.when(v > 0).then(v)
    known = v.count()
    above = v.rank("min", descending=True) - 1
    upto = v.rank("max", descending=True)
    # The running sum of positive values down to each value's last peer.
    running = frame.group_by("v").agg(positive.sum().alias("group_sum")).sort("v", descending=True, nulls_last=True) \
        .with_columns(pl.col("group_sum").cum_sum().alias("running")).select("v", "running")
    frame = frame.join(running, on="v", how="left", nulls_equal=False)
    total = positive.sum()
    counted = pl.when(v > 0).then(positive.rank("max", descending=True)).otherwise(positive.count())
    share = pl.when(v.is_null() | (positive.count() == 0)).then(None).when(counted == positive.count()).then(1.0) \
        .otherwise(pl.col("running") / total)
    segment = pl.when(v.is_null()).then(pl.lit("unknown")).when((v > 0) & (above / known < 0.2)).then(pl.lit("top")) \
        .when((v <= 0) | ((known - above) / known <= 0.2)).then(pl.lit("bottom")).otherwise(pl.lit("middle"))
    result = frame.select(
        "id", grade.alias("grade.label"), pl.col("score").alias("grade.score"), segment.alias("pareto.label"),
        v.alias("pareto.score"), share.alias("pareto.cumulative_share"),
        pl.when(v.is_not_null()).then(upto / known).alias("pareto.customer_share"),
    )
    table = result.collect()
    if output.suffix == ".jsonl":
        table.write_ndjson(output)
    else:
        table.write_parquet(output)
    return table.height


DUCKDB_QUERY = """
WITH typed AS (
  SELECT id, annual_procurement AS ap, coalesce(our_revenue_12m, 0.0) AS v, gross_margin_pct AS gm,
         coalesce(fortune500, false) AS f500, coalesce(industry_leader, false) AS leader
  FROM read_csv('{source}', header = true, types = {types})
  WHERE id IS NOT NULL AND annual_procurement IS NOT NULL
), points AS (
  SELECT *,
    CASE WHEN ap >= 1e10 THEN 100.0e0 WHEN ap >= 1e9 THEN 80.0e0 WHEN ap >= 1e8 THEN 60.0e0
         WHEN ap >= 1e7 THEN 35.0e0 WHEN ap >= 0 THEN 10.0e0 ELSE 0.0e0 END AS p0,
    CASE WHEN gm <= 5 THEN 0.0e0 WHEN gm >= 40 THEN 100.0e0 ELSE (gm - 5.0e0) / 35.0e0 * 100.0e0 END AS p1,
    CASE WHEN f500 THEN 100.0e0 WHEN leader THEN 75.0e0 ELSE 20.0e0 END AS p2,
    CASE WHEN sow <= 0 THEN 0.0e0 WHEN sow >= 0.3e0 THEN 100.0e0 ELSE (sow - 0.0e0) / 0.3e0 * 100.0e0 END AS p3,
    CASE WHEN v > 0 THEN v END AS pos
  FROM (SELECT *, CASE WHEN ap > 0 THEN v / ap END AS sow FROM typed)
), scored AS (
  SELECT *,
    CASE WHEN p1 IS NULL AND p3 IS NULL THEN NULL
         WHEN p1 IS NULL OR p3 IS NULL THEN
           (0.3e0 * p0 + coalesce(0.2e0 * p1, 0.0e0) + 0.2e0 * p2 + coalesce(0.3e0 * p3, 0.0e0))
           / (0.3e0 + CASE WHEN p1 IS NULL THEN 0.0e0 ELSE 0.2e0 END + 0.2e0 + CASE WHEN p3 IS NULL THEN 0.0e0 ELSE 0.3e0 END) * 1.0e0
         ELSE (0.3e0 * p0 + 0.2e0 * p1 + 0.2e0 * p2 + 0.3e0 * p3) / 1.0e0 * 1.0e0 END AS score,
    count(v) OVER () AS known, count(pos) OVER () AS positives,
    rank() OVER (ORDER BY v DESC NULLS LAST) - 1 AS above,
    count(v) OVER (ORDER BY v DESC NULLS LAST) AS upto,
    count(pos) OVER (ORDER BY v DESC NULLS LAST) AS counted,
    sum(pos) OVER (ORDER BY v DESC NULLS LAST) AS running,
    sum(pos) OVER () AS total
  FROM points
)
SELECT id,
  CASE WHEN ap >= 1e10 THEN 'S' WHEN score IS NULL THEN 'insufficient_data' WHEN score >= 65 THEN 'S'
       WHEN score >= 52 THEN 'A' WHEN score >= 40 THEN 'B' WHEN score >= 27 THEN 'C' ELSE 'D' END AS "grade.label",
  score AS "grade.score",
  CASE WHEN v IS NULL THEN 'unknown' WHEN v > 0 AND above / known < 0.2 THEN 'top'
       WHEN v <= 0 OR (known - above) / known <= 0.2 THEN 'bottom' ELSE 'middle' END AS "pareto.label",
  v AS "pareto.score",
  CASE WHEN v IS NULL OR positives = 0 THEN NULL WHEN counted = positives THEN 1.0e0 ELSE running / total END
    AS "pareto.cumulative_share",
  CASE WHEN v IS NOT NULL THEN upto / known END AS "pareto.customer_share"
FROM scored
"""


def run_duckdb(source: Path, output: Path) -> int:
    import duckdb

    types = "{" + ", ".join(f"'{k}': '{v}'" for k, v in SCHEMA.items()) + "}"
    query = DUCKDB_QUERY.format(source=source, types=types)  # by hand, as the peer would write it
    fmt = "JSON" if output.suffix == ".jsonl" else "PARQUET"
    return duckdb.connect().execute(f"COPY ({query}) TO '{output}' (FORMAT {fmt})").fetchone()[0]
