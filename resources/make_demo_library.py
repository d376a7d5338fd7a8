#!/usr/bin/env python3
"""Build the built-in demo music library (``resources/demo_library/``).

Everything in the demo library is original and owned by this project: the audio is
synthesised here with numpy (per-genre sketches of a minute or so: melody, chords, bass
and drum-ish noise bursts), the lyrics are written for the project, and the metadata is
fictional. The result is licensed with the project (MIT).

Pipeline per track: numpy -> 16-bit mono WAV in a temp dir -> ffmpeg encode (bit-exact
flags, no ffmpeg metadata) -> tags, lyrics and cover art written with mutagen -> optional
``.lrc`` / ``.txt`` lyric sidecar next to the track.

Usage::

    python resources/make_demo_library.py [--out DIR]

The output is deterministic (fixed seeds, bit-exact encoders): running it twice with the
same ffmpeg build gives byte-identical files. Requires ``ffmpeg`` (with libmp3lame,
libvorbis, libopus and the native aac/flac encoders), ``numpy`` and ``mutagen``.
"""

from __future__ import annotations

import argparse
import base64
import codecs
import hashlib
import math
import shutil
import struct
import subprocess
import sys
import tempfile
import uuid
import wave
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from mutagen.flac import FLAC, Picture
from mutagen.id3 import (
    APIC,
    COMM,
    ID3,
    TALB,
    TBPM,
    TCOM,
    TCON,
    TDRC,
    TIT2,
    TLAN,
    TMOO,
    TPE1,
    TPE2,
    TPOS,
    TRCK,
    TXXX,
    UFID,
    USLT,
)
from mutagen.mp4 import MP4, MP4Cover, MP4FreeForm
from mutagen.oggopus import OggOpus
from mutagen.oggvorbis import OggVorbis

DEFAULT_OUT = Path(__file__).resolve().parent / "demo_library"
MB_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://github.com/player-plugin/demo-library")
COMMENT = "player_plugin demo library - synthesised audio, original lyrics (MIT)"

# Sample rate, ffmpeg codec arguments and file extension per output format. Low rates and bitrates:
# every track runs a minute or more (long enough to use the app for a while) and the whole library
# stays around 6 MB in git.
FORMATS: dict[str, tuple[int, list[str], str]] = {
    "mp3": (16000, ["-c:a", "libmp3lame", "-b:a", "24k", "-id3v2_version", "0", "-write_id3v1", "0"], ".mp3"),
    "flac": (8000, ["-c:a", "flac", "-compression_level", "12", "-sample_fmt", "s16"], ".flac"),
    "ogg": (16000, ["-c:a", "libvorbis", "-q:a", "0"], ".ogg"),
    "opus": (24000, ["-c:a", "libopus", "-b:a", "12k", "-vbr", "off"], ".opus"),
    "m4a": (16000, ["-c:a", "aac", "-b:a", "16k"], ".m4a"),
}
# Lossless FLAC cannot drop detail the way the lossy codecs do: its samples keep this many bits
# (the low ones are zero, which FLAC stores for free), so a minute of FLAC is ~380 KB instead of 700.
FLAC_BITS = 10
MIN_DURATION_S = 60.0  # every demo track lasts between these two (seconds)
MAX_DURATION_S = 68.0

# --------------------------------------------------------------------------------------
# Lyrics (original, written for this project)
# --------------------------------------------------------------------------------------

LYRICS: dict[str, str] = {
    "雨夜的信": """窗外的雨下了一整夜
我把想说的话写成了信
信纸湿了 字也模糊了
像我们没说完的那句再见
路灯下你的背影越走越远
我还站在当初约好的街边
如果雨停了 你会不会回来
还是只剩我 和这封没寄出的信""",
    "旧街灯": """旧街灯还亮着昏黄的光
照着我们曾经走过的小巷
你说过冬天要一起看雪
如今只剩我一个人数着月亮
风吹散了那年的约定
我却还记得你笑的模样""",
    "不说再见": """不说再见 是怕真的不见
把眼泪藏在转身的那一瞬间
你的名字 我轻轻念了一遍
就当作是 最后的纪念
时间会带走所有的不甘
却带不走 那年夏天""",
    "你我之间": """（女）你我之间 隔着一场雨
（男）我在这边 等你的消息
（女）城市很大 灯火很密
（男）却找不到 一个靠近你的距离
（合）如果可以 让时间停在这里
（合）你我之间 不再有距离""",
    "半城烟火": """半城烟火 半城寂寞
你在人海里 回头看我
烟花落下的时候
我才明白 有些爱不能说
这城市那么热闹
为什么我的心 这么冷落""",
    "南方以南": """我要去南方以南的地方
那里的风会带着海的味道
背上一把旧吉他
走过一座座没有名字的小桥
如果你问我为什么流浪
我说我只是想找一个不用说谎的地方""",
    "火车慢": """綠皮火車慢慢地開
窗外的稻田一片一片
媽媽的叮嚀還在耳邊
我卻已經走了好遠好遠
車票上寫著回家的日期
可我還沒想好怎麼說再見""",
    "外婆的院子": """外婆的院子裡有一棵老樹
夏天的午後蟬聲不停
她搖著蒲扇講著從前
我靠在她身邊慢慢睡去
如今院子空了 樹還在
風一吹 好像她還在叫我的名字""",
    "城市在下沉": """霓虹在水里碎成一片
高楼像船慢慢搁浅
我们在地铁里沉默
每个人都抱着自己的夜
城市在下沉 城市在下沉
而我终于学会了游泳""",
    "Paper Satellites": """We folded our wishes into paper satellites
Threw them off the roof on a Friday night
You said the sky was only a ceiling
I said a ceiling is something you can fight
Static on the radio, your hand in mine
Paper satellites, keep us in orbit tonight""",
    "Kids on the Overpass": """We were kids on the overpass
Counting headlights as they passed
Every car was somewhere better
Every song was built to last
Now I drive beneath that bridge
And I swear I see us there
Two kids on the overpass
With the wind inside our hair""",
    "Static Summer": """Sunburnt shoulders, cheap guitar
Singing louder than we are
The summer hums like static
And we never tuned it out
Lemonade and broken strings
Nothing's wrong and everything's
Ringing like a static summer
That we never want to end""",
    "Midnight Transit": """Midnight transit, lights go by
Every station, a brand new high
Move your body, don't ask why
We're on the midnight transit tonight
Doors are open, step inside
Feel the bassline, feel the ride""",
    "Strobe Heart": """My heart's a strobe, on and off
Every time you look at me
Turn it up, I can't get enough
Flashing colours, set me free
Strobe heart, strobe heart
Beating faster in the dark""",
    "Rain on Glass": """Rain on glass
Slow and soft
The city hums
Somewhere far off
I leave the lamp on
For the night to pass""",
    "Smoke and Velvet": """Smoke and velvet, two a.m.
The piano's talking to the rain again
You left your glass half full of gin
And a melody I can't begin
Play it slow, play it low
Play the one that lets me go""",
    "Concrete Gardens": """Grew up where the flowers break through concrete
Every crack in the sidewalk got a heartbeat
Mama working doubles so the lights stay on
I was writing my verses from dusk until dawn
Concrete gardens, that's where we grow
Reaching for the sun from the block below""",
    "Night Bus Freestyle": """Night bus rolling through the neon and the rain
Headphones on, I'm running verses through my brain
夜班车 穿过这座不睡的城
窗上的雾 写着我们的名字
Every stop is a chapter, every face is a line
城市的灯 是我唯一的观众""",
    "下雨天的咖啡馆": """下雨天的咖啡馆
玻璃上有一条条的水痕
我点了一杯热拿铁
看着街上的人慢慢走过
耳机里放着老唱片
时间在这里变得很轻""",
    "Cathedral of Ash": """From the cinders we arise
Iron crowns and burning skies
In the cathedral of ash
All the kings are turned to dust
Hear the bells of ruin toll
Forged in fire, forged in soul""",
    "Ninefold Iron": """Ninefold iron, ninefold chain
Hammer falls like winter rain
Through the furnace, through the flame
We will never bend again""",
    "霓虹心跳": """霓虹灯下 心跳加速
音乐响起 一起跳舞
不管明天 会有多忙
今晚只想 为你疯狂
霓虹心跳 砰砰砰
跟着节拍 不要停""",
    "周末不回家": """周末不回家 和朋友去海边
手机关机 世界暂停一天
阳光很刺眼 心情很晴天
把烦恼都丢进 浪花里面
周末不回家 快乐不用理由""",
}

