"""Layers drawn over stacks (SPEC §10): model, readers, placement and the session's store.

Readers and the store are imported from their modules; this package imports nothing heavy
(discovery imports :mod:`.detect` for every scan).
"""
