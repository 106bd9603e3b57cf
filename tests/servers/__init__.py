"""Real servers the tests start and stop themselves (PostgreSQL 15, Redis)."""