# --------------------------------------------------------------------------------------
# Library description (fictional artists, albums and tracks)
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Track:
    number: int
    title: str
    lyrics: str | None = None  # where the lyrics live: see LYRIC_SOURCES
    lang: str | None = None  # ISO 639-2 code of the lyrics
    artists: tuple[str, ...] = ()  # overrides the album artist
    genres: tuple[str, ...] = ()  # overrides the album genres
    disc: int = 1
    mood: str | None = None


LYRIC_SOURCES = {
    "embedded": "embedded",
    "lrc-utf8": ".lrc sidecar, UTF-8",
    "lrc-utf8-bom": ".lrc sidecar, UTF-8 with BOM",
    "lrc-gbk": ".lrc sidecar, GBK, CRLF",
    "lrc-utf16": ".lrc sidecar, UTF-16 LE with BOM, CRLF",
    "txt": ".txt sidecar (plain text), UTF-8",
}


@dataclass(frozen=True)
class Album:
    artist: str
    title: str
    year: int
    genres: tuple[str, ...]
    style: str
    fmt: str
    tracks: tuple[Track, ...]
    track_total: int
    disc_total: int = 1
    id3: int = 4  # ID3v2 minor version for MP3 albums
    cover: tuple[int, int, int] | None = None  # embed cover art in the first track
    musicbrainz: bool = False
    composer: str | None = None


ALBUMS: tuple[Album, ...] = (
    Album(
        "林夕雨",
        "雨夜的信",
        2008,
        ("Mandopop", "Ballad"),
        "ballad",
        "mp3",
        (
            Track(1, "雨夜的信", "embedded", "zho", mood="Sad"),
            Track(2, "旧街灯", "lrc-gbk", "zho", mood="Nostalgic"),
            Track(3, "不说再见", "lrc-utf8", "zho", mood="Sad"),
            Track(4, "你我之间", "embedded", "zho", artists=("林夕雨", "陈默"), mood="Romantic"),
        ),
        track_total=10,
        cover=(70, 90, 140),
        musicbrainz=True,
    ),
    Album(
        "林夕雨",
        "半城烟火",
        2016,
        ("Mandopop",),
        "ballad",
        "m4a",
        (Track(1, "半城烟火", "embedded", "zho", mood="Melancholy"),),
        track_total=11,
        cover=(200, 90, 60),
    ),
    Album(
        "陈默",
        "南方以南",
        2012,
        ("Folk",),
        "folk",
        "flac",
        (
            Track(1, "南方以南", "embedded", "zho", mood="Wistful"),
            Track(2, "火车慢", "lrc-utf16", "zho", mood="Nostalgic"),
            Track(3, "外婆的院子", "txt", "zho", mood="Tender"),
        ),
        track_total=9,
        cover=(180, 150, 90),
        musicbrainz=True,
    ),
    Album(
        "小河乐队",
        "河床",
        2019,
        ("Post-rock",),
        "postrock",
        "ogg",
        (
            Track(1, "涨潮之前", mood="Brooding"),
            Track(2, "城市在下沉", "embedded", "zho", genres=("Indie Rock", "Post-rock"), mood="Restless"),
            Track(3, "回声", mood="Epic"),
        ),
        track_total=7,
        cover=(40, 110, 120),
        musicbrainz=True,
    ),
    Album(
        "Harbor Lights",
        "Paper Satellites",
        2011,
        ("Indie Rock",),
        "indie",
        "mp3",
        (
            Track(1, "Paper Satellites", "embedded", "eng", mood="Hopeful"),
            Track(2, "Kids on the Overpass", "lrc-utf8-bom", "eng", mood="Nostalgic"),
            Track(3, "Static Summer", "embedded", "eng", mood="Carefree"),
        ),
        track_total=12,
        id3=3,
        cover=(230, 180, 60),
    ),
    Album(
        "Neon Tide",
        "Midnight Transit",
        2021,
        ("Electronic", "House"),
        "house",
        "m4a",
        (
            Track(1, "Midnight Transit", "embedded", "eng", mood="Energetic"),
            Track(2, "Strobe Heart", "embedded", "eng", mood="Euphoric"),
        ),
        track_total=8,
        cover=(150, 40, 200),
        musicbrainz=True,
    ),
    Album(
        "Mira Vale",
        "Slow Weather",
        2004,
        ("Ambient",),
        "ambient",
        "ogg",
        (
            Track(1, "Fog Over the Harbour", mood="Calm"),
            Track(2, "Rain on Glass", "lrc-utf8", "eng", mood="Rainy night"),
        ),
        track_total=6,
    ),
    Album(
        "The Blue Hour Trio",
        "After Hours at the Lantern",
        1998,
        ("Jazz",),
        "jazz",
        "mp3",
        (
            Track(1, "Lantern Blues", mood="Smoky"),
            Track(2, "Smoke and Velvet", "embedded", "eng", mood="Late night"),
        ),
        track_total=9,
        id3=3,
    ),
    Album(
        "Elena Voss",
        "Nocturnes for Empty Rooms",
        1995,
        ("Classical",),
        "classical",
        "ogg",
        (
            Track(1, "Nocturne in E Minor", mood="Reflective"),
            Track(4, "Étude for the Last Train", disc=2, mood="Restless"),
        ),
        track_total=6,
        disc_total=2,
        composer="Elena Voss",
    ),
    Album(
        "Lowkey Atlas",
        "Concrete Gardens",
        2018,
        ("Hip-Hop",),
        "hiphop",
        "mp3",
        (
            Track(1, "Concrete Gardens", "embedded", "eng", mood="Determined"),
            Track(2, "Night Bus Freestyle", "lrc-utf8", "eng", artists=("Lowkey Atlas", "周晴"), mood="Nocturnal"),
        ),
        track_total=14,
        cover=(90, 90, 90),
    ),
    Album(
        "sleepyhead fm",
        "Tape Hiss Diaries",
        2024,
        ("Lo-fi",),
        "lofi",
        "opus",
        (
            Track(1, "Sunday Laundry", mood="Chill"),
            Track(2, "下雨天的咖啡馆", "embedded", "zho", mood="Rainy day"),
        ),
        track_total=10,
    ),
    Album(
        "Iron Sermon",
        "Cathedral of Ash",
        2001,
        ("Metal",),
        "metal",
        "mp3",
        (
            Track(1, "Cathedral of Ash", "embedded", "eng", mood="Aggressive"),
            Track(2, "Ninefold Iron", "embedded", "eng", mood="Aggressive"),
        ),
        track_total=8,
        id3=3,
    ),
    Album(
        "古月",
        "山水清音",
        2006,
        ("Chinese Traditional",),
        "guzheng",
        "m4a",
        (
            Track(1, "竹影", mood="Serene"),
            Track(2, "渔舟夜归", mood="Peaceful"),
        ),
        track_total=8,
        cover=(60, 130, 80),
    ),
    Album(
        "周晴",
        "霓虹心跳",
        2020,
        ("C-pop", "Dance"),
        "cpop",
        "mp3",
        (
            Track(1, "霓虹心跳", "embedded", "zho", mood="Upbeat"),
            Track(2, "周末不回家", "lrc-utf8-bom", "zho", mood="Happy"),
        ),
        track_total=10,
        cover=(240, 70, 150),
    ),
)

