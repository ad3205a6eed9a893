"""SURF: search for prompts on which a target model violates a rubric."""
