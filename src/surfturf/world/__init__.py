"""The offline chunky world: spec, corpus generator, trained target, offline roles, server, score."""

from surfturf.world.corpus import balancing_rows, generate_corpus, offending_ids
from surfturf.world.spec import World, load_world
from surfturf.world.target import WorldTarget, train_target

__all__ = ["World", "WorldTarget", "balancing_rows", "generate_corpus", "load_world", "offending_ids",
           "train_target"]
