//! Cutting text into words: the tokenizer shared by the index and the questions, the
//! index's analyzer (lower case, folded, stemmed by script) and the plain one (not stemmed).

use tantivy::tokenizer::{
    AsciiFoldingFilter, LowerCaser, RawTokenizer, RemoveLongFilter, Stemmer, TextAnalyzer, Token,
    TokenStream, Tokenizer,
};

use crate::lang;

/// Splits text into words the way English prose needs:
/// - possessives lose their `'s` (`Russia's`, `Taliban’s` → `russia`, `taliban`);
/// - initials lose their dots (`U.S.` → `US`), so they match the undotted spelling;
/// - hyphenated words give their parts and, at the position of the first part, the parts
///   joined (`Mi-17` → `Mi`, `Mi17`, `17`), so `Mi-17`, `Mi17` and `Mi 17` all meet.
///
/// A joined token has `position_length` equal to the number of its parts.
#[derive(Clone, Default)]
pub struct WordTokenizer {
    tokens: Vec<Token>,
}

pub struct WordTokenStream<'a> {
    tokens: &'a mut [Token],
    index: usize,
}

impl Tokenizer for WordTokenizer {
    type TokenStream<'a> = WordTokenStream<'a>;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> WordTokenStream<'a> {
        self.tokens.clear();
        words_into(text, &mut self.tokens);
        WordTokenStream {
            tokens: &mut self.tokens,
            index: 0,
        }
    }
}

impl TokenStream for WordTokenStream<'_> {
    fn advance(&mut self) -> bool {
        self.index += 1;
        self.index <= self.tokens.len()
    }
    fn token(&self) -> &Token {
        &self.tokens[self.index - 1]
    }
    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.index - 1]
    }
}

/// The words of `text`, as [`WordTokenizer`] cuts them (not lower-cased, not stemmed).
pub fn words(text: &str) -> Vec<Token> {
    let mut out = Vec::new();
    words_into(text, &mut out);
    out
}

fn is_connector(c: char) -> bool {
    matches!(c, '\'' | '’' | '-' | '‐' | '‑' | '.')
}

fn words_into(text: &str, out: &mut Vec<Token>) {
    let mut position = 0;
    let mut chars = text.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        if !c.is_alphanumeric() {
            chars.next();
            continue;
        }
        // A run of letters and digits, joined by apostrophes, hyphens and dots.
        let mut end = start;
        while let Some(&(i, c)) = chars.peek() {
            if c.is_alphanumeric() {
                end = i + c.len_utf8();
                chars.next();
            } else if is_connector(c) {
                let mut ahead = chars.clone();
                ahead.next();
                match ahead.peek() {
                    Some(&(_, n)) if n.is_alphanumeric() => {
                        chars.next();
                    }
                    // The closing dot of initials ("U.S.") belongs to the word, and so does
                    // a hyphenated rest ("U.S.-supported").
                    Some(&(_, '-')) if c == '.' && is_initials(&text[start..i]) => {
                        end = i + 1;
                        chars.next();
                    }
                    _ if c == '.' && is_initials(&text[start..i]) => {
                        end = i + 1;
                        chars.next();
                        break;
                    }
                    _ => break,
                }
            } else {
                break;
            }
        }
        push_run(text, start, end, &mut position, out);
    }
}

/// "U.S", "U.N", "e.g": single letters separated by dots.
fn is_initials(s: &str) -> bool {
    s.contains('.')
        && s.split('.').all(|part| {
            part.is_empty() || (part.chars().count() == 1 && part.chars().all(char::is_alphabetic))
        })
}

fn push_run(text: &str, start: usize, end: usize, position: &mut usize, out: &mut Vec<Token>) {
    let run = &text[start..end];
    let mut parts: Vec<(usize, usize, String)> = Vec::new();
    let mut part_start = start;
    for (i, c) in run.char_indices().chain(std::iter::once((run.len(), '-'))) {
        if matches!(c, '-' | '‐' | '‑') {
            let (a, b) = (part_start, start + i);
            part_start = start + i + c.len_utf8();
            if a >= b {
                continue;
            }
            let part = &text[a..b];
            if is_initials(part) {
                parts.push((a, b, part.replace('.', "")));
                continue;
            }
            // Possessive: drop a trailing 's or '; other apostrophes go (isn't → isnt).
            let mut stem_end = b;
            for suffix in ["'s", "’s", "'S", "’S", "'", "’"] {
                if part.ends_with(suffix) && part.len() > suffix.len() {
                    stem_end = b - suffix.len();
                    break;
                }
            }
            // Dots inside a word that is not initials ("end.Next", "3.5") separate words.
            for (k, piece) in text[a..stem_end].split('.').enumerate() {
                let offset = a + text[a..stem_end]
                    .split('.')
                    .take(k)
                    .map(|p| p.len() + 1)
                    .sum::<usize>();
                let clean: String = piece.chars().filter(|c| *c != '\'' && *c != '’').collect();
                if !clean.is_empty() {
                    parts.push((offset, offset + piece.len(), clean));
                }
            }
        }
    }
    let first = *position;
    for (a, b, t) in &parts {
        out.push(Token {
            offset_from: *a,
            offset_to: *b,
            position: *position,
            text: t.clone(),
            position_length: 1,
        });
        *position += 1;
    }
    if parts.len() > 1 && run.contains(['-', '‐', '‑']) {
        let joined: String = parts.iter().map(|(_, _, t)| t.as_str()).collect();
        // Emitted right after the first part, so positions never go backwards.
        out.insert(
            out.len() - parts.len() + 1,
            Token {
                offset_from: parts[0].0,
                offset_to: parts[parts.len() - 1].1,
                position: first,
                text: joined,
                position_length: parts.len(),
            },
        );
    }
}

