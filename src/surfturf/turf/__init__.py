"""TURF: trace failures to the training data (index build, store, trace, data statistics)."""
