//! Plain text and Markdown as people write them: no header, maybe not UTF-8. The title is
//! the first heading or the first short line, the author a byline ("By Julia Gurganus",
//! "Автор: …") and the date a line that is only a date, near the top; Markdown's front
//! matter (`---` … `---`, `title:`, `author:`, `date:`) says them outright.

use super::{Extracted, Unreadable};
use crate::lang::{self, Language};

/// How many lines from the top a title, byline or date line may stand.
const HEAD_LINES: usize = 8;
/// A title is a line, not a paragraph.
const MAX_TITLE_CHARS: usize = 200;

/// The text of `bytes`: UTF-8 (with or without a byte-order mark), UTF-16 with one, else the
/// encoding the bytes look like (chardetng), decoded with encoding_rs. Bytes that decode to
/// mostly replacement characters or control codes are a binary file, not text.
pub fn decode(bytes: &[u8]) -> Result<String, Unreadable> {
    let text = match std::str::from_utf8(bytes) {
        Ok(s) => s.strip_prefix('\u{feff}').unwrap_or(s).to_string(),
        Err(_) => {
            let encoding = match encoding_rs::Encoding::for_bom(bytes) {
                Some((encoding, _)) => encoding,
                None => {
                    let mut detector = chardetng::EncodingDetector::new();
                    detector.feed(bytes, true);
                    detector.guess(None, true)
                }
            };
            let (text, _, _) = encoding.decode(bytes);
            text.into_owned()
        }
    };
    let odd = text
        .chars()
        .filter(|&c| c == '\u{fffd}' || (c.is_control() && !c.is_whitespace()))
        .count();
    if odd * 20 > text.chars().count().max(1) {
        return Err(Unreadable::new(
            "is not text (binary data, or an encoding that cannot be told)",
        ));
    }
    Ok(text)
}

/// Plain text: the title, byline and date read from its first lines and taken out of the
/// body; the rest as it is.
pub fn plain(text: &str) -> Extracted {
    let text = text.replace("\r\n", "\n");
    let lines: Vec<&str> = text.lines().collect();
    let mut found = Extracted::default();
    let mut taken = vec![false; lines.len()];
    head(&lines, &mut found, &mut taken, |line| {
        // The first line is a title when it is short and is not a sentence.
        let line = line.trim();
        (line.chars().count() <= MAX_TITLE_CHARS
            && !line.ends_with(['.', ',', ';', ':'])
            && line.split_whitespace().count() <= 25)
            .then(|| line.to_string())
    });
    found.body = kept_lines(&lines, &taken);
    found
}

/// Markdown: front matter, else the first `#` heading as the title (a second-level heading
/// right under it as the subtitle), a byline and a date line; the body with Markdown's
/// marks taken off (headings, emphasis, links, images, list bullets, HTML comments), so
/// that the cutting sees prose.
pub fn markdown(text: &str) -> Extracted {
    let text = text.replace("\r\n", "\n");
    let (mut found, rest) = front_matter(&text);
    let lines: Vec<&str> = rest.lines().collect();
    let mut taken = vec![false; lines.len()];
    let wanted_title = found.title.is_none();
    let mut head_found = Extracted::default();
    head(&lines, &mut head_found, &mut taken, |line| {
        let heading = line.trim_start().strip_prefix("# ")?;
        wanted_title.then(|| plain_inline(heading.trim()))
    });
    // A subtitle: a second-level heading right after the title.
    if let Some(i) = taken.iter().position(|&t| t) {
        if let Some(sub) = lines
            .iter()
            .enumerate()
            .skip(i + 1)
            .find(|(_, l)| !l.trim().is_empty())
            .and_then(|(j, l)| Some((j, l.trim_start().strip_prefix("## ")?)))
        {
            if head_found.title.is_some() {
                head_found.subtitle = Some(plain_inline(sub.1.trim()));
                taken[sub.0] = true;
            }
        }
    }
    found.title = found.title.or(head_found.title);
    found.subtitle = found.subtitle.or(head_found.subtitle);
    found.author = found.author.or(head_found.author);
    found.date = found.date.or(head_found.date);
    let mut body = Vec::new();
    let mut in_comment = false;
    for (line, _) in lines.iter().zip(&taken).filter(|(_, &t)| !t) {
        let mut line = line.to_string();
        // HTML comments, which a rendered page does not show.
        if in_comment {
            match line.find("-->") {
                Some(end) => {
                    line = line[end + 3..].to_string();
                    in_comment = false;
                }
                None => continue,
            }
        }
        while let Some(start) = line.find("<!--") {
            match line[start..].find("-->") {
                Some(end) => line.replace_range(start..start + end + 3, ""),
                None => {
                    line.truncate(start);
                    in_comment = true;
                }
            }
        }
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            continue;
        }
        // A heading is a line of its own (the cutting keeps short lines out of passages).
        let unmarked = trimmed.trim_start_matches('#');
        let unmarked = if unmarked.len() < trimmed.len() && unmarked.starts_with(' ') {
            unmarked.trim_start()
        } else {
            strip_bullet(trimmed)
        };
        let unmarked = unmarked.trim_start_matches('>').trim_start();
        body.push(plain_inline(unmarked));
    }
    found.body = body.join("\n");
    found
}

