"""Settings → Learn from my star ratings: the tags' ratings become likes and dislikes, and Up Next follows."""

from __future__ import annotations

import shutil

import mutagen

from player_plugin import paths
from player_plugin.models import EventKind
from player_plugin.store import EventRepository
from tests.ui.conftest import TEST_MODEL, WAIT_MS


def test_learning_from_the_star_ratings(make_window, tmp_path, qtbot):
    from player_plugin.shared_encoder import make_engine
    from player_plugin.ui.settings_dialog import SettingsDialog

    music = tmp_path / "music"
    shutil.copytree(paths.demo_library_dir(), music)
    flacs = sorted(music.rglob("*.flac"))
    for path, stars in ((flacs[0], "5"), (flacs[1], "1")):  # foobar2000's RATING: whole stars
        audio = mutagen.File(path)
        audio["RATING"] = stars
        audio.save()
    prepared = tmp_path / "prepared.db"
    engine = make_engine(prepared, model_id=TEST_MODEL)
    engine.scan([music])
    engine.embed()
    engine.close()

    window = make_window(prepared)
    with qtbot.waitSignal(window.jobs.embed_finished, timeout=WAIT_MS):
        window.start()
    qtbot.waitUntil(lambda: len(window.upnext.entries()) >= 5 and not window.queue_runner.busy, timeout=WAIT_MS)
    dialog = SettingsDialog(window.engine, window, window)
    report = dialog.import_ratings()
    assert (report.rated, report.liked, report.disliked) == (2, 1, 1)
    assert "Learnt from 2 star ratings: 1 like, 1 dislike" in window.status_label.text()
    by_path = {t.path: t.id for t in window.engine.tracks.iter_all()}
    kinds = {e.track_id: e.kind for e in EventRepository(window.engine.db).recent(10)}
    assert kinds == {by_path[str(flacs[0])]: EventKind.LIKE, by_path[str(flacs[1])]: EventKind.DISLIKE}
    qtbot.waitUntil(lambda: len(window.upnext.entries()) >= 5 and not window.queue_runner.busy, timeout=WAIT_MS)
    assert by_path[str(flacs[1])] not in {e.track_id for e in window.upnext.entries()}  # refilled without it
    assert dialog.import_ratings().already == 2  # a second time: nothing new
