"""Output formats: pure functions from results to text."""
