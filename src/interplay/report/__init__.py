"""Reports: a self-contained HTML page of an explanation."""

from interplay.report.faithfulness import LOW_R2, faithfulness_html
from interplay.report.html import network_png, render_report, write_report

__all__ = [
    "LOW_R2",
    "faithfulness_html",
    "network_png",
    "render_report",
    "write_report",
]