/// Reads the title (by `title_of`, from the first non-empty line only), a byline and a date
/// from the first lines, marking the lines used.
fn head(
    lines: &[&str],
    found: &mut Extracted,
    taken: &mut [bool],
    title_of: impl Fn(&str) -> Option<String>,
) {
    let mut seen = 0;
    for (i, line) in lines.iter().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        seen += 1;
        if seen > HEAD_LINES {
            break;
        }
        if seen == 1 {
            if let Some(title) = title_of(line) {
                found.title = Some(title);
                taken[i] = true;
                continue;
            }
        }
        let line = plain_inline(line.trim_start_matches('#').trim());
        if found.author.is_none() {
            if let Some(author) = byline(&line) {
                found.author = Some(author);
                taken[i] = true;
                continue;
            }
        }
        if found.date.is_none() {
            if let Some(date) = date_line(&line) {
                found.date = Some(date);
                taken[i] = true;
            }
        }
    }
}

fn kept_lines(lines: &[&str], taken: &[bool]) -> String {
    lines
        .iter()
        .zip(taken)
        .filter(|(_, &t)| !t)
        .map(|(l, _)| *l)
        .collect::<Vec<_>>()
        .join("\n")
}

/// The name in a byline: "By Julia Gurganus", "by Julia Gurganus | Foreign Affairs",
/// "Автор: Юлия Гурганус". `None` for any other line.
pub fn byline(line: &str) -> Option<String> {
    let line = line.trim().trim_start_matches(['*', '_']);
    let lower = line.to_lowercase();
    let rest = ["by ", "автор: ", "автор ", "author: ", "written by "]
        .iter()
        .find_map(|p| lower.starts_with(p).then(|| &line[p.len()..]))?;
    let name = rest
        .split(['|', ',', '—', '–', '·', '(', '*', '_'])
        .next()?
        .split(" - ")
        .next()?
        .trim();
    let words = name.split_whitespace().count();
    // A name is a few capitalised words: "By the way, …" is no byline.
    ((1..=5).contains(&words)
        && name
            .split_whitespace()
            .all(|w| w.chars().next().is_some_and(char::is_uppercase)))
    .then(|| name.to_string())
}

/// A line that is only a date ("January 2, 2018", "2 January 2018", "Jan. 2, 2018",
/// "2018-01-02", "2 января 2018 г."), as `YYYY-MM-DD`.
pub fn date_line(line: &str) -> Option<String> {
    let words: Vec<String> = line
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty())
        .map(|w| w.trim_end_matches('.').to_lowercase())
        .filter(|w| !matches!(w.as_str(), "г" | "года" | "published" | "updated" | "on"))
        .collect();
    if let [one] = words.as_slice() {
        return iso_date(one);
    }
    let (mut day, mut month, mut year) = (None, None, None);
    for w in &words {
        if let Some(m) = month_number(w) {
            month = month.or(Some(m));
        } else if let Ok(n) = w.parse::<u32>() {
            if w.len() == 4 {
                year = year.or(Some(n));
            } else if (1..=31).contains(&n) {
                day = day.or(Some(n));
            } else {
                return None;
            }
        } else {
            return None;
        }
    }
    Some(format!("{:04}-{:02}-{:02}", year?, month?, day?))
}

