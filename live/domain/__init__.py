"""The pure core: rooms, questions, votes, polls and moderation as plain data and transitions.

Nothing in this package does I/O or reads a clock: engines pass ``now`` in, and everything a
command changes comes back as events that carry the new state of what they touched.
"""
