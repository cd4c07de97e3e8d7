"""Reports: a self-contained HTML page and an interaction-network figure."""

from interplay.report.faithfulness import LOW_R2, faithfulness_html
from interplay.report.html import first_order_effects, render_report, write_report
from interplay.report.network import network_png, plot_interaction_network

__all__ = [
    "LOW_R2",
    "faithfulness_html",
    "first_order_effects",
    "network_png",
    "plot_interaction_network",
    "render_report",
    "write_report",
]
