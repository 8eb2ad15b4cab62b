#!/usr/bin/env python3
"""Derives src/lang/ru/words.txt, the Russian dictionary of typo correction, from the
embedding model's vocabulary, as src/lang/en/words.txt is derived from the English model's.

    python3 scripts/russian-words.py [TOKENIZER_JSON] > src/lang/ru/words.txt

TOKENIZER_JSON defaults to models/multilingual-e5-small/tokenizer.json: a Unigram
(SentencePiece) vocabulary whose pieces that open a word start with "▁". The dictionary is
its whole Russian words: the pieces made of "▁" and two or more lower-case Cyrillic letters
(а-я, ё), "▁" stripped and ё written е (as the analyzer folds it), sorted by code point and
deduplicated, one a line. Standard library only; the test
`lang::ru::tests::the_dictionary_is_the_models_whole_words` checks the file is what this
script writes.
"""

import json
import re
import sys
from pathlib import Path

WHOLE_WORD = re.compile("\u2581[а-яё]{2,}")


def words(tokenizer_json):
    vocab = json.loads(Path(tokenizer_json).read_text(encoding="utf-8"))["model"]["vocab"]
    found = {
        piece[1:].replace("ё", "е") for piece, _score in vocab if WHOLE_WORD.fullmatch(piece)
    }
    return sorted(found)


def main():
    root = Path(__file__).resolve().parent.parent
    path = sys.argv[1] if len(sys.argv) > 1 else root / "models/multilingual-e5-small/tokenizer.json"
    sys.stdout.write("".join(w + "\n" for w in words(path)))


if __name__ == "__main__":
    main()
