"""Tests for course_utils.plotting, drawn off screen with the Agg backend."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from course_utils.plotting import plot_attention, plot_spectrogram, plot_waveform  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def colorbar_labels(ax) -> list[str]:
    return [other.get_ylabel() for other in ax.figure.axes if other is not ax]


@pytest.mark.parametrize("as_numpy", [False, True])
def test_plot_waveform_draws_samples_against_seconds(as_numpy):
    waveform = torch.linspace(-1, 1, 800)
    _, ax = plt.subplots()
    out = plot_waveform(waveform.numpy() if as_numpy else waveform, 8000, ax=ax, title="ramp")
    assert out is ax
    (line,) = ax.get_lines()
    np.testing.assert_array_equal(line.get_ydata(), waveform.numpy())
    np.testing.assert_allclose(line.get_xdata(), np.arange(800) / 8000)
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("time (s)", "amplitude", "ramp")


def test_plot_waveform_one_line_per_channel_and_new_figure():
    stereo = torch.stack([torch.zeros(100), torch.ones(100)])
    ax = plot_waveform(stereo, 16_000)
    assert len(ax.get_lines()) == 2 and ax.get_legend() is not None
    np.testing.assert_array_equal(ax.get_lines()[1].get_ydata(), np.ones(100))


@pytest.mark.parametrize(
    "waveform, sample_rate, match",
    [(torch.zeros(2, 2, 10), 16_000, "shape"), (torch.zeros(0), 16_000, "empty"),
     (torch.zeros(10), 0, "sample_rate")],
)  # fmt: skip
def test_plot_waveform_rejects_bad_input(waveform, sample_rate, match):
    with pytest.raises(ValueError, match=match):
        plot_waveform(waveform, sample_rate)


def test_plot_spectrogram_image_axes_and_colorbar():
    spectrogram = torch.randn(40, 101)
    _, ax = plt.subplots()
    out = plot_spectrogram(spectrogram, sample_rate=16_000, hop_length=160, ax=ax, title="mel")
    assert out is ax
    (image,) = ax.images
    np.testing.assert_array_equal(image.get_array(), spectrogram.numpy())
    assert image.origin == "lower"
    left, right, bottom, top = image.get_extent()
    assert right - left == pytest.approx(101 * 0.01)  # 101 frames of 10 ms
    assert (bottom, top) == (-0.5, 39.5)
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("time (s)", "mel bin", "mel")
    assert colorbar_labels(ax) == ["dB"]


def test_plot_spectrogram_options_and_new_figure():
    spectrogram = np.random.default_rng(0).random((201, 50))
    ax = plot_spectrogram(spectrogram, y_label="frequency bin", colorbar=False)
    np.testing.assert_array_equal(ax.images[0].get_array(), spectrogram)
    assert ax.get_ylabel() == "frequency bin"
    assert colorbar_labels(ax) == []


@pytest.mark.parametrize("shape", [(101,), (2, 40, 101), (0, 10)])
def test_plot_spectrogram_rejects_bad_shapes(shape):
    with pytest.raises(ValueError, match=r"\(n_mels, frames\)"):
        plot_spectrogram(torch.zeros(shape))


def test_plot_attention_heatmap():
    weights = torch.softmax(torch.randn(4, 6), dim=-1)
    _, ax = plt.subplots()
    words = ["a", "b", "c", "d", "e", "f"]
    out = plot_attention(weights, ax=ax, title="alignment", x_ticklabels=words)
    assert out is ax
    np.testing.assert_array_equal(ax.images[0].get_array(), weights.numpy())
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("key frame", "query frame")
    assert ax.get_title() == "alignment"
    assert [label.get_text() for label in ax.get_xticklabels()] == words
    assert colorbar_labels(ax) == ["weight"]


def test_plot_attention_custom_labels_and_new_figure():
    ax = plot_attention(
        np.eye(3), x_label="encoder frame", y_label="decoder step",
        y_ticklabels=["x", "y", "z"], colorbar=False,
    )  # fmt: skip
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("encoder frame", "decoder step")
    assert [label.get_text() for label in ax.get_yticklabels()] == ["x", "y", "z"]
    assert colorbar_labels(ax) == []


@pytest.mark.parametrize("shape", [(5,), (2, 4, 6), (1, 2, 4, 6)])
def test_plot_attention_rejects_non_matrices(shape):
    with pytest.raises(ValueError, match=r"\(queries, keys\)"):
        plot_attention(torch.zeros(shape))


def test_plot_attention_rejects_wrong_number_of_tick_labels():
    with pytest.raises(ValueError, match="2 tick labels for 3 keys"):
        plot_attention(torch.zeros(2, 3), x_ticklabels=["a", "b"])


def test_table_renders_rows_as_markdown():
    from course_utils.plotting import table

    shown = table([{"model": "cnn", "accuracy": 95.1}, {"model": "a|b", "note": "x"}]).data
    assert shown.splitlines() == [
        "| model | accuracy | note |",
        "|---|---|---|",
        "| cnn | 95.1 |  |",
        "| a\\|b |  | x |",
    ]
    assert table({"george": {"acc": 1}}).data.splitlines()[2] == "| george | 1 |"
    assert table({"total": 3}).data.splitlines()[2] == "| total | 3 |"
    with pytest.raises(ValueError, match="non-empty list of dicts"):
        table([])


def test_table_shows_floats_to_four_decimals_and_scalars_as_numbers():
    from course_utils.plotting import table

    row = {"cer": 0.0123456789, "n": 3, "t": torch.tensor(0.5), "np": np.float32(1.23456789)}
    assert table([row]).data.splitlines()[2] == "| 0.0123 | 3 | 0.5 | 1.2346 |"
