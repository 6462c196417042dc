"""Plots the lessons share: waveforms, spectrograms and attention maps, with labelled units;
and `table`, which shows rows of figures as a table rather than a printed list of dicts.

Every helper draws into the axes it is given (or a new figure when `ax` is None) and returns
those axes, so lessons can lay plots side by side and tests can inspect what was drawn. No
helper calls `plt.show()`: Jupyter shows a figure at the end of the cell.

Notebook: 00_welcome_and_setup (waveforms), 05_audio_features_and_data (spectrograms),
01_attention_as_weighted_average (attention maps).
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes

from .core import check_sample_rate, check_waveform, to_numpy

__all__ = ["plot_waveform", "plot_spectrogram", "plot_attention", "plot_events", "table"]


def _check_matrix(array: np.ndarray, name: str, expected: str) -> None:
    if array.ndim != 2 or 0 in array.shape:
        hint = "; pick one example, e.g. x[0]" if array.ndim == 3 else ""
        raise ValueError(f"{name} must have shape {expected}, got {array.shape}{hint}")


def _axes(ax: Axes | None) -> Axes:
    return plt.subplots()[1] if ax is None else ax


def plot_waveform(
    waveform: np.ndarray | torch.Tensor,
    sample_rate: int,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Plot amplitude against time in seconds; one line per channel.

    Args:
        waveform: (time,) or (channels, time), torch tensor or numpy array.
        sample_rate: rate in Hz, used for the time axis.
        ax: axes to draw into; None (default) creates a new figure.
        title: optional title.

    Returns:
        the axes drawn into.

    Example:
        >>> ax = plot_waveform(torch.sin(torch.linspace(0, 60, 16000)), 16000, title="tone")

    Notebook: 00_welcome_and_setup.
    """
    check_waveform(waveform, ndims=(1, 2))
    sample_rate = check_sample_rate(sample_rate)
    data = np.atleast_2d(to_numpy(waveform))  # (channels, time)
    ax = _axes(ax)
    time = np.arange(data.shape[-1]) / sample_rate
    for index, channel in enumerate(data):
        ax.plot(time, channel, linewidth=0.8, label=f"channel {index}")
    if data.shape[0] > 1:
        ax.legend(loc="upper right")
    ax.set_xlim(0, time[-1] if time.size > 1 else 1 / sample_rate)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("amplitude")
    if title is not None:
        ax.set_title(title)
    return ax


def plot_spectrogram(
    spectrogram: np.ndarray | torch.Tensor,
    sample_rate: int = 16_000,
    hop_length: int = 160,
    ax: Axes | None = None,
    title: str | None = None,
    y_label: str = "mel bin",
    colorbar: bool = True,
    colorbar_label: str = "dB",
) -> Axes:
    """Show a (log-)spectrogram as an image, low frequencies at the bottom, time in seconds.

    Args:
        spectrogram: (n_mels, frames) or (freq, frames), e.g. `log_mel_spectrogram(x)`.
        sample_rate: rate in Hz of the audio it came from (default 16000).
        hop_length: samples between frames (default 160); frame t is centred at
            t * hop_length / sample_rate seconds.
        ax: axes to draw into; None (default) creates a new figure.
        title: optional title.
        y_label: label of the vertical axis (default "mel bin").
        colorbar: add a colour bar (default True).
        colorbar_label: its label (default "dB"; change it for linear magnitudes).

    Returns:
        the axes drawn into; the image is `ax.images[0]`.

    Example:
        >>> ax = plot_spectrogram(torch.randn(40, 101), title="noise")

    Notebook: 05_audio_features_and_data.
    """
    data = to_numpy(spectrogram)
    _check_matrix(data, "spectrogram", "(n_mels, frames) or (freq, frames)")
    sample_rate = check_sample_rate(sample_rate)
    if hop_length < 1:
        raise ValueError(f"hop_length must be a positive integer, got {hop_length}")
    ax = _axes(ax)
    frame_seconds = hop_length / sample_rate
    # Pixel centres sit on the frame centres and on the integer bin numbers.
    extent = (-frame_seconds / 2, (data.shape[1] - 0.5) * frame_seconds, -0.5, data.shape[0] - 0.5)
    image = ax.imshow(data, origin="lower", aspect="auto", extent=extent, interpolation="nearest")
    ax.set_xlabel("time (s)")
    ax.set_ylabel(y_label)
    if title is not None:
        ax.set_title(title)
    if colorbar:
        ax.figure.colorbar(image, ax=ax, label=colorbar_label)
    return ax


def plot_attention(
    weights: np.ndarray | torch.Tensor,
    ax: Axes | None = None,
    x_label: str = "key frame",
    y_label: str = "query frame",
    title: str | None = None,
    x_ticklabels: Sequence[str] | None = None,
    y_ticklabels: Sequence[str] | None = None,
    colorbar: bool = True,
) -> Axes:
    """Heat map of attention weights: one row per query, one column per key.

    Args:
        weights: (queries, keys), e.g. one head of (batch, heads, queries, keys) or an
            alignment of decoder steps against encoder frames.
        ax: axes to draw into; None (default) creates a new figure.
        x_label: label of the key axis (default "key frame").
        y_label: label of the query axis (default "query frame").
        title: optional title.
        x_ticklabels: one label per key (e.g. words or characters); None keeps numbers.
        y_ticklabels: one label per query; None keeps numbers.
        colorbar: add a colour bar labelled "weight" (default True).

    Returns:
        the axes drawn into; row 0 (the first query) is at the top, as in the matrix.

    Example:
        >>> ax = plot_attention(torch.softmax(torch.randn(5, 7), dim=-1))

    Notebook: 01_attention_as_weighted_average.
    """
    data = to_numpy(weights)
    _check_matrix(data, "weights", "(queries, keys)")
    for labels, size, axis in ((x_ticklabels, data.shape[1], "keys"),
                               (y_ticklabels, data.shape[0], "queries")):  # fmt: skip
        if labels is not None and len(labels) != size:
            raise ValueError(f"got {len(labels)} tick labels for {size} {axis}")
    ax = _axes(ax)
    image = ax.imshow(data, aspect="auto", interpolation="nearest", cmap="viridis")
    if x_ticklabels is not None:
        ax.set_xticks(range(data.shape[1]), labels=list(x_ticklabels), rotation=90)
    if y_ticklabels is not None:
        ax.set_yticks(range(data.shape[0]), labels=list(y_ticklabels))
    ax.set_xlabel(x_label)
    ax.set_ylabel(y_label)
    if title is not None:
        ax.set_title(title)
    if colorbar:
        ax.figure.colorbar(image, ax=ax, label="weight")
    return ax


