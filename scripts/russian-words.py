#!/usr/bin/env python3
"""Derives src/lang/ru/words.txt, the Russian dictionary of typo correction, from the
embedding model's vocabulary, as src/lang/en/words.txt is derived from the English model's.

    python3 scripts/russian-words.py [TOKENIZER_BIN] > src/lang/ru/words.txt

TOKENIZER_BIN defaults to models/multilingual-e5-small/tokenizer.bin (its layout in
scripts/build-e5-model.py): a Unigram (SentencePiece) vocabulary whose pieces that open a
word start with "▁". The dictionary is
its whole Russian words: the pieces made of "▁" and two or more lower-case Cyrillic letters
(а-я, ё), "▁" stripped and ё written е (as the analyzer folds it), sorted by code point and
deduplicated, one a line. Standard library only; the test
`lang::ru::tests::the_dictionary_is_the_models_whole_words` checks the file is what this
script writes.
"""

import re
import struct
import sys
from pathlib import Path

WHOLE_WORD = re.compile("\u2581[а-яё]{2,}")


def pieces(tokenizer_bin):
    """The vocabulary's pieces, by id: after an 8-byte magic, the version, the count n, four
    special ids and two lengths (u32 each), come n piece lengths (u8), n scores and n ids in
    byte order (4 bytes each), then the pieces' bytes back to back."""
    data = Path(tokenizer_bin).read_bytes()
    n = struct.unpack_from("<I", data, 12)[0]
    lengths = data[40 : 40 + n]
    at = 40 + n + 8 * n
    out = []
    for length in lengths:
        out.append(data[at : at + length].decode("utf-8"))
        at += length
    return out


def words(tokenizer_bin):
    found = {p[1:].replace("ё", "е") for p in pieces(tokenizer_bin) if WHOLE_WORD.fullmatch(p)}
    return sorted(found)


def main():
    root = Path(__file__).resolve().parent.parent
    path = sys.argv[1] if len(sys.argv) > 1 else root / "models/multilingual-e5-small/tokenizer.bin"
    sys.stdout.write("".join(w + "\n" for w in words(path)))


if __name__ == "__main__":
    main()
