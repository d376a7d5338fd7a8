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


def test_lyrics_from_an_lrc_follow_the_song(ready_window, qtbot):
    """The demo's 火车慢 has a UTF-16 ``.lrc``: its line being sung is marked as the track plays."""
    window = ready_window
    train = next(t for t in window.engine.tracks.iter_all() if t.lyrics_source == "02 火车慢.lrc")
    window.show_lyrics()
    lyrics = window.lyrics
    assert window.player.play_track(train.id)
    assert lyrics.timed and lyrics.text.toPlainText().splitlines()[0] == "綠皮火車慢慢地開"
    window.playback.seek(22_000)  # the silent clock: past the third line's stamp (21.68 s)
    qtbot.waitUntil(lambda: lyrics.sung_line == 2, timeout=5_000)
    assert lyrics.text.textCursor().block().text() == "媽媽的叮嚀還在耳邊"
    assert [s.cursor.block().blockNumber() for s in lyrics.text.extraSelections()] == [2]
    window.playback.seek(0)  # before the first stamp: no line is being sung
    qtbot.waitUntil(lambda: lyrics.sung_line == -1, timeout=5_000)
    assert lyrics.text.extraSelections() == []


def test_lyrics_with_times_in_the_tags_follow_the_song_too(ready_window, tmp_path):
    import shutil

    from mutagen.id3 import ID3, USLT, Encoding

    from player_plugin.models import Track, TrackTags
    from tests.conftest import FIXTURES

    path = tmp_path / "timed.mp3"
    shutil.copyfile(FIXTURES / "tone.mp3", path)
    tags = ID3()
    tags.add(USLT(encoding=Encoding.UTF8, lang="chi", desc="", text="[00:00.50]一\n[00:01.00]二\n"))
    tags.save(path)
    track = Track(1, str(path), TrackTags(title="Timed"), lyrics="一\n二", lyrics_source="embedded")
    ready_window.show_lyrics()
    lyrics = ready_window.lyrics
    lyrics.show_track(track)
    assert lyrics.timed and lyrics.text.toPlainText() == "一\n二"
    lyrics.show_position(700)
    assert lyrics.sung_line == 0