# --------------------------------------------------------------------------------------
# Synthesis
# --------------------------------------------------------------------------------------

MAJOR = (0, 2, 4, 5, 7, 9, 11)
MINOR = (0, 2, 3, 5, 7, 8, 10)
DORIAN = (0, 2, 3, 5, 7, 9, 10)
LYDIAN = (0, 2, 4, 6, 7, 9, 11)
PHRYGIAN = (0, 1, 3, 5, 7, 8, 10)
HARM_MINOR = (0, 2, 3, 5, 7, 8, 11)
PENTA_MAJOR = (0, 2, 4, 7, 9)
PENTA_MINOR = (0, 3, 5, 7, 10)


@dataclass(frozen=True)
class Style:
    bpm: float
    root: int  # MIDI note of the tonic
    scale: tuple[int, ...]
    lead: str | None  # timbre of the melody
    pad: str | None  # timbre of the chords
    bass: str | None  # bass pattern
    drums: str | None  # drum pattern
    progressions: tuple[tuple[int, ...], ...]
    chord_beats: int = 4
    melody_steps: tuple[int, ...] = (2, 4)  # note lengths in 16th steps
    arp: str | None = None  # timbre of an arpeggio over the chords
    arp_steps: int = 2
    sevenths: bool = False
    swing: float = 0.0
    reverb: float = 0.2
    lowpass: float | None = None
    crackle: float = 0.0
    drive: float = 0.0
    lead_octave: int = 12
    levels: tuple[float, float, float, float, float] = (0.5, 0.3, 0.4, 0.5, 0.35)  # lead pad bass drums arp


STYLES: dict[str, Style] = {
    "ballad": Style(
        68,
        57,
        MAJOR,
        "voice",
        "strings",
        "whole",
        "soft",
        ((0, 5, 3, 4), (0, 4, 5, 3)),
        chord_beats=2,
        melody_steps=(2, 4, 6),
        arp="piano",
        arp_steps=2,
        reverb=0.35,
    ),
    "folk": Style(
        100,
        55,
        MAJOR,
        "voice",
        None,
        "whole",
        None,
        ((0, 3, 4, 0), (0, 5, 3, 4)),
        chord_beats=2,
        arp="pluck",
        arp_steps=2,
        reverb=0.18,
        levels=(0.35, 0, 0.3, 0, 0.55),
    ),
    "postrock": Style(
        84,
        52,
        MINOR,
        "pluck",
        "strings",
        "whole",
        "toms",
        ((0, 5, 2, 6), (0, 3, 5, 4)),
        chord_beats=4,
        melody_steps=(1,),
        reverb=0.55,
        levels=(0.35, 0.45, 0.3, 0.35, 0),
    ),
    "indie": Style(
        134,
        59,
        MAJOR,
        "saw",
        "drive",
        "eighths",
        "rock",
        ((0, 4, 5, 3), (0, 3, 0, 4)),
        chord_beats=2,
        melody_steps=(2, 2, 4),
        drive=0.6,
        lowpass=5000,
        reverb=0.12,
    ),
    "house": Style(
        124,
        53,
        DORIAN,
        "square",
        "stab",
        "offbeat",
        "four",
        ((0, 3, 6, 4), (0, 5, 3, 4)),
        chord_beats=4,
        melody_steps=(1, 2, 2, 3),
        sevenths=True,
        reverb=0.12,
        lead_octave=24,
    ),
    "ambient": Style(
        52,
        62,
        LYDIAN,
        "bell",
        "pad",
        "whole",
        None,
        ((0, 1, 4, 0), (0, 3, 1, 0)),
        chord_beats=4,
        melody_steps=(4, 6, 8),
        reverb=0.8,
        lowpass=3500,
        levels=(0.3, 0.6, 0.2, 0, 0),
        lead_octave=24,
    ),
    "jazz": Style(
        112,
        50,
        DORIAN,
        "sax",
        "rhodes",
        "walking",
        "ride",
        ((1, 4, 0, 0), (0, 3, 1, 4)),
        chord_beats=4,
        melody_steps=(2, 2, 3, 4),
        sevenths=True,
        swing=0.33,
        reverb=0.25,
        lowpass=6000,
    ),
    "classical": Style(
        76,
        52,
        HARM_MINOR,
        "piano",
        None,
        None,
        None,
        ((0, 3, 4, 0), (0, 5, 1, 4)),
        chord_beats=2,
        melody_steps=(2, 4, 6),
        arp="piano",
        arp_steps=1,
        reverb=0.4,
        levels=(0.55, 0, 0, 0, 0.35),
        lead_octave=24,
    ),
    "hiphop": Style(
        88,
        51,
        PENTA_MINOR,
        "rhodes",
        "rhodes",
        "808",
        "boombap",
        ((0, 0, 3, 2), (0, 2, 3, 1)),
        chord_beats=4,
        melody_steps=(2, 3, 4),
        swing=0.2,
        reverb=0.15,
        lowpass=7000,
    ),
    "lofi": Style(
        76,
        55,
        MAJOR,
        "rhodes",
        "rhodes",
        "whole",
        "lofi",
        ((3, 2, 1, 0), (0, 5, 1, 4)),
        chord_beats=4,
        melody_steps=(3, 4, 6),
        sevenths=True,
        swing=0.25,
        reverb=0.3,
        lowpass=2800,
        crackle=0.05,
        lead_octave=12,
    ),
    "metal": Style(
        176,
        40,
        PHRYGIAN,
        "dist",
        "dist",
        "chug",
        "metal",
        ((0, 1, 0, 5), (0, 6, 5, 1)),
        chord_beats=4,
        melody_steps=(1, 2),
        drive=3.0,
        lowpass=4500,
        reverb=0.1,
        levels=(0.35, 0.5, 0.4, 0.55, 0),
        lead_octave=24,
    ),
    "guzheng": Style(
        72,
        62,
        PENTA_MAJOR,
        "zheng",
        None,
        None,
        None,
        ((0, 3, 4, 0), (0, 2, 3, 1)),
        chord_beats=4,
        melody_steps=(1, 2, 2, 4),
        arp="zheng",
        arp_steps=1,
        reverb=0.35,
        levels=(0.55, 0, 0, 0, 0.3),
        lead_octave=12,
    ),
    "cpop": Style(
        120,
        61,
        MAJOR,
        "voice",
        "saw",
        "offbeat",
        "four",
        ((0, 4, 5, 3), (5, 3, 0, 4)),
        chord_beats=4,
        melody_steps=(1, 2, 2, 3),
        reverb=0.18,
        lowpass=7000,
    ),
}

