"""Everything needed to learn and compare models, and the command line."""
