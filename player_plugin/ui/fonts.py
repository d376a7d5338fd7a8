"""Is there a font that can draw Chinese? Without one Qt draws every CJK title as boxes, silently."""

from __future__ import annotations

from collections.abc import Iterable

# The package that brings a CJK font, per distribution family.
CJK_FONT_PACKAGES = (("Debian/Ubuntu", "fonts-noto-cjk"), ("Fedora", "google-noto-sans-cjk-fonts"))


def chinese_font_families() -> list[str]:
    """Font families Qt knows that cover Simplified Chinese (needs a QGuiApplication)."""
    from PySide6.QtGui import QFontDatabase

    return list(QFontDatabase.families(QFontDatabase.WritingSystem.SimplifiedChinese))


def missing_cjk_font_warning(chinese_families: Iterable[str]) -> str | None:
    """None when some family covers Chinese; otherwise the warning that names the packages."""
    if any(name.strip() for name in chinese_families):
        return None
    packages = "; ".join(f"{distro}: {package}" for distro, package in CJK_FONT_PACKAGES)
    return f"No Chinese font installed: CJK titles show as boxes. Install one ({packages}) and restart."
