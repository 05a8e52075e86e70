import numpy as np
import pytest

from digits.metrics import confusion_matrix, cross_entropy, per_class_metrics, score


def test_confusion_matrix_counts_true_rows_and_predicted_columns():
    cm = confusion_matrix([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 0, 2], num_classes=3)
    np.testing.assert_array_equal(cm, [[1, 1, 0], [0, 1, 0], [1, 0, 2]])


def test_per_class_metrics_match_hand_computed_values():
    cm = np.array([[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    m = per_class_metrics(cm)
    # class 0: tp 1, predicted 2, actual 2; class 1: tp 1, predicted 2, actual 1;
    # class 2: tp 2, predicted 2, actual 3
    np.testing.assert_allclose(m["precision"], [1 / 2, 1 / 2, 2 / 2])
    np.testing.assert_allclose(m["recall"], [1 / 2, 1 / 1, 2 / 3])
    np.testing.assert_allclose(m["f1"], [1 / 2, 2 / 3, 2 * (2 / 3) / (1 + 2 / 3)])
    np.testing.assert_array_equal(m["support"], [2, 1, 3])


def test_a_class_never_predicted_scores_zero_not_nan():
    m = per_class_metrics(np.array([[2, 0], [1, 0]]))
    assert m["precision"][1] == 0 and m["recall"][1] == 0 and m["f1"][1] == 0


def test_cross_entropy_matches_hand_value():
    p = np.array([[0.5, 0.5], [0.9, 0.1]])
    assert cross_entropy(p, np.array([0, 0])) == pytest.approx(-(np.log(0.5) + np.log(0.9)) / 2)


def test_score_reports_accuracy_errors_and_per_digit_metrics():
    y_true = np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9])
    probabilities = np.eye(10)[[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 4]] * 0.9 + 0.01
    report = score(probabilities, y_true)
    assert report["accuracy"] == pytest.approx(10 / 11) and report["errors"] == 1
    assert report["per_digit"]["9"]["recall"] == pytest.approx(0.5)
    assert report["per_digit"]["4"]["precision"] == pytest.approx(0.5)
    assert report["confusion_matrix"][9][4] == 1
    # ten images given 0.91 for the right digit, the last only 0.01
    assert report["loss"] == pytest.approx(-(10 * np.log(0.91) + np.log(0.01)) / 11)
