"""Dagster resources: thin, configurable handles on the warehouse, landing zone, dbt and MLflow."""

from resources.dbt_project import OmopDbtResource
from resources.feature_store import FeatureStoreResource
from resources.landing import ExtractLandingResource
from resources.quality import DataQualityResource
from resources.tracking import MlflowResource
from resources.warehouse import DUCKDB_POOL, WarehouseResource

__all__ = [
    "DUCKDB_POOL",
    "DataQualityResource",
    "FeatureStoreResource",
    "ExtractLandingResource",
    "MlflowResource",
    "WarehouseResource",
    "OmopDbtResource",
]
