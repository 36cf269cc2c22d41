"""Synthetic SparkPost webhook traffic for tests, benchmarks and demos."""

from __future__ import annotations

from event_data.synth.generator import EventGenerator, GeneratorConfig

__all__ = ["EventGenerator", "GeneratorConfig"]
