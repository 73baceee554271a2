"""Cross-cutting infrastructure: settings, database, errors, ids, clock, security, audit."""
