"""Tests for course_utils.sed.events: event rolls, decoding, and scores on hand-worked examples."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from course_utils.sed.events import (
    event_f1,
    events_to_frames,
    frame_f1,
    frames_to_events,
    median_filter,
    segment_f1,
    tune_decoding,
)

CLASSES = ("tone", "chirp")


def test_events_to_frames_uses_frame_centres():
    # hop 0.1 s: frame t is centred at 0.1 t; [0.1, 0.3) holds frames 1 and 2 only.
    roll = events_to_frames([(0.1, 0.3, "tone"), (0.25, 0.45, "chirp")], CLASSES, 6, 0.1)
    assert roll.shape == (6, 2) and roll.dtype == np.float32
    np.testing.assert_array_equal(roll[:, 0], [0, 1, 1, 0, 0, 0])
    np.testing.assert_array_equal(roll[:, 1], [0, 0, 0, 1, 1, 0])  # centres 0.3 and 0.4


def test_events_to_frames_clips_to_the_roll_and_rejects_bad_events():
    roll = events_to_frames([(0.35, 9.0, "chirp")], CLASSES, 5, 0.1)
    np.testing.assert_array_equal(roll[:, 1], [0, 0, 0, 0, 1])
    with pytest.raises(ValueError, match="not one of the classes"):
        events_to_frames([(0.0, 1.0, "dog")], CLASSES, 5, 0.1)
    with pytest.raises(ValueError, match="onset <= offset"):
        events_to_frames([(1.0, 0.5, "tone")], CLASSES, 5, 0.1)
    with pytest.raises(ValueError, match="hop_seconds"):
        events_to_frames([], CLASSES, 5, 0.0)


def test_frames_to_events_by_hand():
    probs = np.zeros((10, 2), dtype=np.float32)
    probs[2:5, 0] = 0.9  # frames 2..4 -> (0.2, 0.5)
    probs[7, 0] = 0.6  # a one-frame blip -> (0.7, 0.8)
    probs[0:10, 1] = 0.4  # below the threshold: nothing
    assert frames_to_events(probs, 0.1, CLASSES) == [(0.2, 0.5, "tone"), (0.7, 0.8, "tone")]
    assert frames_to_events(probs, 0.1, CLASSES, threshold=0.3)[0] == (0.0, 1.0, "chirp")
    assert frames_to_events(probs, 0.1, CLASSES, min_duration=0.2) == [(0.2, 0.5, "tone")]
    # the gap 0.5-0.7 is 0.2 s: merged with merge_gap 0.25, kept apart with 0.15
    assert frames_to_events(probs, 0.1, CLASSES, merge_gap=0.25) == [(0.2, 0.8, "tone")]
    assert len(frames_to_events(probs, 0.1, CLASSES, merge_gap=0.15)) == 2
    # a median filter of 3 frames removes the one-frame blip
    assert frames_to_events(probs, 0.1, CLASSES, median_frames=3) == [(0.2, 0.5, "tone")]
    tensor = torch.from_numpy(probs)
    assert frames_to_events(tensor, 0.1, CLASSES) == frames_to_events(probs, 0.1, CLASSES)


def test_frames_to_events_rejects_bad_input():
    with pytest.raises(ValueError, match="shape"):
        frames_to_events(np.zeros((10, 3)), 0.1, CLASSES)
    with pytest.raises(ValueError, match="odd"):
        frames_to_events(np.zeros((10, 2)), 0.1, CLASSES, median_frames=4)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.booleans(), min_size=2, max_size=2), min_size=1, max_size=40))
def test_events_and_frames_are_inverses(rows):
    binary = np.array(rows, dtype=np.float32)
    events = frames_to_events(binary, 0.02, CLASSES)
    np.testing.assert_array_equal(events_to_frames(events, CLASSES, len(rows), 0.02), binary)


def test_median_filter_by_hand():
    x = np.array([[0, 1, 0, 0, 1, 1, 0, 1, 1]]).T
    np.testing.assert_array_equal(median_filter(x, 3)[:, 0], [0, 0, 0, 0, 1, 1, 1, 1, 1])
    np.testing.assert_array_equal(median_filter(x, 1), x)


def test_frame_f1_by_hand():
    predictions = np.array([[0.9, 0.1], [0.8, 0.7], [0.2, 0.6]])
    targets = np.array([[1, 0], [0, 1], [0, 0]])
    # active predictions: (0,0) (1,0) (1,1) (2,1); true: (0,0) (1,1). TP 2, FP 2, FN 0.
    result = frame_f1(predictions, targets)
    assert result == pytest.approx({"f1": 2 / 3, "precision": 0.5, "recall": 1.0})
    assert frame_f1(predictions, targets, threshold=0.75)["f1"] == pytest.approx(2 * 1 / (2 + 2))
    masked = frame_f1(predictions, targets, mask=np.array([True, True, False]))
    assert masked == pytest.approx({"f1": 0.8, "precision": 2 / 3, "recall": 1.0})
    batched = frame_f1(torch.tensor(predictions)[None], torch.tensor(targets)[None])
    assert batched["f1"] == pytest.approx(2 / 3)
    assert frame_f1(np.zeros((3, 2)), np.zeros((3, 2)))["f1"] == 0.0
    with pytest.raises(ValueError, match="share a shape"):
        frame_f1(np.zeros((3, 2)), np.zeros((3, 3)))


@pytest.mark.parametrize(
    "shift, counted", [(0.1, True), (-0.15, True), (0.5, False), (-0.3, False)]
)  # fmt: skip
def test_event_f1_onset_collar(shift, counted):
    truth = [[(2.0, 3.0, "tone")]]
    estimate = [[(2.0 + shift, 3.0 + shift, "tone")]]
    assert event_f1(truth, estimate, CLASSES)["f1"] == (1.0 if counted else 0.0)


def test_event_f1_offset_collar_grows_with_length():
    # offset tolerance = max(0.2, 0.2 * length): 0.8 s for a 4 s event, 0.2 s for 1 s
    assert event_f1([[(1.0, 5.0, "tone")]], [[(1.0, 5.6, "tone")]], CLASSES)["f1"] == 1.0
    assert event_f1([[(1.0, 2.0, "tone")]], [[(1.0, 2.6, "tone")]], CLASSES)["f1"] == 0.0


def test_event_f1_counts_per_class_and_clip():
    truth = [[(1.0, 2.0, "tone"), (1.5, 2.5, "chirp")], [(0.0, 1.0, "chirp")]]
    estimate = [[(1.05, 2.0, "tone"), (1.5, 2.5, "tone")], []]  # 1 TP, 1 wrong class, 2 missed
    result = event_f1(truth, estimate, CLASSES)
    # TP 1, estimates 2, references 3: precision 1/2, recall 1/3, F1 = 2 / (2 + 3) = 0.4
    assert result["precision"] == pytest.approx(0.5) and result["recall"] == pytest.approx(1 / 3)
    assert result["f1"] == pytest.approx(0.4)
    assert result["class_f1"] == pytest.approx({"tone": 2 / 3, "chirp": 0.0})
    with pytest.raises(ValueError, match="one event list per clip"):
        event_f1(truth, estimate[:1], CLASSES)
    with pytest.raises(ValueError, match="not in classes"):
        event_f1([[(0.0, 1.0, "dog")]], [[]], CLASSES)


def test_segment_f1_by_hand():
    truth = [[(0.2, 1.8, "tone")]]  # active in segments 0 and 1
    assert segment_f1(truth, [[(0.5, 0.9, "tone")]], CLASSES)["recall"] == pytest.approx(0.5)
    assert segment_f1(truth, [[(0.0, 2.0, "tone")]], CLASSES)["f1"] == pytest.approx(1.0)


def test_per_class_thresholds_and_medians():
    probs = np.zeros((10, 2), dtype=np.float32)
    probs[2:6, 0], probs[2:8, 1] = 0.45, 0.45
    probs[4, 1] = 0.0  # a one-frame gap in the second class
    assert frames_to_events(probs, 0.1, CLASSES, threshold=[0.4, 0.5]) == [(0.2, 0.6, "tone")]
    events = frames_to_events(probs, 0.1, CLASSES, threshold=0.4, median_frames=[1, 3])
    assert events == [(0.2, 0.8, "chirp"), (0.2, 0.6, "tone")]  # by onset, then label
    assert len(frames_to_events(probs, 0.1, CLASSES, threshold=0.4)) == 3  # unfiltered: a gap
    with pytest.raises(ValueError, match="one per class"):
        frames_to_events(probs, 0.1, CLASSES, threshold=[0.4, 0.5, 0.6])
    with pytest.raises(ValueError, match="one per class"):
        frames_to_events(probs, 0.1, CLASSES, median_frames=[1, 3, 5])


def test_tune_decoding_picks_each_class_setting():
    probs = np.zeros((2, 30, 2), dtype=np.float32)
    probs[0, 5:15, 0] = 0.35  # a faint tone: only a low threshold finds it
    probs[1, 10:20, 1] = 0.9  # a chirp with a blip after it: a high threshold alone won't help
    probs[1, 22, 1] = 0.9
    truth = [[(0.5, 1.5, "tone")], [(1.0, 2.0, "chirp")]]
    tuned = tune_decoding(probs, truth, 0.1, CLASSES, thresholds=(0.3, 0.5), medians=(1, 3))
    assert tuned["threshold"][0] == 0.3 and tuned["median_frames"][1] == 3
    assert tuned["class_f1"] == {"tone": 1.0, "chirp": 1.0}
    estimated = [frames_to_events(p, 0.1, CLASSES, tuned["threshold"], tuned["median_frames"])
                 for p in probs]  # fmt: skip
    assert event_f1(truth, estimated, CLASSES)["f1"] == 1.0


def test_event_f1_with_no_estimate_is_zero_not_nan():
    result = event_f1([[(1.0, 2.0, "tone")]], [[]], CLASSES)
    assert result["f1"] == 0.0 and result["precision"] == 0.0 and result["recall"] == 0.0


def test_plot_events_draws_truth_and_prediction():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from course_utils.plotting import plot_events

    ax = plot_events([(0.5, 1.2, "tone"), (0.1, 0.3, "chirp")], CLASSES,
                     predicted=[(0.6, 1.2, "tone")], duration=2.0, title="scene")  # fmt: skip
    truth, predicted = ax.collections
    assert len(truth.get_paths()) == 2 and len(predicted.get_paths()) == 1
    assert ax.get_xlabel() == "time (s)" and ax.get_xlim() == (0.0, 2.0)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["chirp", "tone"]  # first on top
    with pytest.raises(ValueError, match="not one of"):
        plot_events([(0.0, 1.0, "dog")], CLASSES)
    plt.close("all")
