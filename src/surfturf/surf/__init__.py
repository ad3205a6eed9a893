"""SURF: search for prompts on which a target model violates a rubric."""

from surfturf.surf.config import RoleSpec, SurfConfig
from surfturf.surf.findings import load_candidates, load_findings, load_manifest
from surfturf.surf.judge import JudgeOutcome, judge_one
from surfturf.surf.loop import run_surf, run_surf_sync
from surfturf.surf.prompts import Judgement, ParseError, parse_generated_query, parse_judgement
from surfturf.surf.rundir import SurfSummary

__all__ = [
    "Judgement",
    "JudgeOutcome",
    "ParseError",
    "RoleSpec",
    "SurfConfig",
    "SurfSummary",
    "judge_one",
    "load_candidates",
    "load_findings",
    "load_manifest",
    "parse_generated_query",
    "parse_judgement",
    "run_surf",
    "run_surf_sync",
]
