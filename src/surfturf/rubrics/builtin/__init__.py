"""Built-in rubric YAMLs (one file per rubric; the file stem is the rubric name)."""
