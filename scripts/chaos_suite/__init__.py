"""Callsight's chaos and fuzz suite: crash, database outage, slow and dead consoles, hostile input, soak."""