/// The analyzer of the index: words, lower case, ASCII folding, and each word stemmed by
/// the stemmer of its script (see [`by_script`]).
pub fn index_analyzer() -> TextAnalyzer {
    by_script(
        TextAnalyzer::builder(WordTokenizer::default())
            .filter(RemoveLongFilter::limit(64))
            .filter(LowerCaser)
            .filter(AsciiFoldingFilter),
    )
}

/// Stems each word by the stemmer of its script: English for Latin letters, Russian for
/// Cyrillic. The two stemmers run one after the other, and each leaves the other's words
/// alone (a Snowball stemmer only strips endings written in its own alphabet), so one index
/// holds English and Russian documents, and a question in either language, or in both ("что
/// сказал Kabulov"), is stemmed as the index was, word by word, without first being told
/// which language it is in.
fn by_script<T: tantivy::tokenizer::Tokenizer>(
    builder: tantivy::tokenizer::TextAnalyzerBuilder<T>,
) -> TextAnalyzer {
    builder
        .filter(Stemmer::new(lang::Stemming::English))
        .filter(Stemmer::new(lang::Stemming::Russian))
        .build()
}

/// Words lower-cased and folded but not stemmed: what stop words are checked against.
pub fn plain_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(WordTokenizer::default())
        .filter(RemoveLongFilter::limit(64))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

/// Tokens of `text` through `analyzer`.
pub fn tokens(analyzer: &mut TextAnalyzer, text: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut stream = analyzer.token_stream(text);
    while stream.advance() {
        out.push(stream.token().clone());
    }
    out
}

/// Stems one plain word with the index's stemmer.
#[derive(Clone)]
pub struct StemmerFn(TextAnalyzer);

impl Default for StemmerFn {
    fn default() -> Self {
        StemmerFn(by_script(TextAnalyzer::builder(RawTokenizer::default())))
    }
}

impl StemmerFn {
    pub fn stem(&mut self, word: &str) -> String {
        let mut stream = self.0.token_stream(word);
        if stream.advance() {
            stream.token().text.clone()
        } else {
            word.to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(text: &str) -> Vec<(String, usize, usize)> {
        words(text)
            .into_iter()
            .map(|t| (t.text, t.position, t.position_length))
            .collect()
    }

    fn t(s: &str, p: usize, l: usize) -> (String, usize, usize) {
        (s.to_string(), p, l)
    }

    #[test]
    fn tokenizer_handles_possessives_initials_and_hyphens() {
        type Case = (&'static str, Vec<(String, usize, usize)>);
        let cases: Vec<Case> = vec![
            ("Russia's aims", vec![t("Russia", 0, 1), t("aims", 1, 1)]),
            (
                "the Taliban’s leadership",
                vec![t("the", 0, 1), t("Taliban", 1, 1), t("leadership", 2, 1)],
            ),
            ("U.S. forces", vec![t("US", 0, 1), t("forces", 1, 1)]),
            ("the U.S.", vec![t("the", 0, 1), t("US", 1, 1)]),
            (
                "Mi-17 helicopters",
                vec![
                    t("Mi", 0, 1),
                    t("Mi17", 0, 2),
                    t("17", 1, 1),
                    t("helicopters", 2, 1),
                ],
            ),
            (
                "Mazar-i-Sharif",
                vec![
                    t("Mazar", 0, 1),
                    t("MazariSharif", 0, 3),
                    t("i", 1, 1),
                    t("Sharif", 2, 1),
                ],
            ),
            (
                "U.S.-supported",
                vec![t("US", 0, 1), t("USsupported", 0, 2), t("supported", 1, 1)],
            ),
            ("isn’t", vec![t("isnt", 0, 1)]),
            ("“dead end”", vec![t("dead", 0, 1), t("end", 1, 1)]),
            ("end.Next", vec![t("end", 0, 1), t("Next", 1, 1)]),
            ("-- '' ..", vec![]),
            ("emoji 😀 after", vec![t("emoji", 0, 1), t("after", 1, 1)]),
        ];
        for (text, want) in cases {
            assert_eq!(texts(text), want, "{text:?}");
        }
    }

    #[test]
    fn token_offsets_point_at_the_words() {
        let text = "Russia’s Mi-17 and the U.S.";
        for tok in words(text) {
            let slice = &text[tok.offset_from..tok.offset_to];
            let squashed: String = slice.chars().filter(|c| c.is_alphanumeric()).collect();
            assert_eq!(squashed, tok.text, "{slice:?}");
        }
    }
}
