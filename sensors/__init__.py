"""Sensors and schedules: new extracts, drift-triggered and scheduled retraining."""
