"""What the service reads from the typed prompt, kept until the prompt, the model or the library
changes: its vector (the requests' offset taken out), its lead (recommend/prompt_adapter.py), the
script it wants (recommend/prompt_language.py) and the genres and artists it names
(recommend/prompt_words.py). A part of :class:`~player_plugin.recommend.service.RecommendService`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from player_plugin.recommend.catalog_index import CatalogIndex
from player_plugin.recommend.prompt_adapter import prompt_lead
from player_plugin.recommend.prompt_language import LanguageWish, language_wish
from player_plugin.recommend.prompt_space import centred_query, query_centre
from player_plugin.recommend.prompt_words import PromptWords, prompt_matches


class PromptReading:
    """The prompt's readings; the service provides ``settings``, ``_model_id``, ``_encoder`` and ``index``."""

    settings: Any
    _model_id: Callable[[], str]
    _encoder: Callable[[], Any]
    index: Callable[[], CatalogIndex]

    def _forget_prompt_readings(self) -> None:
        self._prompt_vec: tuple[str, str, int, np.ndarray] | None = None  # (model, text, library size, vector)
        self._prompt_wish: tuple[str, str, LanguageWish] | None = None  # (model, text, the script it wants)
        self._prompt_lead: tuple[tuple, np.ndarray] | None = None  # ((model, text, its vector), its lead)
        self._query_centre: tuple[str, dict[bool, np.ndarray]] | None = None  # (model, mean request per script)

    def prompt_word_matches(self, index: CatalogIndex) -> tuple[np.ndarray, np.ndarray]:
        """(rows, +1 / -1) of the tracks whose genre or artist the prompt names (wanted / ruled out),
        kept until the prompt or the catalog changes. Ruled out wins over wanted."""
        text = self.prompt
        if not text:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        hit = index.cached_words(text)
        if hit is None:
            sources = [(index.genres, True), (index.artists.rows, False)]
            hit = prompt_matches(PromptWords.parse(text), sources, index.catalog.n)
            index.keep_words(text, *hit)
        return hit

    @property
    def prompt(self) -> str | None:
        return self.settings.prompt()

    def set_prompt(self, text: str | None) -> None:
        text = (text or "").strip() or None
        self.settings.set_prompt(text)

    def prompt_vector(self) -> np.ndarray | None:
        """The prompt embedded as a query, the requests' common offset taken out (recommend/prompt_space.py)."""
        text = self.prompt
        if not text:
            return None
        model_id = self._model_id()
        n = self.index().catalog.n  # how much of the offset goes depends on the library's size
        if self._prompt_vec is None or self._prompt_vec[:3] != (model_id, text, n):
            query = self._encoder().embed_query(text)
            self._prompt_vec = (model_id, text, n, centred_query(text, query, self.query_centre(), n))
            self._prompt_wish = (model_id, text, language_wish(text, query, model_id))
        return self._prompt_vec[3]

    def prompt_lead_vector(self) -> np.ndarray | None:
        """What the prompt leads by: its vector moved by the prompt adapter (recommend/prompt_adapter.py)
        towards where the music it names lies. The user model's prompt part and the prompt's fit; the
        generator reads :meth:`prompt_vector` (what it was trained on)."""
        query = self.prompt_vector()
        if query is None:
            return None
        key = (self._model_id(), self.prompt, query.tobytes())
        if self._prompt_lead is None or self._prompt_lead[0] != key:
            self._prompt_lead = (key, prompt_lead(query, self.prompt, key[0]))
        return self._prompt_lead[1]

    def prompt_script(self) -> LanguageWish:
        """The script the prompt wants (recommend/prompt_language.py): read with its vector; from its
        words alone when the vector came from elsewhere."""
        text = self.prompt
        if self._prompt_wish is not None and self._prompt_wish[:2] == (self._model_id(), text):
            return self._prompt_wish[2]
        return language_wish(text, None, self._model_id())

    def query_centre(self) -> dict[bool, np.ndarray]:
        """The request corpus' mean query vector per script for the current model (embedded once per model)."""
        model_id = self._model_id()
        if self._query_centre is None or self._query_centre[0] != model_id:
            encoder = self._encoder()
            self._query_centre = (model_id, query_centre(lambda texts: encoder.embed(list(texts), kind="query")))
        return self._query_centre[1]