# Harmonic recipes: list of (partial ratio, amplitude, decay per second)
TIMBRES: dict[str, tuple[tuple[float, float, float], ...]] = {
    "sine": ((1, 1, 0),),
    "voice": ((1, 1, 0.3), (2, 0.45, 0.6), (3, 0.2, 0.9), (4, 0.08, 1.2)),
    "square": tuple((k, 1 / k, 1.5) for k in (1, 3, 5, 7, 9, 11)),
    "saw": tuple((k, 1 / k, 0.8) for k in range(1, 11)),
    "drive": tuple((k, 1 / k, 0.5) for k in range(1, 9)),
    "dist": tuple((k, 1 / k, 0.2) for k in range(1, 9)),
    "stab": tuple((k, 1 / k, 6 + k) for k in range(1, 9)),
    "strings": tuple((k, 0.9 / k, 0.2) for k in range(1, 8)),
    "pad": ((1, 1, 0.1), (2, 0.3, 0.2), (3, 0.12, 0.3)),
    "pluck": tuple((k, 1 / k, 2.0 + 1.6 * k) for k in range(1, 9)),
    "zheng": tuple((k, 1.2 / k, 1.2 + 0.9 * k) for k in range(1, 11)),
    "piano": tuple((k * math.sqrt(1 + 0.0004 * k * k), 0.8 ** (k - 1) / k**0.3, 1.2 + 0.7 * k) for k in range(1, 8)),
    "bell": ((1, 1, 0.8), (2.76, 0.5, 1.6), (5.40, 0.25, 2.6), (8.93, 0.12, 4.0)),
    "rhodes": ((1, 1, 1.0), (2, 0.25, 2.5), (3, 0.08, 4.0), (7.0, 0.03, 9.0)),
    "sax": ((1, 1, 0.2), (2, 0.8, 0.2), (3, 0.55, 0.3), (4, 0.35, 0.4), (5, 0.2, 0.5), (6, 0.1, 0.6)),
    "upright": ((1, 1, 2.5), (2, 0.5, 4.0), (3, 0.2, 6.0)),
    "sub": ((1, 1, 0.8), (2, 0.1, 2.0)),
}
SUSTAINED = {"voice", "square", "saw", "drive", "dist", "strings", "pad", "sax", "sub"}
ATTACK = {"voice": 0.05, "strings": 0.25, "pad": 0.6, "sax": 0.04, "saw": 0.01}


def midi_hz(note: float) -> float:
    return 440.0 * 2.0 ** ((note - 69) / 12)


def tone(
    note: float, dur: float, sr: int, timbre: str, vel: float = 1.0, glide: float = 0.0, vibrato: float = 0.0
) -> np.ndarray:
    """One note: additive partials with per-partial decay, optional glide (semitones) and vibrato."""
    n = max(int(dur * sr), 16)
    t = np.arange(n) / sr
    semis = np.full(n, float(note))
    if glide:
        semis += glide * np.exp(-t / 0.06)
    if vibrato:
        semis += vibrato * np.sin(2 * np.pi * 5.2 * t) * np.clip(t / 0.3, 0, 1)
    freq = 440.0 * 2.0 ** ((semis - 69) / 12)
    phase = 2 * np.pi * np.cumsum(freq) / sr
    out = np.zeros(n)
    base = midi_hz(note)
    for ratio, amp, decay in TIMBRES[timbre]:
        if base * ratio >= sr / 2 * 0.9:
            continue
        out += amp * np.sin(ratio * phase) * np.exp(-decay * t)
    attack = ATTACK.get(timbre, 0.004)
    env = np.clip(t / attack, 0, 1)
    release = min(0.05 if timbre in SUSTAINED else 0.02, dur / 3)
    env *= np.clip((dur - t) / release, 0, 1)
    if timbre == "rhodes":
        env *= 1 + 0.25 * np.sin(2 * np.pi * 4.5 * t)
    return out * env * vel


def lowpass(x: np.ndarray, sr: int, cutoff: float, order: int = 4) -> np.ndarray:
    spec = np.fft.rfft(x)
    f = np.fft.rfftfreq(len(x), 1 / sr)
    spec /= np.sqrt(1 + (f / cutoff) ** (2 * order))
    return np.fft.irfft(spec, len(x))


def highpass(x: np.ndarray, sr: int, cutoff: float) -> np.ndarray:
    spec = np.fft.rfft(x)
    f = np.fft.rfftfreq(len(x), 1 / sr)
    spec *= 1 - 1 / np.sqrt(1 + (f / cutoff) ** 4)
    return np.fft.irfft(spec, len(x))


def drum(kind: str, sr: int, rng: np.random.Generator) -> np.ndarray:
    """Drum-ish one-shots: pitch-swept sines and shaped noise bursts."""
    if kind in ("kick", "kick808", "tom"):
        dur, f0, f1, decay = {"kick": (0.3, 130, 45, 14), "kick808": (0.7, 90, 42, 4), "tom": (0.5, 160, 95, 7)}[kind]
        t = np.arange(int(dur * sr)) / sr
        freq = f1 + (f0 - f1) * np.exp(-t / 0.04)
        body = np.sin(2 * np.pi * np.cumsum(freq) / sr) * np.exp(-decay * t)
        click = rng.standard_normal(len(t)) * np.exp(-t * 300) * 0.3
        return body + click
    if kind in ("snare", "clap", "rim"):
        dur = {"snare": 0.25, "clap": 0.2, "rim": 0.08}[kind]
        t = np.arange(int(dur * sr)) / sr
        noise = highpass(rng.standard_normal(len(t)), sr, 1200 if kind != "rim" else 2500)
        env = np.exp(-t * (18 if kind == "snare" else 30 if kind == "clap" else 60))
        if kind == "clap":
            env *= 1 + 0.8 * (np.sin(2 * np.pi * 90 * t) > 0) * (t < 0.03)
        tonal = np.sin(2 * np.pi * (190 if kind == "snare" else 800) * t) * np.exp(-t * 35) * 0.5
        return (noise * 0.6 + tonal) * env
    if kind in ("hat", "openhat", "ride", "crash", "shaker"):
        dur, decay, cut = {
            "hat": (0.06, 90, 7000),
            "openhat": (0.25, 14, 7000),
            "ride": (0.5, 7, 5000),
            "crash": (1.0, 3.5, 4000),
            "shaker": (0.08, 50, 5000),
        }[kind]
        cut = min(cut, sr * 0.35)
        t = np.arange(int(dur * sr)) / sr
        noise = highpass(rng.standard_normal(len(t)), sr, cut)
        out = noise * np.exp(-decay * t)
        if kind == "ride":
            out += 0.15 * np.sin(2 * np.pi * 3100 * t) * np.exp(-4 * t)
        return out * 0.5
    raise ValueError(kind)


