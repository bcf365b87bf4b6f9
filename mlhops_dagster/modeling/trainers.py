"""Model trainers for binary risk prediction (any prediction task: the label is the feature table's `outcome`).

Three model families, each returned as a fitted *scikit-learn compatible*
classifier (``fit`` / ``predict_proba`` / ``classes_``) so that MLflow can log
all of them with the sklearn flavor and batch scoring can call
``predict_proba`` uniformly:

* ``lightgbm``            -- :class:`lightgbm.LGBMClassifier`
* ``logistic_regression`` -- median-impute (+ missing indicators) -> standardise
  -> L2 or L1 logistic regression (:class:`sklearn.pipeline.Pipeline`)
* ``dp_mlp``              -- :class:`DPMLPClassifier`, a small torch MLP trained
  with DP-SGD through Opacus (Poisson sampling, per-sample clipping, Gaussian
  noise calibrated to a target epsilon).

Heavy libraries (lightgbm, torch, opacus) are imported lazily inside the
functions/methods that need them so ``import mlhops_dagster.modeling`` stays
cheap (important for Dagster code-location load time).
"""

from __future__ import annotations

import logging
import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

__all__ = [
    "FAMILIES",
    "DPMLPClassifier",
    "TrainedModel",
    "train_dp_mlp",
    "train_lightgbm",
    "train_logistic_regression",
]

logger = logging.getLogger(__name__)

FAMILIES = ("lightgbm", "logistic_regression", "dp_mlp")

LIGHTGBM_DEFAULTS: dict[str, Any] = {
    "n_estimators": 200,
    "learning_rate": 0.05,
    "num_leaves": 15,
    "max_depth": -1,
    "min_child_samples": 20,
    "subsample": 0.8,
    "subsample_freq": 1,
    "colsample_bytree": 0.8,
    "reg_lambda": 1.0,
    "reg_alpha": 0.0,
    "n_jobs": 1,
    "deterministic": True,
    "force_row_wise": True,
    "verbose": -1,
}


@dataclass
class TrainedModel:
    """A fitted candidate model plus what needs to be logged about it."""

    family: str  # "lightgbm" | "logistic_regression" | "dp_mlp"
    estimator: Any  # fitted sklearn-compatible classifier
    params: dict[str, Any]  # hyper-parameters to log
    # {"epsilon_target", "epsilon_spent", "delta", "noise_multiplier", "sample_rate"}
    privacy: dict[str, float] | None = None


