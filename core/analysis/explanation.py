"""One customer's outcomes with their reasons, as text: what ``tierkit explain`` and
:meth:`tierkit.api.Result.explain` print."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tierkit.ruleset.labels import localize, show_score

if TYPE_CHECKING:
    from tierkit.engine.evaluation import Evaluation

# said in place of the reasons of a scheme whose kind gives none on the engine that ran
NO_REASONS = {
    "en": "(no reasons: the {engine} engine gives none for kind {kind} yet; --engine python gives them)",
    "zh": "（{engine} 引擎尚不给出 {kind} 类方案的理由；--engine python 可给出）",
}


def render_explanation(evaluation: Evaluation, record: dict, lang: str) -> str:
    plan = evaluation.plan
    name_field = plan.ruleset.data.get("name_field", "name")
    lines = [f"{record['id']}  {record['features'].get(name_field) or ''}".rstrip()]
    lines.append(f"rank {record['rank']} of {len(evaluation.rows)}   (as of {evaluation.bound.as_of}, {plan.ruleset.name} {plan.ruleset.version})")
    for scheme in plan.schemes:
        outcome = record["outcomes"][scheme.id]
        score = "" if outcome["score"] is None else f"  score {show_score(outcome['score'], scheme.compiled.score_decimals)}"
        tags = f"  [{', '.join(outcome['tags'])}]" if outcome["tags"] else ""
        title = localize(scheme.label, lang)
        lines.append(f"\n{title} ({scheme.id}): {outcome['display']} ({outcome['label']}){score}{tags}")
        if "reasons" in outcome:
            lines += [f"  - {reason['text']}" for reason in outcome["reasons"]]
        else:
            note = NO_REASONS.get(lang, NO_REASONS["en"])
            lines.append("  " + note.format(engine=getattr(evaluation, "engine", "python"), kind=scheme.kind))
    allocation = dict(record["allocation"])
    lines.append(f"\nallocation: {allocation.pop('rule')}")
    row = evaluation.find(record["id"])
    said = evaluation.allocation_reasons(row, lang) if row is not None else None  # which rule matched
    lines += [f"  - {reason['text']}" for reason in said or ()]
    for key, value in allocation.items():
        shown = "; ".join(map(str, value)) if isinstance(value, list) else value
        lines.append(f"  {key}: {shown}")
    return "\n".join(lines)
