"""Prompt words that name genres and artists (recommend/prompt_words.py), by hand."""

from __future__ import annotations

import numpy as np

from player_plugin.recommend.prompt_words import PromptWords, cjk_negated, index_labels, label_matches


def test_parse_runs_plurals_and_negation_per_clause():
    p = PromptWords.parse("Hip Hop, no metal or BALLADS; rainy night")
    assert {"hip", "hop", "hiphop", "rainy", "night", "rainynight"} <= p.wanted
    assert {"metal", "ballads", "ballad"} <= p.unwanted  # everything after "no" in its clause
    assert "no" not in p.wanted | p.unwanted
    assert "rainy" not in p.unwanted  # a new clause ends the negation
    assert PromptWords.parse("anything but jazz").unwanted == frozenset()  # "but" splits, it does not negate
    assert PromptWords.parse("").empty


def test_match_genres_artists_and_cjk():
    p = PromptWords.parse("lo-fi and rock, without metal")
    assert p.match("lo-fi", genre=True) == 1
    assert p.match("indie rock", genre=True) == 1 and p.match("post-rock", genre=True) == 1  # a word of the genre
    assert p.match("doom metal", genre=True) == -1 and p.match("metal", genre=True) == -1
    assert p.match("jazz", genre=True) == 0 and p.match("", genre=True) == 0
    assert PromptWords.parse("relaxing music").match("world music", genre=True) == 0  # filler never matches alone
    # artists: the whole name; a one-word name only when the prompt is little more than it
    assert PromptWords.parse("more Neon Tide please").match("neon tide", genre=False) == 1
    assert PromptWords.parse("neon lights").match("neon tide", genre=False) == 0
    assert PromptWords.parse("more Low").match("low", genre=False) == 1
    assert PromptWords.parse("low and slow").match("low", genre=False) == 0
    assert PromptWords.parse("来点 Low 的歌").match("low", genre=False) == 1
    assert PromptWords.parse("欧美民谣 I 往昔璀璨如钻").match("i", genre=False) == 0  # a NetEase name
    assert PromptWords.parse("超棒的日系组合｜夜鹿 YOASOBI 真夜中").match("yoasobi", genre=False) == 1
    # scripts without spaces: the label inside the prompt, a negator just before it rules it out
    q = PromptWords.parse("不要摇滚，来点安静的民谣")
    assert q.match("民谣", genre=True) == 1 and q.match("摇滚", genre=True) == -1 and q.match("爵士", genre=True) == 0
    assert PromptWords.parse("更多林夕雨").match("林夕雨", genre=False) == 1
    # words of wanting or playing may stand between the negator and the label; other words end it
    assert PromptWords.parse("不要听民谣").match("民谣", genre=True) == -1
    assert PromptWords.parse("别放摇滚").match("摇滚", genre=True) == -1
    assert PromptWords.parse("百听不厌的民谣").match("民谣", genre=True) == 1


def test_a_one_character_cjk_name_matches_only_a_prompt_that_is_little_more_than_it():
    # in NetEase playlist names every such match by containment was a piece of another word
    for prompt in ("花", "更多花的歌", "来点花"):
        assert PromptWords.parse(prompt).match("花", genre=False) == 1, prompt
    for prompt in ("花开于彼岸", "神仙嗓音天花板", "物哀纯音丨花开于彼岸"):
        assert PromptWords.parse(prompt).match("花", genre=False) == 0, prompt
    assert PromptWords.parse("不要听花的歌").match("花", genre=False) == -1
    assert PromptWords.parse("神仙嗓音天花板：周深").match("周深", genre=False) == 1  # two characters: inside


def test_cjk_negated_takes_a_negator_and_words_of_wanting_only():
    for before in ("不要", "不想听", "没有", "非", "不太喜欢", "别放", "不要听"):
        assert cjk_negated(before), before
    for before in ("", "百听不厌的", "安静的", "不说再见的", "来点"):
        assert not cjk_negated(before), before


def test_label_matches_rule_out_wins():
    labels = index_labels([{"rock"}, {"metal", "rock"}, {"jazz"}, set()])
    rows, values = label_matches(PromptWords.parse("rock, no metal"), labels, 4, genre=True)
    assert dict(zip(rows.tolist(), values.tolist(), strict=True)) == {0: 1.0, 1: -1.0}
    rows, values = label_matches(PromptWords.parse(""), labels, 4, genre=True)
    assert len(rows) == 0 and len(values) == 0
    assert index_labels([{"a"}, {"a", "b"}])["a"].tolist() == [0, 1]
    assert np.asarray(label_matches(PromptWords.parse("jazz"), labels, 4, genre=True)[0]).tolist() == [2]
