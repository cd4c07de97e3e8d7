"""How the report shows faithfulness: a headline figure when it is good, a warning when not.

The figure is measured by :func:`interplay.metrics.faithfulness`; this module only words it.
An R² below :data:`LOW_R2` is never a big headline number: it is a warning saying what it
means. An in-sample figure (no held-out masks existed) is labelled as such, in small type.
"""

from __future__ import annotations

import html

from interplay.metrics import Faithfulness

__all__ = ["LOW_R2", "faithfulness_html"]

#: R² below which the report shows a warning instead of a headline figure.
LOW_R2 = 0.5

_DEFINITION = "1 − Σ(f − f̂)² / Σ(f − f̄)², f the model, f̂ the explanation"
_WARN_STYLE = (
    "border-left:4px solid #c62828;background:#fdecea;padding:8px 12px;border-radius:4px"
)


def faithfulness_html(fit: Faithfulness | float | None, n_heldout: int | None = None) -> str:
    """The faithfulness block of the report.

    Parameters
    ----------
    fit : Faithfulness, float or None
        The measurement (a bare float is taken as an R² on held-out masks); None: not measured.
    n_heldout : int, optional
        Number of held-out masks behind a bare float.

    Returns
    -------
    str
        HTML: a headline R² (held out, ≥ ``LOW_R2``), a labelled in-sample figure, or a
        warning (R² < ``LOW_R2``).
    """
    if fit is None:
        return '<div class="r2">–</div><div class="small">not measured</div>'
    if isinstance(fit, Faithfulness):
        r2, kind, note = fit.r2, fit.kind, fit.note
    else:
        r2, kind = float(fit), "held-out"
        where = f"{n_heldout} held-out random masks" if n_heldout else "held-out masks"
        note = f"R² {r2:.3f} on {where}"
    if r2 < LOW_R2:
        return (
            f'<div class="warn" role="alert" style="{_WARN_STYLE}"><b>Warning: low '
            f"faithfulness, R² = {r2:.3f}</b> ({html.escape(kind)}). The explanation does not "
            "reproduce the model's outputs well: read its terms with caution, or raise the "
            f'budget.<div class="small">{html.escape(note)}. R² = {_DEFINITION}.</div></div>'
        )
    if kind != "held-out":
        return (
            f'<div class="small"><b>{html.escape(kind)} R² {r2:.3f}</b>: {html.escape(note)}. '
            f"R² = {_DEFINITION}.</div>"
        )
    return (
        f'<div class="r2">{r2:.3f}</div><div class="small">faithfulness {html.escape(note)}: '
        f"{_DEFINITION}</div>"
    )
