"""Hosts other than our own window: other players, driven through the engine's listening seam."""
