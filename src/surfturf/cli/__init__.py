"""The `surfturf` command line."""