# --------------------------------------------------------------------------- #
# helpers
# --------------------------------------------------------------------------- #
def _check_xy(X: pd.DataFrame, y: pd.Series | np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    if not isinstance(X, pd.DataFrame):
        X = pd.DataFrame(np.asarray(X, dtype=float))
    y_arr = np.asarray(y).astype(int).ravel()
    if len(X) != len(y_arr):
        raise ValueError(f"X has {len(X)} rows but y has {len(y_arr)}")
    if len(X) == 0:
        raise ValueError("cannot train on an empty training set")
    labels = set(np.unique(y_arr).tolist())
    if not labels <= {0, 1}:
        raise ValueError(f"y must be binary 0/1, got labels {sorted(labels)}")
    if len(labels) < 2:
        raise ValueError(f"training labels contain a single class ({labels.pop()}); need both 0 and 1")
    return X, y_arr


# --------------------------------------------------------------------------- #
# LightGBM
# --------------------------------------------------------------------------- #
def train_lightgbm(X: pd.DataFrame, y: pd.Series, seed: int = 0, **params: Any) -> TrainedModel:
    """Gradient boosted trees with small-data defaults; deterministic for a seed.

    ``params`` override :data:`LIGHTGBM_DEFAULTS` (any LGBMClassifier argument).
    LightGBM handles NaN natively, so no imputation is applied.  Note that
    LightGBM rejects feature names containing JSON special characters
    (``[]{}:,"``).
    """
    from lightgbm import LGBMClassifier

    X, y_arr = _check_xy(X, y)
    cfg = {**LIGHTGBM_DEFAULTS, **params, "random_state": seed}
    est = LGBMClassifier(**cfg)
    est.fit(X, y_arr)
    return TrainedModel(family="lightgbm", estimator=est, params={**cfg, "seed": seed})


# --------------------------------------------------------------------------- #
# Logistic regression
# --------------------------------------------------------------------------- #
LOGREG_SOLVERS = {"l2": "lbfgs", "l1": "saga"}  # lbfgs has no L1; saga is seeded through random_state


def train_logistic_regression(
    X: pd.DataFrame,
    y: pd.Series,
    seed: int = 0,
    C: float = 1.0,
    penalty: str = "l2",
    add_indicator: bool = True,
    max_iter: int = 2000,
) -> TrainedModel:
    """Median impute (+ missing-value indicators) -> standardise -> L2 (lbfgs) or L1 (saga) logistic regression.

    ``class_weight=None`` so predicted probabilities stay calibrated to the base
    rate.  The penalty is set through ``l1_ratio`` (scikit-learn >= 1.8 deprecates
    ``penalty``).  lbfgs is deterministic and saga is seeded with ``seed``.
    """
    if penalty not in LOGREG_SOLVERS:
        raise ValueError(f"penalty must be one of {sorted(LOGREG_SOLVERS)}, got {penalty!r}")
    X, y_arr = _check_xy(X, y)
    solver = LOGREG_SOLVERS[penalty]
    clf = LogisticRegression(
        C=C,
        l1_ratio=1.0 if penalty == "l1" else 0.0,
        solver=solver,
        max_iter=max_iter,
        class_weight=None,
        random_state=seed,
    )
    pipe = Pipeline(
        [
            ("impute", SimpleImputer(strategy="median", add_indicator=add_indicator)),
            ("scale", StandardScaler()),
            ("clf", clf),
        ]
    )
    pipe.fit(X, y_arr)
    params = {
        "C": C,
        "penalty": penalty,
        "solver": solver,
        "max_iter": max_iter,
        "class_weight": None,
        "imputer": "median",
        "add_indicator": add_indicator,
        "scaler": "standard",
        "seed": seed,
    }
    return TrainedModel(family="logistic_regression", estimator=pipe, params=params)


# --------------------------------------------------------------------------- #
# Differentially private MLP
# --------------------------------------------------------------------------- #
def _build_mlp(n_features: int, hidden: int, n_layers: int = 1):
    import torch.nn as nn

    layers: list[Any] = []
    width = n_features
    for _ in range(n_layers):
        layers += [nn.Linear(width, hidden), nn.ReLU()]
        width = hidden
    layers.append(nn.Linear(width, 1))
    return nn.Sequential(*layers)


def _dp_epoch(
    torch: Any,
    dp_model: Any,
    dp_optimizer: Any,
    dp_loader: Any,
    loss_fn: Any,
    model: Any,
    ema: dict[str, Any] | None,
    decay: float,
) -> tuple[float, int, int]:
    """One DP-SGD pass over the Poisson-sampled batches, updating the EMA of the weights after every step;
    returns (summed loss, rows seen, steps taken)."""
    total, count, steps = 0.0, 0, 0
    for xb, yb in dp_loader:
        dp_optimizer.zero_grad(set_to_none=True)
        logits = dp_model(xb).squeeze(-1)
        if len(xb) == 0:
            # Poisson sampling can yield an empty batch: still take the
            # (noise-only) step so the accountant's step count is exact.
            loss = logits.sum() * 0.0
        else:
            loss = loss_fn(logits, yb)
            total += float(loss.detach()) * len(xb)
            count += len(xb)
        loss.backward()
        dp_optimizer.step()
        steps += 1
        if ema is not None:
            with torch.no_grad():
                for k, v in model.state_dict().items():
                    ema[k].mul_(decay).add_(v.detach(), alpha=1.0 - decay)
    return total, count, steps


class DPMLPClassifier(ClassifierMixin, BaseEstimator):
    """Small MLP trained with DP-SGD (Opacus), scikit-learn compatible.

    Preprocessing (fitted on the training data): per-column median imputation,
    standardisation, clipping to ``[-clip_features, clip_features]``.

    Training: ``PrivacyEngine.make_private_with_epsilon`` with Poisson sampling
    (Opacus default), per-sample gradient clipping at ``max_grad_norm`` and
    Gaussian noise calibrated so that ``epochs`` epochs spend ``target_epsilon``
    at ``delta`` under the chosen accountant ("prv" = Opacus default, tighter;
    "rdp" = ~2 s faster to calibrate, slightly more noise).  An exponential moving
    average of the DP iterates (``ema_decay``; pure post-processing, so it costs
    no privacy) is kept as the final weights.

    Privacy scope: the DP guarantee covers the network weights.  The
    preprocessing statistics (medians / means / standard deviations) are
    computed non-privately from the training data and stored in the model.

    Defaults were chosen on synthetic EHR-like data (2k rows x 40 features,
    ~19 % positives): ``max_grad_norm=1`` clips almost every per-sample gradient
    (gradient norm ~ ``sqrt(n_features)`` for standardised inputs), which biases
    predictions towards the majority class (mean predicted risk ~4 % vs 19 %
    prevalence, Brier worse than the constant model); ``max_grad_norm=5`` keeps
    AUROC and gives calibrated mean risk.

    After fitting, only plain numpy arrays are kept (``state_dict_`` = the
    unwrapped ``nn.Module`` state), so the estimator pickles cleanly with no
    Opacus hooks / GradSampleModule; the torch module is rebuilt lazily for
    prediction.

    Fitted attributes: ``classes_``, ``n_features_in_``, ``feature_names_in_``
    (when fitted on a DataFrame), ``medians_``, ``means_``, ``scales_``,
    ``state_dict_``, ``epsilon_spent_``, ``noise_multiplier_``, ``sample_rate_``,
    ``n_steps_``, ``train_loss_`` (per-epoch mean training loss).
    """

    def __init__(
        self,
        target_epsilon: float = 3.0,
        delta: float = 1e-5,
        epochs: int = 10,
        batch_size: int = 64,
        max_grad_norm: float = 5.0,
        hidden: int = 32,
        n_layers: int = 1,
        lr: float = 0.01,
        optimizer: str = "adam",
        ema_decay: float = 0.95,
        clip_features: float = 5.0,
        accountant: str = "prv",
        random_state: int = 0,
        n_threads: int | None = 1,
    ):
        self.target_epsilon = target_epsilon
        self.delta = delta
        self.epochs = epochs
        self.batch_size = batch_size
        self.max_grad_norm = max_grad_norm
        self.hidden = hidden
        self.n_layers = n_layers
        self.lr = lr
        self.optimizer = optimizer
        self.ema_decay = ema_decay
        self.clip_features = clip_features
        self.accountant = accountant
        self.random_state = random_state
        self.n_threads = n_threads

    # ---------------- preprocessing ----------------
    def _to_array(self, X: Any) -> np.ndarray:
        if isinstance(X, pd.DataFrame):
            names = getattr(self, "feature_names_in_", None)
            if names is not None:
                missing = [c for c in names if c not in X.columns]
                if missing:
                    raise ValueError(f"X is missing feature columns seen at fit: {missing[:10]}")
                X = X.loc[:, list(names)]
            arr = X.to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            arr = np.asarray(X, dtype=np.float64)
        if arr.ndim != 2:
            raise ValueError(f"X must be 2-D, got shape {arr.shape}")
        n_in = getattr(self, "n_features_in_", None)
        if n_in is not None and arr.shape[1] != n_in:
            raise ValueError(f"X has {arr.shape[1]} features, model was fitted with {n_in}")
        return arr

    def _transform(self, arr: np.ndarray) -> np.ndarray:
        arr = np.where(np.isnan(arr), self.medians_, arr)
        arr = (arr - self.means_) / self.scales_
        c = float(self.clip_features)
        return np.clip(arr, -c, c).astype(np.float32)

    # ---------------- fit ----------------
    def fit(self, X: Any, y: Any) -> DPMLPClassifier:
        import torch

        for attr in ("feature_names_in_", "n_features_in_"):
            if attr in self.__dict__:
                delattr(self, attr)
        if isinstance(X, pd.DataFrame):
            names = np.asarray([str(c) for c in X.columns], dtype=object)
            X = X.set_axis(list(names), axis=1)
            self.feature_names_in_ = names
        arr = self._to_array(X)
        _, y_arr = _check_xy(pd.DataFrame(arr), y)
        if self.optimizer not in ("adam", "sgd"):
            raise ValueError(f"optimizer must be 'adam' or 'sgd', got {self.optimizer!r}")
        self.n_features_in_ = arr.shape[1]
        self.classes_ = np.array([0, 1])

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN column
            med = np.nanmedian(arr, axis=0)
        self.medians_ = np.where(np.isnan(med), 0.0, med)
        filled = np.where(np.isnan(arr), self.medians_, arr)
        self.means_ = filled.mean(axis=0)
        sd = filled.std(axis=0)
        self.scales_ = np.where(sd > 1e-12, sd, 1.0)
        Xt = self._transform(arr)

        prev_threads = torch.get_num_threads()
        if self.n_threads:
            torch.set_num_threads(int(self.n_threads))
        try:
            # fork_rng restores the global torch RNG afterwards: seeded and
            # reproducible here, no side effects on other code.
            with torch.random.fork_rng(devices=[]), warnings.catch_warnings():
                # expected & harmless: secure_mode=False notice, and the full
                # backward hook notice (inputs do not require grad)
                warnings.filterwarnings("ignore", message="Secure RNG turned off")
                warnings.filterwarnings("ignore", message="Full backward hook is firing")
                # PRV calibration probes tiny noise multipliers through an RDP bound
                warnings.filterwarnings("ignore", message="Optimal order is the largest alpha")
                self._fit_dp(torch, Xt, y_arr)
        finally:
            torch.set_num_threads(prev_threads)
        self._module_cache = None
        return self

    def _fit_dp(self, torch: Any, Xt: np.ndarray, y_arr: np.ndarray) -> None:
        from opacus import PrivacyEngine
        from torch.utils.data import DataLoader, TensorDataset

        seed = int(self.random_state)
        torch.manual_seed(seed)
        model = _build_mlp(self.n_features_in_, int(self.hidden), int(self.n_layers))
        if self.optimizer == "adam":
            optimizer = torch.optim.Adam(model.parameters(), lr=float(self.lr))
        else:
            optimizer = torch.optim.SGD(model.parameters(), lr=float(self.lr), momentum=0.9)
        dataset = TensorDataset(torch.from_numpy(Xt), torch.from_numpy(y_arr.astype(np.float32)))
        batch_size = max(1, min(int(self.batch_size), len(dataset)))
        # the DPDataLoader built by Opacus inherits this generator (secure_mode=False)
        loader = DataLoader(
            dataset,
            batch_size=batch_size,
            shuffle=False,
            generator=torch.Generator().manual_seed(seed),
        )
        engine = PrivacyEngine(accountant=self.accountant, secure_mode=False)
        dp_model, dp_optimizer, dp_loader = engine.make_private_with_epsilon(
            module=model,
            optimizer=optimizer,
            data_loader=loader,
            target_epsilon=float(self.target_epsilon),
            target_delta=float(self.delta),
            epochs=int(self.epochs),
            max_grad_norm=float(self.max_grad_norm),
            noise_generator=torch.Generator().manual_seed(seed + 1_000_003),
            poisson_sampling=True,
        )
        loss_fn = torch.nn.BCEWithLogitsLoss()
        decay = float(self.ema_decay)
        ema = {k: v.detach().clone() for k, v in model.state_dict().items()} if decay > 0 else None
        dp_model.train()
        epoch_losses: list[float] = []
        n_steps = 0
        for epoch in range(int(self.epochs)):
            total, count, steps = _dp_epoch(torch, dp_model, dp_optimizer, dp_loader, loss_fn, model, ema, decay)
            n_steps += steps
            epoch_losses.append(total / count if count else float("nan"))
            if logger.isEnabledFor(logging.INFO):  # the accountant's ε costs ~0.2 s: only computed when shown
                logger.info(
                    "DP-MLP epoch %d/%d: training loss %.4f, ε spent %.3f of %.2f (δ = %g)",
                    epoch + 1,
                    int(self.epochs),
                    epoch_losses[-1],
                    engine.get_epsilon(float(self.delta)),
                    float(self.target_epsilon),
                    float(self.delta),
                )

        self.epsilon_spent_ = float(engine.get_epsilon(float(self.delta)))
        self.noise_multiplier_ = float(dp_optimizer.noise_multiplier)
        self.sample_rate_ = float(1.0 / len(loader))
        self.n_steps_ = n_steps
        self.train_loss_ = epoch_losses
        final = ema if ema is not None else model.state_dict()
        # plain arrays of the *unwrapped* module: nothing Opacus-related is kept
        self.state_dict_ = {k: v.detach().cpu().numpy().copy() for k, v in final.items()}
        if hasattr(dp_model, "_close"):
            dp_model._close()  # remove Opacus hooks / grad_sample attributes

    # ---------------- predict ----------------
    def _module(self) -> Any:
        import torch

        mod = getattr(self, "_module_cache", None)
        if mod is None:
            mod = _build_mlp(self.n_features_in_, int(self.hidden), int(self.n_layers))
            mod.load_state_dict({k: torch.from_numpy(np.array(v, copy=True)) for k, v in self.state_dict_.items()})
            mod.eval()
            self._module_cache = mod
        return mod

    def decision_function(self, X: Any) -> np.ndarray:
        import torch

        check_is_fitted(self, "state_dict_")
        Xt = self._transform(self._to_array(X))
        with torch.no_grad():
            logits = self._module()(torch.from_numpy(Xt)).squeeze(-1)
        return logits.numpy().astype(np.float64)

    def predict_proba(self, X: Any) -> np.ndarray:
        z = self.decision_function(X)
        p1 = 1.0 / (1.0 + np.exp(-np.clip(z, -50.0, 50.0)))
        return np.column_stack([1.0 - p1, p1])

    def predict(self, X: Any) -> np.ndarray:
        return self.classes_[(self.predict_proba(X)[:, 1] >= 0.5).astype(int)]

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state.pop("_module_cache", None)  # never pickle torch modules
        return state


def train_dp_mlp(
    X: pd.DataFrame,
    y: pd.Series,
    seed: int = 0,
    target_epsilon: float = 3.0,
    delta: float = 1e-5,
    epochs: int = 10,
    batch_size: int = 64,
    max_grad_norm: float = 5.0,
    hidden: int = 32,
    lr: float = 0.01,
    *,
    n_layers: int = 1,
    ema_decay: float = 0.95,
    accountant: str = "prv",
    n_threads: int | None = 1,
) -> TrainedModel:
    """Train :class:`DPMLPClassifier` with DP-SGD at ``(target_epsilon, delta)``.

    ``delta`` should be well below ``1 / n_train`` (1e-5 is fine up to ~100k
    rows).  ``batch_size`` is the *expected* Poisson batch size (sample rate =
    1 / ceil(n / batch_size)).  ``n_threads`` caps torch intra-op threads during
    training (restored afterwards; 1 is fastest for this tiny network).
    ``privacy`` of the result holds epsilon_target, epsilon_spent (from the
    accountant after training), delta, noise_multiplier and sample_rate.
    """
    if not (target_epsilon > 0 and math.isfinite(target_epsilon)):
        raise ValueError(f"target_epsilon must be a positive finite number, got {target_epsilon}")
    if not (0 < delta < 1):
        raise ValueError(f"delta must be in (0, 1), got {delta}")
    est = DPMLPClassifier(
        target_epsilon=target_epsilon,
        delta=delta,
        epochs=epochs,
        batch_size=batch_size,
        max_grad_norm=max_grad_norm,
        hidden=hidden,
        n_layers=n_layers,
        lr=lr,
        ema_decay=ema_decay,
        accountant=accountant,
        random_state=seed,
        n_threads=n_threads,
    )
    est.fit(X, y)
    params = {
        "target_epsilon": target_epsilon,
        "delta": delta,
        "epochs": epochs,
        "batch_size": batch_size,
        "max_grad_norm": max_grad_norm,
        "hidden": hidden,
        "n_layers": n_layers,
        "lr": lr,
        "optimizer": est.optimizer,
        "ema_decay": ema_decay,
        "accountant": accountant,
        "clip_features": est.clip_features,
        "poisson_sampling": True,
        "n_steps": est.n_steps_,
        "seed": seed,
    }
    privacy = {
        "epsilon_target": float(target_epsilon),
        "epsilon_spent": est.epsilon_spent_,
        "delta": float(delta),
        "noise_multiplier": est.noise_multiplier_,
        "sample_rate": est.sample_rate_,
    }
    return TrainedModel(family="dp_mlp", estimator=est, params=params, privacy=privacy)
