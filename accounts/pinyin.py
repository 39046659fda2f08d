"""Pinyin keys for Chinese names: full spelling, initials and the directory letter.

Surnames are read with their surname reading where it differs from the common one
(单 is Shàn, not Dān; 曾 is Zēng, not Céng; 解 is Xiè, not Jiě).
"""

from dataclasses import dataclass

from pypinyin import Style, lazy_pinyin

# Surname readings that differ from the character's most common reading. Two-character
# surnames come first so that they win over their first character.
SURNAME_READINGS: dict[str, list[str]] = {
    "尉迟": ["yu", "chi"],
    "万俟": ["mo", "qi"],
    "长孙": ["zhang", "sun"],
    "单于": ["chan", "yu"],
    "澹台": ["tan", "tai"],
    "单": ["shan"],
    "曾": ["zeng"],
    "解": ["xie"],
    "区": ["ou"],
    "仇": ["qiu"],
    "朴": ["piao"],
    "查": ["zha"],
    "盖": ["ge"],
    "华": ["hua"],
    "繁": ["po"],
    "覃": ["qin"],
    "缪": ["miao"],
    "翟": ["zhai"],
    "乐": ["yue"],
    "召": ["shao"],
    "员": ["yun"],
    "秘": ["bi"],
    "任": ["ren"],
    "折": ["she"],
    "黑": ["he"],
    "那": ["na"],
    "种": ["chong"],
    "句": ["gou"],
    "牟": ["mu"],
    "祭": ["zhai"],
    "宓": ["fu"],
    "蕃": ["pi"],
    "厍": ["she"],
    "藏": ["zang"],
    "沈": ["shen"],
    "重": ["chong"],
    "都": ["du"],
    "朝": ["chao"],
    "蛾": ["yi"],
    "阚": ["kan"],
    "隗": ["wei"],
    "吾": ["wu"],
    "薄": ["bo"],
    "佴": ["nai"],
    "粘": ["nian"],
    "番": ["pan"],
    "洗": ["xian"],
    "蔚": ["yu"],
    "郇": ["xun"],
}


@dataclass(frozen=True)
class NameKeys:
    pinyin: str  # "zhangsan"
    initials: str  # "zs"
    alpha: str  # "Z", or "?" when the name is empty


def _syllables(text: str) -> list[str]:
    return [s.lower() for s in lazy_pinyin(text, style=Style.NORMAL, errors="default") if s.strip()]


def surname_syllables(last_name: str) -> list[str]:
    for surname in sorted(SURNAME_READINGS, key=len, reverse=True):
        if last_name.startswith(surname):
            return SURNAME_READINGS[surname] + _syllables(last_name[len(surname) :])
    return _syllables(last_name)


def name_keys(last_name: str, first_name: str) -> NameKeys:
    """Keys for a person. When only ``first_name`` is filled (a whole name typed in one box),
    it is read as surname + given name."""
    last_name, first_name = last_name.strip(), first_name.strip()
    if last_name:
        syllables = surname_syllables(last_name) + _syllables(first_name)
    else:
        syllables = surname_syllables(first_name)
    spelled = "".join(syllables)
    initials = "".join(s[0] for s in syllables if s)
    first = spelled[:1].upper()
    return NameKeys(
        pinyin=spelled[:255],
        initials=initials[:64],
        alpha=first if first.isascii() and first.isalpha() else "?",
    )