# 16-step patterns: instrument -> {step: velocity}
EIGHTHS = range(0, 16, 2)
DRUM_PATTERNS: dict[str, dict[str, dict[int, float]]] = {
    "four": {
        "kick": {0: 1, 4: 1, 8: 1, 12: 1},
        "clap": {4: 0.8, 12: 0.8},
        "openhat": {2: 0.5, 6: 0.5, 10: 0.5, 14: 0.5},
        "hat": {s: 0.25 for s in range(1, 16, 2)},
    },
    "rock": {"kick": {0: 1, 8: 1, 10: 0.8}, "snare": {4: 1, 12: 1}, "hat": dict.fromkeys(EIGHTHS, 0.45)},
    "soft": {"kick": {0: 0.7, 10: 0.5}, "rim": {4: 0.5, 12: 0.5}, "shaker": dict.fromkeys(EIGHTHS, 0.2)},
    "boombap": {"kick": {0: 1, 7: 0.7, 10: 0.9}, "snare": {4: 1, 12: 1}, "hat": dict.fromkeys(EIGHTHS, 0.35)},
    "lofi": {"kick": {0: 0.8, 10: 0.7}, "rim": {4: 0.6, 12: 0.6}, "hat": dict.fromkeys(EIGHTHS, 0.2)},
    "metal": {"kick": {s: 0.8 for s in range(16)}, "snare": {4: 1, 12: 1}, "crash": {0: 0.6}},
    "ride": {"ride": {0: 0.5, 4: 0.5, 6: 0.35, 8: 0.5, 12: 0.5, 14: 0.35}, "hat": {4: 0.3, 12: 0.3}, "kick": {0: 0.35}},
    "toms": {"tom": {0: 0.9, 6: 0.6, 8: 0.8, 14: 0.6}, "ride": {0: 0.2, 8: 0.2}},
}