/// `YYYY-MM-DD` (or a longer ISO timestamp, whose date it keeps), checked.
pub fn iso_date(s: &str) -> Option<String> {
    let date = s.get(..10)?;
    let mut parts = date.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    let ok = y.len() == 4
        && y.parse::<u32>().is_ok()
        && m.parse::<u32>().is_ok_and(|m| (1..=12).contains(&m))
        && d.parse::<u32>().is_ok_and(|d| (1..=31).contains(&d));
    ok.then(|| date.to_string())
}

/// The month (1 to 12) a word names, in any language citebot reads: its full name, a case
/// form, or an abbreviation of three letters or more ("Jan", "Sept").
fn month_number(word: &str) -> Option<u32> {
    let in_lang = |language: &Language| {
        language.months.iter().position(|m| {
            let m = m.to_lowercase();
            m == word || (word.chars().count() >= 3 && m.starts_with(word))
        })
    };
    [lang::english(), lang::Lang::Ru.language()]
        .into_iter()
        .find_map(in_lang)
        .map(|i| i as u32 + 1)
}

/// Front matter: `---` on the first line, `key: value` lines, `---`. Only the keys citebot
/// uses are read (title, subtitle, description, author, date, url); a value may be quoted.
fn front_matter(text: &str) -> (Extracted, &str) {
    let mut found = Extracted::default();
    let Some(rest) = text.strip_prefix("---\n") else {
        return (found, text);
    };
    let Some(end) = rest.find("\n---") else {
        return (found, text);
    };
    for line in rest[..end].lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim().trim_matches(['"', '\'']).trim();
        if value.is_empty() {
            continue;
        }
        let value = value.to_string();
        match key.trim().to_lowercase().as_str() {
            "title" => found.title = Some(value),
            "subtitle" | "description" => found.subtitle = found.subtitle.take().or(Some(value)),
            "author" | "authors" => {
                found.author = Some(value.trim_matches(['[', ']']).trim().to_string())
            }
            "date" | "published" => found.date = iso_date(&value).or_else(|| date_line(&value)),
            "url" | "canonical" | "canonical_url" => found.url = Some(value),
            _ => {}
        }
    }
    let after = &rest[end + 4..];
    let after = after.split_once('\n').map_or("", |(_, body)| body);
    (found, after)
}

/// A list item's text without its bullet ("- ", "* ", "1. ").
fn strip_bullet(line: &str) -> &str {
    for bullet in ["- ", "* ", "+ "] {
        if let Some(rest) = line.strip_prefix(bullet) {
            return rest;
        }
    }
    let digits = line.chars().take_while(char::is_ascii_digit).count();
    if digits > 0 && digits <= 3 {
        if let Some(rest) = line[digits..].strip_prefix(". ") {
            return rest;
        }
    }
    line
}

