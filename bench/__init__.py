"""``make bench``: the performance targets P1-P6 of the specification, each measured beside its
physical ceiling in the same run, and the capacity they imply.

Absolute times drift on shared machines; a ratio taken side by side does not, so every figure is
reported with its ceiling and the raw parts (events, seconds, bytes) it was computed from.
"""