def degree_note(style: Style, root: int, degree: int) -> int:
    n = len(style.scale)
    return root + 12 * (degree // n) + style.scale[degree % n]


def chord_notes(style: Style, root: int, degree: int) -> list[int]:
    steps = (0, 2, 4, 6) if style.sevenths else (0, 2, 4)
    if len(style.scale) == 5:  # pentatonic: stacked scale steps sound fine
        steps = (0, 2, 3) if not style.sevenths else (0, 1, 2, 3)
    return [degree_note(style, root, degree + s) for s in steps]


def add(buf: np.ndarray, sig: np.ndarray, start: float, sr: int) -> None:
    i = int(round(start * sr))
    if i >= len(buf):
        return
    j = min(len(buf), i + len(sig))
    buf[i:j] += sig[: j - i]


def synthesize(style_name: str, seed: int, duration: float, sr: int) -> np.ndarray:
    """Render a deterministic sketch in the given style. Returns float samples in [-1, 1]."""
    style = STYLES[style_name]
    rng = np.random.default_rng(seed)
    root = style.root + int(rng.integers(-3, 4))
    bpm = style.bpm * float(rng.uniform(0.95, 1.05))
    beat = 60.0 / bpm
    step = beat / 4
    n = int(duration * sr)
    tail = int(1.0 * sr)
    lead, pad, bass, drums, arp = (np.zeros(n + tail) for _ in range(5))
    prog = style.progressions[int(rng.integers(len(style.progressions)))]
    prog = prog[int(rng.integers(len(prog))) :] + prog  # start somewhere in the progression
    chord_len = style.chord_beats * beat
    n_chords = int(math.ceil(duration / chord_len)) + 1
    chords = [prog[i % len(prog)] for i in range(n_chords)]

    def swing_time(s: int) -> float:
        t = s * step
        if style.swing and s % 4 == 2:
            t += style.swing * step
        return t

    # chords, bass and arpeggio
    for ci, deg in enumerate(chords):
        t0 = ci * chord_len
        notes = chord_notes(style, root, deg)
        if style.pad:
            pad_notes = notes if style.pad != "dist" else [notes[0], notes[0] + 7]
            hits = [(t0, chord_len)]
            if style.pad == "stab":
                hits = [(t0 + b * beat + beat / 2, beat / 4) for b in range(style.chord_beats)]
            elif style.pad == "drive":
                hits = [(t0 + k * beat / 2, beat / 2) for k in range(style.chord_beats * 2)]
            elif style.pad == "dist":
                hits = [(t0 + k * step, step * 0.9) for k in range(style.chord_beats * 4)]
            for ht, hl in hits:
                for note in pad_notes:
                    sig = tone(note, hl, sr, style.pad, 0.5)
                    if style.pad in ("strings", "pad"):
                        sig = sig + tone(note + 0.08, hl, sr, style.pad, 0.4)
                    add(pad, sig, ht, sr)
        if style.bass:
            broot = notes[0] - 12 if notes[0] - 12 >= 33 else notes[0]
            while broot >= 48:
                broot -= 12
            if style.bass == "whole":
                timbre = "upright" if style_name == "folk" else "sub"
                add(bass, tone(broot, chord_len, sr, timbre, 0.9), t0, sr)
            elif style.bass == "eighths":
                for k in range(style.chord_beats * 2):
                    add(bass, tone(broot, beat / 2 * 0.9, sr, "saw", 0.6), t0 + k * beat / 2, sr)
            elif style.bass == "chug":
                for k in range(style.chord_beats * 4):
                    if rng.random() < 0.8:
                        add(bass, tone(broot, step * 0.8, sr, "dist", 0.8), t0 + k * step, sr)
            elif style.bass == "offbeat":
                for b in range(style.chord_beats):
                    add(bass, tone(broot, beat / 2 * 0.9, sr, "saw", 0.7), t0 + b * beat + beat / 2, sr)
            elif style.bass == "walking":
                walk = [broot, broot + style.scale[2 % len(style.scale)], broot + 7, broot + 5]
                for b in range(style.chord_beats):
                    add(bass, tone(walk[b % 4], beat * 0.95, sr, "upright", 0.9), t0 + b * beat, sr)
            elif style.bass == "808":
                add(bass, tone(broot, chord_len * 0.7, sr, "sub", 1.0, glide=-2), t0, sr)
                add(bass, tone(broot, beat, sr, "sub", 0.8), t0 + 2.5 * beat, sr)
        if style.arp:
            seq = notes + [notes[0] + 12] + notes[1:][::-1]
            for k, s in enumerate(range(0, style.chord_beats * 4, style.arp_steps)):
                note = seq[k % len(seq)] + (12 if style_name == "classical" else 0)
                add(arp, tone(note, step * style.arp_steps * 2.5, sr, style.arp, 0.6), t0 + swing_time(s), sr)

    # melody: random walk over the scale, gravitating to chord tones on chord changes
    if style.lead:
        s = 0
        deg = int(rng.integers(0, len(style.scale)))
        total_steps = int(duration / step) + 4
        lead_root = root + style.lead_octave
        tremolo = style_name == "postrock"
        while s < total_steps:
            length = int(rng.choice(style.melody_steps))
            if s % (style.chord_beats * 4) == 0:
                chord_deg = chords[min(s // (style.chord_beats * 4), len(chords) - 1)]
                deg = chord_deg + int(rng.choice([0, 2, 4]))
            else:
                deg += int(rng.choice([-2, -1, -1, 0, 1, 1, 2]))
            deg = int(np.clip(deg, -2, len(style.scale) + 5))
            rest = rng.random() < (0.25 if style_name in ("ambient", "hiphop") else 0.1)
            if not rest:
                note = degree_note(style, lead_root, deg)
                dur = length * step * (0.95 if style.lead in SUSTAINED else 3.0)
                glide = -2.0 if style.lead == "zheng" and rng.random() < 0.35 else 0.0
                vib = 0.25 if style.lead in ("voice", "sax", "zheng") else 0.0
                if tremolo:
                    dur = step * 2
                add(
                    lead,
                    tone(note, dur, sr, style.lead, 0.7 + 0.3 * float(rng.random()), glide, vib),
                    swing_time(s),
                    sr,
                )
            s += length

    # drums
    if style.drums:
        pattern = DRUM_PATTERNS[style.drums]
        kits = {
            name: drum(name if not (name == "kick" and style.bass == "808") else "kick", sr, rng) for name in pattern
        }
        n_steps = int(duration / step) + 1
        for s in range(n_steps):
            for name, hits in pattern.items():
                vel = hits.get(s % 16)
                if vel is None:
                    continue
                vel *= float(rng.uniform(0.85, 1.0))
                add(drums, kits[name] * vel, swing_time(s), sr)

    lv = style.levels
    mix = lv[0] * lead + lv[1] * pad + lv[2] * bass + lv[3] * drums + lv[4] * arp
    mix = mix / (np.max(np.abs(mix)) + 1e-9)
    if style.drive:
        mix = np.tanh(mix * (1 + style.drive)) / np.tanh(1 + style.drive)
    if style.crackle:
        pops = (rng.random(len(mix)) < 0.0008) * rng.standard_normal(len(mix))
        hiss = rng.standard_normal(len(mix)) * 0.01
        mix = mix + style.crackle * (pops + hiss * 3)
        # tape wow: slow pitch wobble via resampled read position
        pos = np.arange(len(mix)) + 0.0015 * sr * np.sin(2 * np.pi * 0.6 * np.arange(len(mix)) / sr)
        mix = np.interp(np.clip(pos, 0, len(mix) - 1), np.arange(len(mix)), mix)
    if style.reverb:
        ir_len = int(min(2.5, 0.6 + 2.5 * style.reverb) * sr)
        t = np.arange(ir_len) / sr
        ir = rng.standard_normal(ir_len) * np.exp(-t * 3.0 / (0.3 + 2.2 * style.reverb))
        ir = lowpass(ir, sr, 4000)
        ir /= np.sqrt(np.sum(ir**2))
        size = 1 << int(math.ceil(math.log2(len(mix) + ir_len)))
        wet = np.fft.irfft(np.fft.rfft(mix, size) * np.fft.rfft(ir, size), size)[: len(mix)]
        mix = mix + style.reverb * 0.6 * wet
    if style.lowpass:
        mix = lowpass(mix, sr, min(style.lowpass, sr * 0.45))
    mix = highpass(mix, sr, 30)
    mix = mix[:n]
    fade_in, fade_out = int(0.01 * sr), int(0.35 * sr)
    mix[:fade_in] *= np.linspace(0, 1, fade_in)
    mix[-fade_out:] *= np.linspace(1, 0, fade_out)
    return mix / (np.max(np.abs(mix)) + 1e-9) * 0.89  # about -1 dBFS


def write_wav(path: Path, samples: np.ndarray, sr: int, bits: int = 16) -> None:
    step = 2 ** (16 - bits)  # keep ``bits`` significant bits of the 16
    pcm = (np.round(np.clip(samples, -1, 1) * 32767 / step) * step).clip(-32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes(pcm.tobytes())


def encode(ffmpeg: str, wav: Path, out: Path, fmt: str) -> None:
    sr, codec_args, _ = FORMATS[fmt]
    cmd = [
        ffmpeg,
        "-nostdin",
        "-hide_banner",
        "-loglevel",
        "error",
        "-y",
        "-fflags",
        "+bitexact",
        "-i",
        str(wav),
        "-map_metadata",
        "-1",
        "-map_chapters",
        "-1",
        "-vn",
        "-ac",
        "1",
        "-ar",
        str(sr),
        *codec_args,
        "-fflags",
        "+bitexact",
        "-flags:a",
        "+bitexact",
        str(out),
    ]
    subprocess.run(cmd, check=True)


# --------------------------------------------------------------------------------------
# Tagging
# --------------------------------------------------------------------------------------


def solid_png(rgb: tuple[int, int, int], size: int = 32) -> bytes:
    """A tiny PNG: the album colour with a lighter diagonal band (no PIL needed)."""
    light = tuple(min(255, c + 70) for c in rgb)
    rows = []
    for y in range(size):
        row = bytearray(b"\x00")
        for x in range(size):
            row += bytes(light if abs(x - y) < size // 6 else rgb)
        rows.append(bytes(row))

    def chunk(tag: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(tag + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + chunk(b"IEND", b"")
    )


def mbid(*parts: str) -> str:
    return str(uuid.uuid5(MB_NAMESPACE, "/".join(parts)))


@dataclass
class Meta:
    title: str
    artists: list[str]
    album: str
    album_artist: str
    year: int
    track: int
    track_total: int
    disc: int
    disc_total: int
    genres: list[str]
    mood: str | None
    lyrics: str | None  # only when embedded
    lang: str | None
    cover: bytes | None
    composer: str | None
    bpm: int
    mb: dict[str, str] | None


def tag_id3(path: Path, m: Meta, version: int) -> None:
    tags = ID3()
    tags.add(TIT2(encoding=3, text=[m.title]))
    tags.add(TPE1(encoding=3, text=m.artists))
    tags.add(TPE2(encoding=3, text=[m.album_artist]))
    tags.add(TALB(encoding=3, text=[m.album]))
    tags.add(TDRC(encoding=3, text=[str(m.year)]))
    tags.add(TRCK(encoding=3, text=[f"{m.track}/{m.track_total}"]))
    tags.add(TPOS(encoding=3, text=[f"{m.disc}/{m.disc_total}"]))
    tags.add(TCON(encoding=3, text=m.genres))
    tags.add(TBPM(encoding=3, text=[str(m.bpm)]))
    tags.add(COMM(encoding=3, lang="eng", desc="", text=[COMMENT]))
    if m.mood:
        tags.add(TMOO(encoding=3, text=[m.mood]))
    if m.composer:
        tags.add(TCOM(encoding=3, text=[m.composer]))
    if m.lang:
        tags.add(TLAN(encoding=3, text=[m.lang]))
    if m.lyrics:
        tags.add(USLT(encoding=3, lang=m.lang or "und", desc="", text=m.lyrics))
    if m.cover:
        tags.add(APIC(encoding=3, mime="image/png", type=3, desc="Cover", data=m.cover))
    if m.mb:
        tags.add(UFID(owner="http://musicbrainz.org", data=m.mb["track"].encode("ascii")))
        tags.add(TXXX(encoding=3, desc="MusicBrainz Album Id", text=[m.mb["album"]]))
        tags.add(TXXX(encoding=3, desc="MusicBrainz Artist Id", text=[m.mb["artist"]]))
        tags.add(TXXX(encoding=3, desc="MusicBrainz Album Artist Id", text=[m.mb["albumartist"]]))
        tags.add(TXXX(encoding=3, desc="MusicBrainz Release Track Id", text=[m.mb["releasetrack"]]))
    if version == 3:
        tags.update_to_v23()  # TDRC -> TYER, drops v2.4-only frames such as TMOO
    tags.save(path, v2_version=version, v23_sep="/", padding=lambda info: 256)


def vorbis_fields(m: Meta) -> dict[str, list[str]]:
    fields = {
        "TITLE": [m.title],
        "ARTIST": m.artists,
        "ALBUM": [m.album],
        "ALBUMARTIST": [m.album_artist],
        "DATE": [str(m.year)],
        "TRACKNUMBER": [str(m.track)],
        "TRACKTOTAL": [str(m.track_total)],
        "DISCNUMBER": [str(m.disc)],
        "DISCTOTAL": [str(m.disc_total)],
        "GENRE": m.genres,
        "BPM": [str(m.bpm)],
        "COMMENT": [COMMENT],
    }
    if m.mood:
        fields["MOOD"] = [m.mood]
    if m.composer:
        fields["COMPOSER"] = [m.composer]
    if m.lang:
        fields["LANGUAGE"] = [m.lang]
    if m.lyrics:
        fields["LYRICS"] = [m.lyrics]
    if m.mb:
        fields["MUSICBRAINZ_TRACKID"] = [m.mb["track"]]
        fields["MUSICBRAINZ_ALBUMID"] = [m.mb["album"]]
        fields["MUSICBRAINZ_ARTISTID"] = [m.mb["artist"]]
        fields["MUSICBRAINZ_ALBUMARTISTID"] = [m.mb["albumartist"]]
        fields["MUSICBRAINZ_RELEASETRACKID"] = [m.mb["releasetrack"]]
    return fields


def png_picture(data: bytes) -> Picture:
    pic = Picture()
    pic.type = 3
    pic.mime = "image/png"
    pic.desc = "Cover"
    pic.width = pic.height = 32
    pic.depth = 24
    pic.data = data
    return pic


def tag_vorbis(path: Path, m: Meta, fmt: str) -> None:
    if fmt == "flac":
        audio = FLAC(path)
        audio.clear_pictures()
        if audio.tags is None:
            audio.add_tags()
    else:
        audio = OggVorbis(path) if fmt == "ogg" else OggOpus(path)
    audio.tags.clear()  # drop whatever the encoder wrote; the vendor string stays
    for key, values in vorbis_fields(m).items():
        audio[key] = values
    if m.cover:
        pic = png_picture(m.cover)
        if fmt == "flac":
            audio.add_picture(pic)
        else:
            audio["METADATA_BLOCK_PICTURE"] = [base64.b64encode(pic.write()).decode("ascii")]
    audio.save(padding=lambda info: 256)


def tag_mp4(path: Path, m: Meta) -> None:
    audio = MP4(path)
    if audio.tags is None:
        audio.add_tags()
    audio.tags.clear()
    audio["\xa9nam"] = [m.title]
    audio["\xa9ART"] = m.artists
    audio["aART"] = [m.album_artist]
    audio["\xa9alb"] = [m.album]
    audio["\xa9day"] = [str(m.year)]
    audio["trkn"] = [(m.track, m.track_total)]
    audio["disk"] = [(m.disc, m.disc_total)]
    audio["\xa9gen"] = m.genres
    audio["tmpo"] = [m.bpm]
    audio["\xa9cmt"] = [COMMENT]
    if m.composer:
        audio["\xa9wrt"] = [m.composer]
    if m.lyrics:
        audio["\xa9lyr"] = [m.lyrics]
    if m.mood:
        audio["----:com.apple.iTunes:MOOD"] = [MP4FreeForm(m.mood.encode("utf-8"))]
    if m.lang:
        audio["----:com.apple.iTunes:LANGUAGE"] = [MP4FreeForm(m.lang.encode("utf-8"))]
    if m.cover:
        audio["covr"] = [MP4Cover(m.cover, imageformat=MP4Cover.FORMAT_PNG)]
    if m.mb:
        for key, name in (
            ("track", "Track Id"),
            ("album", "Album Id"),
            ("artist", "Artist Id"),
            ("albumartist", "Album Artist Id"),
            ("releasetrack", "Release Track Id"),
        ):
            audio[f"----:com.apple.iTunes:MusicBrainz {name}"] = [MP4FreeForm(m.mb[key].encode("ascii"))]
    audio.save(padding=lambda info: 256)


# --------------------------------------------------------------------------------------
# Lyric sidecars
# --------------------------------------------------------------------------------------


def lrc_text(title: str, artists: list[str], album: str, lyrics: str, duration: float, newline: str) -> str:
    lines = lyrics.splitlines()
    head = [
        f"[ti:{title}]",
        f"[ar:{'/'.join(artists)}]",
        f"[al:{album}]",
        "[by:player_plugin demo]",
        f"[length:{int(duration) // 60:02d}:{int(duration) % 60:02d}]",
    ]
    # spread the lines evenly over the track so a synced view has something to follow
    start, span = 0.2, max(duration - 0.6, 0.5)
    body = []
    for i, line in enumerate(lines):
        t = start + span * i / len(lines)
        cs = int(round(t * 100))
        body.append(f"[{cs // 6000:02d}:{cs // 100 % 60:02d}.{cs % 100:02d}]{line}")
    return newline.join(head + body) + newline


def write_sidecar(audio_path: Path, source: str, meta: Meta, lyrics: str, duration: float) -> Path:
    if source == "txt":
        path = audio_path.with_suffix(".txt")
        path.write_bytes((lyrics + "\n").encode("utf-8"))
        return path
    path = audio_path.with_suffix(".lrc")
    unix = lrc_text(meta.title, meta.artists, meta.album, lyrics, duration, "\n")
    dos = lrc_text(meta.title, meta.artists, meta.album, lyrics, duration, "\r\n")
    if source == "lrc-utf8":
        data = unix.encode("utf-8")
    elif source == "lrc-utf8-bom":
        data = codecs.BOM_UTF8 + unix.encode("utf-8")
    elif source == "lrc-gbk":
        data = dos.encode("gbk")
    elif source == "lrc-utf16":
        data = codecs.BOM_UTF16_LE + dos.encode("utf-16-le")
    else:
        raise ValueError(source)
    path.write_bytes(data)
    return path


EMBED_TAG = {
    "mp3": "ID3 USLT",
    "flac": "Vorbis LYRICS",
    "ogg": "Vorbis LYRICS",
    "opus": "Vorbis LYRICS",
    "m4a": "MP4 \u00a9lyr",
}

# --------------------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------------------


def seed_for(*parts: str) -> int:
    return int.from_bytes(hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest()[:8], "little")


def build(out: Path, ffmpeg: str) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    with tempfile.TemporaryDirectory(prefix="demo_library_") as tmp:
        tmpdir = Path(tmp)
        for album in ALBUMS:
            style = STYLES[album.style]
            album_dir = out / album.artist / album.title
            album_dir.mkdir(parents=True, exist_ok=True)
            for i, track in enumerate(album.tracks):
                seed = seed_for(album.artist, album.title, track.title)
                rng = np.random.default_rng(seed)
                duration = round(float(rng.uniform(MIN_DURATION_S, MAX_DURATION_S)), 2)
                sr, _, ext = FORMATS[album.fmt]
                samples = synthesize(album.style, seed, duration, sr)
                wav = tmpdir / f"{seed:016x}.wav"
                write_wav(wav, samples, sr, FLAC_BITS if album.fmt == "flac" else 16)
                path = album_dir / f"{track.number:02d} {track.title}{ext}"
                encode(ffmpeg, wav, path, album.fmt)
                artists = list(track.artists or (album.artist,))
                mb = None
                if album.musicbrainz:
                    mb = {
                        "track": mbid("recording", album.artist, track.title),
                        "releasetrack": mbid("track", album.artist, album.title, str(track.number)),
                        "album": mbid("release", album.artist, album.title),
                        "artist": mbid("artist", artists[0]),
                        "albumartist": mbid("artist", album.artist),
                    }
                lyrics = LYRICS.get(track.title) if track.lyrics else None
                meta = Meta(
                    title=track.title,
                    artists=artists,
                    album=album.title,
                    album_artist=album.artist,
                    year=album.year,
                    track=track.number,
                    track_total=album.track_total,
                    disc=track.disc,
                    disc_total=album.disc_total,
                    genres=list(track.genres or album.genres),
                    mood=track.mood,
                    lyrics=lyrics if track.lyrics == "embedded" else None,
                    lang=track.lang,
                    cover=solid_png(album.cover) if album.cover and i == 0 else None,
                    composer=album.composer,
                    bpm=int(round(style.bpm)),
                    mb=mb,
                )
                if album.fmt == "mp3":
                    tag_id3(path, meta, album.id3)
                elif album.fmt == "m4a":
                    tag_mp4(path, meta)
                else:
                    tag_vorbis(path, meta, album.fmt)
                sidecar = None
                if lyrics and track.lyrics != "embedded":
                    sidecar = write_sidecar(path, track.lyrics, meta, lyrics, duration)
                fmt_label = {
                    "mp3": f"MP3 (ID3v2.{album.id3})",
                    "flac": "FLAC",
                    "ogg": "Ogg Vorbis",
                    "opus": "Ogg Opus",
                    "m4a": "M4A (AAC)",
                }[album.fmt]
                rows.append(
                    {
                        "path": path.relative_to(out).as_posix(),
                        "artist": " / ".join(artists),
                        "genre": " / ".join(meta.genres),
                        "format": fmt_label,
                        "lyrics": "instrumental"
                        if not lyrics
                        else LYRIC_SOURCES[track.lyrics]
                        + (f" (`{sidecar.name}`)" if sidecar else f" ({EMBED_TAG[album.fmt]})"),
                        "extras": ", ".join(
                            x for x in ("cover art" if meta.cover else "", "MusicBrainz ids" if mb else "") if x
                        ),
                    }
                )
                print(f"  {rows[-1]['path']}  ({path.stat().st_size // 1024} KB)")
    return rows


def write_credits(out: Path, rows: list[dict[str, str]]) -> None:
    lines = [
        "# Demo library credits",
        "",
        "Everything in this folder was made for the player_plugin project by",
        "`resources/make_demo_library.py` and is licensed with the project (MIT):",
        "",
        "- **Audio**: synthesised by the script with numpy (per-genre melodies, chords, bass lines and",
        "  drum-like noise bursts) and encoded with ffmpeg. No samples or recordings of anyone else's",
        "  music were used.",
        "- **Lyrics**: original short lyrics written for this project (English, Simplified and",
        "  Traditional Chinese).",
        "- **Metadata**: artists, albums, years and MusicBrainz-style ids are fictional; the ids are",
        "  deterministic UUIDv5 values and do not refer to real MusicBrainz entries.",
        "- **Cover art**: tiny generated 32x32 PNGs.",
        "",
        "Regenerate with `python resources/make_demo_library.py` (output is deterministic for a",
        "given ffmpeg build).",
        "",
        "## Tracks",
        "",
        "| File | Artist | Genre | Format | Lyrics | Extras |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        lines.append(
            f"| `{r['path']}` | {r['artist']} | {r['genre']} | {r['format']} | {r['lyrics']} | {r['extras']} |"
        )
    (out / "CREDITS.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default: {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    ffmpeg = shutil.which("ffmpeg")
    if not ffmpeg:
        print("error: ffmpeg not found on PATH", file=sys.stderr)
        return 2
    out: Path = args.out
    if out.exists():
        if any(out.iterdir()) and not (out / "CREDITS.md").exists():
            print(f"error: {out} exists and does not look like a demo library; refusing to replace it", file=sys.stderr)
            return 2
        shutil.rmtree(out)
    out.mkdir(parents=True)
    print(f"Writing demo library to {out}")
    rows = build(out, ffmpeg)
    write_credits(out, rows)
    # keep sidecar bytes exact (CRLF, BOMs, GBK/UTF-16) whatever the user's core.autocrlf says
    (out / ".gitattributes").write_text("* -text\n", encoding="ascii")
    total = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"{len(rows)} tracks, {total / 1024:.0f} KB total")
    return 0


if __name__ == "__main__":
    sys.exit(main())
