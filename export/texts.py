"""The fixed parity/golden texts: English and Chinese, short tag lines, free-text queries and lyric-like passages
(up to ~256 tokens). Original text written for this project; no third-party lyrics."""

from __future__ import annotations

_EN_LYRIC_LONG = (
    "The streetlights hum a song I used to know, and every window on this road is dark. "
    "I kept your letters in a shoebox by the door, I read them when the rain comes down too hard. "
    "We said forever on a Tuesday in July, we said it like the summer wouldn't end. "
    "Now the radio plays the same old melody, and I pretend I'm only missing a friend. "
    "So hold on, hold on to the last of the light, the trains are leaving and the platform is cold. "
    "I'll be a stranger in the city tonight, carrying a heart that's too heavy to hold. "
    "Maybe someday you will walk along this street, and hear the echo of the promises we made. "
    "Maybe someday I will learn to let you go, but tonight I'm still waiting in the shade. "
    "Oh the river keeps on running to the sea, and the seasons turn without a second thought, "
    "and I'm singing to the ceiling of a room that remembers every battle that we fought."
)

_ZH_LYRIC_LONG = (
    "雨夜的信写到第三页，窗外的街灯一盏一盏熄灭。"
    "我把想说的话折成纸船，放进那条你走过的小河边。"
    "你说过春天会回来，你说过不要哭，可是风吹过空荡荡的站台，我还是一个人等到天亮。"
    "旧唱片转了一遍又一遍，那首歌唱的都是从前。"
    "我们曾在屋顶数星星，我们曾在海边听潮汐，后来城市太大，人海太挤，我把你弄丢在人群里。"
    "如果有一天你路过这里，请替我看看那棵老槐树，它记得我们十七岁的夏天，记得所有没说出口的心事。"
    "不说再见，是因为还想见；不说想念，是因为太想念。"
    "月亮照着回家的路，照不亮我心里的角落。"
    "我学会了一个人吃饭，一个人旅行，一个人在深夜里听雨，却学不会忘记你的名字。"
)

# (kind, text): kind selects the e5 prefix ("query" or "passage"); models without prefixes ignore it.
PARITY_TEXTS: list[tuple[str, str]] = [
    ("query", "a sad love song"),
    ("query", "伤心的情歌"),
    ("query", "upbeat dance music for a party"),
    ("query", "适合下雨天听的安静钢琴曲"),
    ("passage", "Title: Rain on Glass | Artist: Mira Vale | Album: Slow Weather | Genre: Ambient folk | Year: 2019"),
    ("passage", "Title: 月亮 | Artist: 林夕雨 | Album: 夜 | Genre: Mandopop ballad | Year: 2012"),
    ("passage", "Title: Strobe Heart | Artist: Neon Tide | Genre: Synthwave, dance | Tags: energetic, club, 128 bpm"),
    ("passage", "Title: 霓虹心跳 | Artist: 周晴 | Album: 霓虹心跳 | Genre: 电子舞曲 | Tags: 派对, 快节奏"),
    ("passage", "jazz, late night, smoky bar, upright bass, brushed drums"),
    ("passage", "民谣, 吉他, 乡愁, 南方, 慢"),
    ("passage", "I miss you more than words can say, the nights are long since you went away"),
    ("passage", "我一个人走在回家的路上，想起你的笑，眼泪就掉了下来"),
    ("passage", "Hands up! Feel the bass drop, we dance until the sun comes up, the party never stops"),
    ("passage", "Café au lait, Straße, naïve résumé — mixed-script tags: K-pop ❤ 🎵 (live) [remaster]"),
    ("passage", _EN_LYRIC_LONG),
    ("passage", _ZH_LYRIC_LONG),
]

# Cross-lingual sanity check used by the export summary and the tests: the query should rank the first
# passage above the second.
CROSS_LINGUAL = ("伤心的情歌", "a sad love song", "upbeat dance music")