/// A line of Markdown as the reader sees it: `[text](url)` is its text, an image is nothing,
/// `**bold**`, `*em*`, `_em_` and `` `code` `` lose their marks (an underscore inside a word,
/// as in `snake_case`, stays).
fn plain_inline(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(i) = rest.find(['[', '*', '_', '`', '!']) {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let image = tail.starts_with("![");
        if let Some((text, after)) = link(&tail[usize::from(image)..]) {
            if !image {
                out.push_str(text);
            }
            rest = after;
            continue;
        }
        let c = tail.chars().next().unwrap_or(' ');
        let after = &tail[c.len_utf8()..];
        let in_word = |s: Option<char>| s.is_some_and(char::is_alphanumeric);
        let keep = match c {
            '_' => in_word(out.chars().last()) && in_word(after.chars().next()),
            '*' | '`' => false,
            _ => true,
        };
        if keep {
            out.push(c);
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

/// `[text](url)` at the start of `s`: its text and what follows.
fn link(s: &str) -> Option<(&str, &str)> {
    if !s.starts_with('[') {
        return None;
    }
    let close = s.find("](")?;
    let text = &s[1..close];
    if text.contains('[') {
        return None;
    }
    let end = s[close + 2..].find(')')?;
    Some((text, &s[close + 2 + end + 1..]))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::assert_seed_metadata;
    use super::*;

    #[test]
    fn text_in_another_encoding_is_decoded() {
        let (bytes, _, _) = encoding_rs::WINDOWS_1251.encode("Россия и Афганистан: стратегия");
        assert_eq!(decode(&bytes).unwrap(), "Россия и Афганистан: стратегия");
        let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode("Café society – naïve résumé");
        assert_eq!(decode(&bytes).unwrap(), "Café society – naïve résumé");
        assert_eq!(decode("\u{feff}plain".as_bytes()).unwrap(), "plain");
        let mut utf16 = vec![0xff, 0xfe];
        utf16.extend("hi there".encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(decode(&utf16).unwrap(), "hi there");
        let binary: Vec<u8> = (0..2000u32).map(|i| (i * 7 % 32) as u8).collect();
        assert!(decode(&binary).is_err());
    }

    #[test]
    fn plain_text_gives_its_title_byline_and_date() {
        let found = plain(
            "Russia's Afghanistan Strategy\nBy Julia Gurganus\nJanuary 2, 2018\n\n\
             For the last decade and a half, Russia and the United States have had aims.\n",
        );
        assert_seed_metadata(&found, "plain text");
        assert!(found.body.trim().starts_with("For the last decade"));
        // A first line that is a sentence is no title.
        let found = plain("It was a long day in Kabul, and nobody came.\n\nMore text here.");
        assert_eq!(found.title, None);
        assert!(found.body.starts_with("It was a long day"));
    }

    #[test]
    fn markdown_without_a_header_gives_its_heading_as_the_title() {
        let found = markdown(
            "# Russia's [Afghanistan](https://x.org) Strategy\n\n## How Moscow Is Preparing\n\n\
             *By Julia Gurganus*\n\n2 January 2018\n\n## The Taliban\n\n\
             Moscow has **even** reached out to the _Taliban_, see [this](https://a.b).\n\n\
             ![a photo](photo.jpg)\n- one point made in a list\n<!-- a note -->\n",
        );
        assert_seed_metadata(&found, "Markdown");
        assert_eq!(found.subtitle.as_deref(), Some("How Moscow Is Preparing"));
        assert!(found.body.contains("The Taliban\n"), "{}", found.body);
        assert!(
            found
                .body
                .contains("Moscow has even reached out to the Taliban, see this."),
            "{}",
            found.body
        );
        assert!(found.body.contains("\none point made in a list"));
        assert!(!found.body.contains("photo") && !found.body.contains("note"));
    }

    #[test]
    fn markdown_front_matter_says_it_outright() {
        let found = markdown(
            "---\ntitle: \"Russia's Afghanistan Strategy\"\nauthor: Julia Gurganus\n\
             date: 2018-01-02T09:00:00Z\ntags: [a, b]\n---\n# Not the title\n\nText here.\n",
        );
        assert_seed_metadata(&found, "Markdown front matter");
        assert!(found.body.starts_with("Not the title\n"), "{}", found.body);
    }

    #[test]
    fn dates_and_bylines_as_people_write_them() {
        for (line, date) in [
            ("January 2, 2018", Some("2018-01-02")),
            ("Jan. 2, 2018", Some("2018-01-02")),
            ("2 января 2018 г.", Some("2018-01-02")),
            ("Published on 2018-01-02", Some("2018-01-02")),
            ("2018-01-02", Some("2018-01-02")),
            ("In 2018 Moscow went on", None),
            ("May 2018", None),
        ] {
            assert_eq!(date_line(line).as_deref(), date, "{line}");
        }
        assert_eq!(byline("By the way, Moscow said no"), None);
        assert_eq!(
            byline("Автор: Юлия Гурганус").as_deref(),
            Some("Юлия Гурганус")
        );
        assert_eq!(
            byline("by Julia Gurganus | Foreign Affairs").as_deref(),
            Some("Julia Gurganus")
        );
    }
}
