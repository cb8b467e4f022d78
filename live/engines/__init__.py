"""Where rooms live: the embedded engine (one process, SQLite) and the Redis engine (many processes).

Both implement ``Engine`` from ``base``; the contract tests run the same suite against each.
"""
