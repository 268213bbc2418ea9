"""Typed Python client of the ML Training API (`MLTrainingAPI`); every error is `APIError`.

    from mlaas import MLTrainingAPI
    api = MLTrainingAPI("http://localhost:5000")
    print(api.get_service_status()["configured_services"])
"""

from . import models
from .client import APIError, MLTrainingAPI, progress_line, retry_after_seconds

__all__ = ["APIError", "MLTrainingAPI", "models", "progress_line", "retry_after_seconds"]
__version__ = "0.1.0"
