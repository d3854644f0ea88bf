"""MongoDB queries, and nothing else: no permissions, no business rules."""
