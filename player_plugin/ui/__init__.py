"""The desktop app (PySide6): the first host of :class:`player_plugin.engine.Engine`.

This is the only package that imports Qt. Start it with :func:`player_plugin.ui.app.run_app`.
Importing ``player_plugin.ui`` itself loads no Qt module.
"""
