"""Where rooms live: ``engine.Engine`` (replicas, group commit, history) over a ``storage.Storage``:
``sqlite.SqliteStorage`` (the embedded engine: one process, a SQLite file) or ``redis.RedisStorage``
(many processes). The contract tests run the same suite over each.
"""