def plot_events(
    events: Sequence[tuple[float, float, str]],
    classes: Sequence[str],
    ax: Axes | None = None,
    predicted: Sequence[tuple[float, float, str]] | None = None,
    duration: float | None = None,
    title: str | None = None,
) -> Axes:
    """Event roll: one row per class, a bar from onset to offset for each event.

    With `predicted`, each row shows the truth in its lower half (blue) and the prediction in
    its upper half (orange), so misses, false alarms and boundary errors stand out. Stack it
    under `plot_spectrogram` (``sharex=True``) to see events over the spectrogram.

    Args:
        events: the reference events (onset_s, offset_s, label); labels in `classes`.
        classes: class names, one row each (first at the top).
        ax: axes to draw into; None (default) creates a new figure.
        predicted: optional estimated events, same format.
        duration: length of the time axis in seconds (default: the last offset).
        title: optional title.

    Returns:
        the axes drawn into; truth bars are ``ax.collections[0]``, predictions ``[1]``.

    Example:
        >>> ax = plot_events([(0.5, 1.2, "tone")], ["tone", "chirp"],
        ...                  predicted=[(0.6, 1.2, "tone")], duration=2.0)

    Notebook: 07_sound_event_detection.
    """
    from matplotlib.collections import PatchCollection
    from matplotlib.patches import Rectangle

    classes = list(classes)
    if not classes:
        raise ValueError("classes must name at least one class")
    sets = [("truth", events, "tab:blue", 0.05)]
    if predicted is not None:
        sets.append(("predicted", predicted, "tab:orange", 0.5))
    ax = _axes(ax)
    last = 0.0
    for name, items, color, bottom in sets:
        bars: dict[str, list[tuple[float, float]]] = {label: [] for label in classes}
        for onset, offset, label in items:
            if label not in bars:
                raise ValueError(f"{name} event label {label!r} is not one of {classes}")
            if not 0 <= onset <= offset:
                raise ValueError(f"need 0 <= onset <= offset, got ({onset}, {offset}, {label!r})")
            bars[label].append((onset, offset - onset))
            last = max(last, offset)
        height = 0.9 if predicted is None else 0.45
        row = len(classes) - 1  # first class at the top
        patches = [
            Rectangle((start, row - classes.index(label) - 0.5 + bottom), width, height)
            for label in classes
            for start, width in bars[label]
        ]
        ax.add_collection(PatchCollection(patches, facecolor=color, edgecolor="none", label=name))
    ax.set_xlim(0, duration if duration is not None else max(last, 1e-3))
    ax.set_ylim(-0.5, len(classes) - 0.5)
    ax.set_yticks(range(len(classes)), labels=classes[::-1])
    ax.set_xlabel("time (s)")
    ax.set_ylabel("event class")
    if predicted is not None:
        ax.legend(loc="upper right", fontsize="small")
    if title is not None:
        ax.set_title(title)
    return ax


def table(rows, columns: Sequence[str] | None = None):
    """Rows of figures as a Markdown table that Jupyter (and the book) renders as a table.

    Args:
        rows: a list of dicts (one per row), or one dict {row name: value or dict of values}.
            Floats are shown to 4 decimals (tensors and numpy scalars as their numbers).
        columns: the keys to show, in order; default every key, in order of appearance.

    Returns:
        an `IPython.display.Markdown`; its plain-text form (``str(...)`` or `.data`) is the
        Markdown source, readable in a terminal too.

    Example:
        >>> print(table([{"model": "cnn", "accuracy %": 95.1}]).data)
        | model | accuracy % |
        |---|---|
        | cnn | 95.1 |
    """
    from IPython.display import Markdown

    if isinstance(rows, dict):
        rows = [
            {"": name, **(v if isinstance(v, dict) else {"value": v})} for name, v in rows.items()
        ]
    rows = list(rows)
    if not rows or not all(isinstance(row, dict) for row in rows):
        raise ValueError("table expects a non-empty list of dicts, or a dict of rows")
    columns = (
        list(columns) if columns is not None else list(dict.fromkeys(k for r in rows for k in r))
    )
    cell = lambda value: _cell_text(value).replace("|", "\\|").replace("\n", " ")  # noqa: E731
    lines = ["| " + " | ".join(map(cell, columns)) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(row.get(c, "")) for c in columns) + " |" for row in rows]
    return Markdown("\n".join(lines))


def _cell_text(value) -> str:
    """A table cell: numbers as numbers (floats to 4 decimals), anything else as str()."""
    if isinstance(value, (torch.Tensor, np.generic)) and np.ndim(value) == 0:
        value = value.item()
    if isinstance(value, float):
        return str(round(value, 4))
    return str(value)
