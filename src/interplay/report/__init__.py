"""Reports: a self-contained HTML page and an interaction-network figure."""

from interplay.report.faithfulness import heldout_masks, heldout_r2
from interplay.report.html import first_order_effects, render_report, write_report
from interplay.report.network import network_png, plot_interaction_network

__all__ = [
    "first_order_effects",
    "heldout_masks",
    "heldout_r2",
    "network_png",
    "plot_interaction_network",
    "render_report",
    "write_report",
]
