"""One customer's outcomes with their reasons, as text: what ``tierkit explain`` and
:meth:`tierkit.api.Result.explain` print."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .labels import localize, show_score

if TYPE_CHECKING:
    from .engine import Evaluation


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
        lines += [f"  - {reason['text']}" for reason in outcome["reasons"]]
    allocation = dict(record["allocation"])
    lines.append(f"\nallocation: {allocation.pop('rule')}")
    for key, value in allocation.items():
        shown = "; ".join(map(str, value)) if isinstance(value, list) else value
        lines.append(f"  {key}: {shown}")
    return "\n".join(lines)
