"""Playback → Lyrics: the lyrics of the track playing, following it from track to track."""

from __future__ import annotations

from player_plugin.ui.lyrics_window import NO_LYRICS, NO_TRACK


def test_the_lyrics_window_follows_the_track_playing(ready_window, qtbot):
    window = ready_window
    tracks = list(window.engine.tracks.iter_all())
    sung = next(t for t in tracks if t.lyrics)
    bare = next(t for t in tracks if not t.lyrics)
    action = next(a for a in window.actions() if a.text() == "Lyrics")
    assert action.shortcut().toString() == "Ctrl+Shift+L"
    action.trigger()
    lyrics = window.lyrics
    assert lyrics is not None and lyrics.isVisible()
    assert (lyrics.heading.text(), lyrics.text.toPlainText()) == (NO_TRACK, "")

    assert window.player.play_track(sung.id)
    assert lyrics.heading.text().startswith(sung.tags.title + " — ")
    assert lyrics.text.toPlainText() == sung.lyrics and lyrics.text.isReadOnly()
    assert window.player.play_track(bare.id)  # the next track: the window follows
    assert lyrics.text.toPlainText() == NO_LYRICS and ".lrc" in NO_LYRICS

    lyrics.close()
    action.trigger()  # opened again: the same window, showing the track playing
    assert window.lyrics is lyrics and lyrics.isVisible() and lyrics.heading.text().startswith(bare.tags.title)
