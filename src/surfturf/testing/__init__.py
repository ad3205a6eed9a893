"""Test helpers shipped with the package: a scriptable local LLM server for tests and benches."""
