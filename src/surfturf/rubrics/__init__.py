"""Rubrics: what a judge scores, as validated YAML (built-in or the user's own)."""

from surfturf.rubrics.loader import builtin_names, load_rubric, parse_rubric, rubric_text
from surfturf.rubrics.schema import Rubric, ScoreBand

__all__ = ["Rubric", "ScoreBand", "builtin_names", "load_rubric", "parse_rubric", "rubric_text"]
