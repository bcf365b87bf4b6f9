"""Global feature importance of a fitted candidate, by the method that fits its family.

Why: the model card and reviewers need to see what drives the risk score. Tree models get TreeSHAP
(exact, built into LightGBM), linear models their standardised coefficients, and anything else that
scores probabilities (the DP MLP) scikit-learn's model-agnostic permutation importance on the test rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["IMPORTANCE_METHODS", "global_feature_importance"]

IMPORTANCE_METHODS = {
    "mean_abs_tree_shap": "mean |SHAP value| over the test rows (LightGBM TreeSHAP, log-odds scale)",
    "abs_standardised_coef": "|coefficient| × standard deviation of the transformed input (standardised coefficient)",
    "permutation_auroc_drop": "mean drop in test AUROC when the feature's values are shuffled (permutation importance)",
}
"""Method name -> what its importance measures (for the model card)."""


def global_feature_importance(
    model: Any, X: pd.DataFrame, y: Any = None, seed: int = 0, n_repeats: int = 5
) -> pd.DataFrame:
    """Global importance per feature, sorted descending: columns feature, importance, method.

    - LightGBM (``LGBMClassifier`` or ``Booster``): mean |SHAP| over the rows
      of ``X``, from LightGBM's built-in TreeSHAP (``pred_contrib=True``, log-odds
      scale); method "mean_abs_tree_shap".
    - scikit-learn linear models (a fitted ``LogisticRegression`` or a
      ``Pipeline`` ending in one): |coefficient| × standard deviation of the
      transformed feature in ``X`` (the standardised coefficient; equal to
      |coef| after a StandardScaler); method "abs_standardised_coef".
    - any other classifier with ``predict_proba`` when the outcomes ``y`` of
      ``X`` are given: ``sklearn.inspection.permutation_importance`` with AUROC
      scoring, ``n_repeats`` shuffles seeded by ``seed``; method
      "permutation_auroc_drop".

    SHAP ranks are comparable across tree models, standardised coefficients
    across linear ones.  A ``TrainedModel``'s ``.estimator`` is unwrapped.
    """
    estimator = getattr(model, "estimator", model)
    booster = getattr(estimator, "booster_", None)
    if booster is None and type(estimator).__name__ == "Booster":
        booster = estimator
    final = estimator[-1] if hasattr(estimator, "steps") else estimator
    if booster is not None:
        names, values, method = _tree_shap(booster, X)
    elif getattr(final, "coef_", None) is not None:
        names, values, method = _standardised_coefficients(estimator, final, X)
    elif y is not None and hasattr(estimator, "predict_proba"):
        names, values, method = _permutation(estimator, X, y, seed, n_repeats)
    else:
        raise TypeError(
            "global_feature_importance supports LightGBM and linear scikit-learn models, and any classifier with "
            f"predict_proba when y is given (permutation importance); got {type(final).__name__}"
        )
    table = pd.DataFrame({"feature": [str(n) for n in names], "importance": values, "method": method})
    return table.sort_values("importance", ascending=False, kind="stable").reset_index(drop=True)


def _tree_shap(booster: Any, X: pd.DataFrame) -> tuple[list[str], np.ndarray, str]:
    contrib = np.asarray(booster.predict(X, pred_contrib=True))
    names = list(booster.feature_name())
    if contrib.shape[1] != len(names) + 1:
        raise ValueError("pred_contrib output is not (n, n_features + 1); multiclass models are not supported")
    return names, np.abs(contrib[:, :-1]).mean(axis=0), "mean_abs_tree_shap"


def _standardised_coefficients(estimator: Any, final: Any, X: pd.DataFrame) -> tuple[list[str], np.ndarray, str]:
    if hasattr(estimator, "steps") and len(estimator.steps) > 1:
        transformed = estimator[:-1].transform(X)
        names = list(estimator[:-1].get_feature_names_out())
    else:
        transformed = X
        names = list(getattr(final, "feature_names_in_", getattr(X, "columns", range(np.shape(X)[1]))))
    sd = np.nanstd(np.asarray(transformed, dtype=np.float64), axis=0)
    return names, np.abs(np.asarray(final.coef_, dtype=np.float64).ravel()) * sd, "abs_standardised_coef"


def _permutation(
    estimator: Any, X: pd.DataFrame, y: Any, seed: int, n_repeats: int
) -> tuple[list[str], np.ndarray, str]:
    from sklearn.inspection import permutation_importance

    result = permutation_importance(
        estimator, X, np.asarray(y).astype(int), scoring="roc_auc", n_repeats=n_repeats, random_state=seed, n_jobs=1
    )
    return [str(c) for c in X.columns], np.asarray(result.importances_mean, dtype=np.float64), "permutation_auroc_drop"
