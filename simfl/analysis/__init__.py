"""simfl.analysis: a run's trace and metrics as tidy frames, tables and matplotlib figures.

Figures are built without pyplot (Agg canvas), returned as :class:`matplotlib.figure.Figure`
and, given ``path``, written atomically as PNG at 150 dpi. World maps need no download: the
land outlines (Natural Earth 1:110m, public domain) ship with the package.
"""

from simfl.analysis.canvas import save_figure
from simfl.analysis.figures import (
    plot_methods_vs_time,
    plot_metric_vs_round,
    plot_metric_vs_time,
    select_metric,
)
from simfl.analysis.frames import (
    METRIC_COLUMNS,
    busy_time_by_node,
    events_of,
    final_metrics,
    merge_intervals,
)
from simfl.analysis.nodes import node_sort_key, sort_nodes
from simfl.analysis.orbit_figures import (
    column_label,
    plot_contact_gantt,
    plot_elevation,
    plot_ground_tracks,
    sites_frame,
)
from simfl.analysis.tables import bytes_by, human_bytes, human_duration, summary_table
from simfl.analysis.timeaxis import TimeUnit, choose_time_unit
from simfl.analysis.timeline import plot_node_timeline
from simfl.analysis.worldmap import draw_world, small_circle, split_antimeridian
from simfl.analysis.zone_map import plot_zone_map

__all__ = [
    "METRIC_COLUMNS",
    "TimeUnit",
    "busy_time_by_node",
    "bytes_by",
    "choose_time_unit",
    "column_label",
    "draw_world",
    "events_of",
    "final_metrics",
    "human_bytes",
    "human_duration",
    "merge_intervals",
    "node_sort_key",
    "plot_contact_gantt",
    "plot_elevation",
    "plot_ground_tracks",
    "plot_methods_vs_time",
    "plot_metric_vs_round",
    "plot_metric_vs_time",
    "plot_node_timeline",
    "plot_zone_map",
    "save_figure",
    "select_metric",
    "sites_frame",
    "small_circle",
    "sort_nodes",
    "split_antimeridian",
    "summary_table",
]
