"""surfturf: find (SURF) and explain (TURF) chunky post-training failures in language models."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("surfturf")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0"
