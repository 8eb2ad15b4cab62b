//! Word files (.docx): the core properties (title, author, date created) and the document's
//! text in order, each paragraph and heading as a paragraph and each table row as one
//! ("cell | cell | cell"); paragraphs in the Caption style are the document's captions.
//!
//! Read with `zip` and `quick-xml` events rather than docx-rs: reading event by event keeps
//! no tree (a deeply nested or huge document costs neither stack nor a DOM), each zip entry
//! is inflated through `.take(max_bytes + 1)` so a zip bomb stops at the limit, and both
//! crates were already in the lock file (zip 2.6, quick-xml 0.38, through other
//! dependencies), so they add nothing to build. docx-rs was not measured for want of time.

use std::io::{Cursor, Read};

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::{Extracted, Unreadable};

/// Reads a Word file; `max_bytes` bounds what any one part, and all parts together,
/// inflate to.
pub fn read(bytes: &[u8], max_bytes: u64) -> Result<Extracted, Unreadable> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| {
        Unreadable::new(format!(
            "is not a Word file (not a readable zip: {}); a truncated download?",
            one_line(e)
        ))
    })?;
    let mut budget = max_bytes;
    let main = main_part(&mut zip, &mut budget)?;
    let document = entry(&mut zip, &main, &mut budget)?
        .ok_or_else(|| Unreadable::new(format!("is not a Word file (it has no {main})")))?;
    let styles = match entry(&mut zip, "word/styles.xml", &mut budget)? {
        Some(xml) => style_names(&xml)?,
        None => Vec::new(),
    };
    let mut out = Extracted::default();
    if let Some(core) = entry(&mut zip, "docProps/core.xml", &mut budget)? {
        core_properties(&core, &mut out)?;
    }
    let body = body(&document, &styles)?;
    out.body = body.paragraphs.join("\n\n");
    out.captions = body.captions;
    out.title = out.title.or(body.title);
    out.subtitle = body.subtitle;
    Ok(out)
}

fn one_line(e: impl std::fmt::Display) -> String {
    e.to_string()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The main document part, as the package's relationships name it (Word's own is
/// word/document.xml; other writers may put it elsewhere).
fn main_part<R: Read + std::io::Seek>(
    zip: &mut zip::ZipArchive<R>,
    budget: &mut u64,
) -> Result<String, Unreadable> {
    const DEFAULT: &str = "word/document.xml";
    let Some(rels) = entry(zip, "_rels/.rels", budget)? else {
        return Ok(DEFAULT.to_string());
    };
    let mut reader = Reader::from_reader(rels.as_slice());
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e) | Event::Empty(e)) if e.local_name().as_ref() == b"Relationship" => {
                let kind = attribute(&e, b"Type").unwrap_or_default();
                if kind.ends_with("/officeDocument") {
                    if let Some(target) = attribute(&e, b"Target") {
                        return Ok(target.trim_start_matches('/').to_string());
                    }
                }
            }
            Ok(Event::Eof) => return Ok(DEFAULT.to_string()),
            Ok(_) => {}
            Err(e) => return Err(xml_error("_rels/.rels", e)),
        }
        buf.clear();
    }
}

/// A zip entry inflated, or `None` when the file has no such entry. The entry's declared
/// size is checked first and its actual one while it inflates (a zip can lie about it),
/// both against what is left of `budget`.
fn entry<R: Read + std::io::Seek>(
    zip: &mut zip::ZipArchive<R>,
    name: &str,
    budget: &mut u64,
) -> Result<Option<Vec<u8>>, Unreadable> {
    let file = match zip.by_name(name) {
        Ok(file) => file,
        Err(zip::result::ZipError::FileNotFound) => return Ok(None),
        Err(e) => {
            return Err(Unreadable::new(format!(
                "its part {name} could not be read ({})",
                one_line(e)
            )))
        }
    };
    let too_big = || {
        Unreadable::new(format!(
            "inflates past the limit ({name} is larger than what is left of the {} bytes \
             allowed; a zip bomb?)",
            *budget
        ))
    };
    if file.size() > *budget {
        return Err(too_big());
    }
    let mut out = Vec::new();
    file.take(budget.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|e| {
            Unreadable::new(format!(
                "its part {name} is corrupt or truncated ({})",
                one_line(e)
            ))
        })?;
    if out.len() as u64 > *budget {
        return Err(too_big());
    }
    *budget -= out.len() as u64;
    Ok(Some(out))
}

fn attribute(e: &BytesStart, local: &[u8]) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == local)
        .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()))
}

fn xml_error(part: &str, e: quick_xml::Error) -> Unreadable {
    Unreadable::new(format!(
        "its part {part} is not well-formed XML ({})",
        one_line(e)
    ))
}

/// Style ids and their names ("Heading1" → "heading 1"), lowercased: a paragraph names its
/// style by id, and the id is the name only in English Word.
fn style_names(xml: &[u8]) -> Result<Vec<(String, String)>, Unreadable> {
    let mut reader = Reader::from_reader(xml);
    let mut buf = Vec::new();
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e)) if e.local_name().as_ref() == b"style" => {
                current = attribute(&e, b"styleId");
            }
            Ok(Event::Start(e) | Event::Empty(e)) if e.local_name().as_ref() == b"name" => {
                if let (Some(id), Some(name)) = (current.take(), attribute(&e, b"val")) {
                    out.push((id, name.to_lowercase()));
                }
            }
            Ok(Event::Eof) => return Ok(out),
            Ok(_) => {}
            Err(e) => return Err(xml_error("word/styles.xml", e)),
        }
        buf.clear();
    }
}

/// dc:title, dc:creator and dcterms:created (→ `YYYY-MM-DD`).
fn core_properties(xml: &[u8], out: &mut Extracted) -> Result<(), Unreadable> {
    let mut reader = Reader::from_reader(xml);
    let mut buf = Vec::new();
    let mut field: Option<Vec<u8>> = None;
    let mut text = String::new();
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e)) => {
                field = Some(e.local_name().as_ref().to_vec());
                text.clear();
            }
            Ok(Event::Text(t)) => {
                if let Ok(s) = t.decode() {
                    text.push_str(&s);
                }
            }
            Ok(Event::GeneralRef(r)) => push_ref(&mut text, &r),
            Ok(Event::End(_)) => {
                let value = text.split_whitespace().collect::<Vec<_>>().join(" ");
                match field.take().as_deref() {
                    _ if value.is_empty() => {}
                    Some(b"title") => out.title = Some(value),
                    Some(b"creator") => out.author = Some(value),
                    Some(b"created") => out.date = super::text::iso_date(&value),
                    _ => {}
                }
                text.clear();
            }
            Ok(Event::Eof) => return Ok(()),
            Ok(_) => {}
            Err(e) => return Err(xml_error("docProps/core.xml", e)),
        }
        buf.clear();
    }
}

/// An entity reference in text: `&amp;`, `&#8217;`...
fn push_ref(text: &mut String, r: &quick_xml::events::BytesRef) {
    if let Ok(Some(c)) = r.resolve_char_ref() {
        text.push(c);
    } else if let Ok(name) = r.decode() {
        if let Some(s) = quick_xml::escape::resolve_predefined_entity(&name) {
            text.push_str(s);
        }
    }
}

/// A table being read: the row's cells so far and the cell's text.
#[derive(Default)]
struct Table {
    row: Vec<String>,
    cell: String,
}

/// What the main part says: its paragraphs, and the paragraphs in the Caption, Title and
/// Subtitle styles, which are not body text.
#[derive(Debug, Default)]
struct Body {
    paragraphs: Vec<String>,
    /// A figure's or a table's caption, in Word's Caption style.
    captions: Vec<String>,
    title: Option<String>,
    subtitle: Option<String>,
}

/// Where the reading of the main part stands, event by event.
struct Walk<'s> {
    /// Style ids and their names (see [`style_names`]).
    styles: &'s [(String, String)],
    out: Body,
    /// Open paragraphs, (text, style name): a text box's paragraphs sit inside the paragraph
    /// that anchors it.
    open: Vec<(String, String)>,
    tables: Vec<Table>,
    in_text: bool,
    /// Inside mc:Fallback, which repeats mc:Choice's content for older readers.
    fallback: usize,
}

/// The document's text as paragraphs, its captions, and the paragraphs in the Title and
/// Subtitle styles.
fn body(xml: &[u8], styles: &[(String, String)]) -> Result<Body, Unreadable> {
    let mut reader = Reader::from_reader(xml);
    let mut buf = Vec::new();
    let mut walk = Walk {
        styles,
        out: Body::default(),
        open: Vec::new(),
        tables: Vec::new(),
        in_text: false,
        fallback: 0,
    };
    loop {
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|e| xml_error("word/document.xml", e))?;
        let reading = walk.in_text && walk.fallback == 0;
        match event {
            Event::Start(e) => walk.start(&e),
            Event::Empty(e) if walk.fallback == 0 => walk.empty(&e),
            Event::Text(t) if reading => {
                if let (Some(p), Ok(s)) = (walk.open.last_mut(), t.decode()) {
                    p.0.push_str(&s);
                }
            }
            Event::GeneralRef(r) if reading => {
                if let Some(p) = walk.open.last_mut() {
                    push_ref(&mut p.0, &r);
                }
            }
            Event::End(e) => walk.end(e.local_name().as_ref()),
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    Ok(walk.out)
}

impl Walk<'_> {
    fn start(&mut self, e: &BytesStart) {
        match e.local_name().as_ref() {
            b"Fallback" => self.fallback += 1,
            _ if self.fallback > 0 => {}
            b"p" => self.open.push((String::new(), String::new())),
            b"t" if e.name().prefix().is_none_or(|p| p.as_ref() != b"a") => self.in_text = true,
            b"tbl" => self.tables.push(Table::default()),
            b"tr" => {
                if let Some(t) = self.tables.last_mut() {
                    t.row.clear();
                }
            }
            b"tc" => {
                if let Some(t) = self.tables.last_mut() {
                    t.cell.clear();
                }
            }
            _ => {}
        }
    }

    /// An empty element: a paragraph's style, or a tab or break, which parts words.
    fn empty(&mut self, e: &BytesStart) {
        match e.local_name().as_ref() {
            b"pStyle" => {
                if let (Some(p), Some(id)) = (self.open.last_mut(), attribute(e, b"val")) {
                    p.1 = self
                        .styles
                        .iter()
                        .find(|(i, _)| *i == id)
                        .map_or_else(|| id.to_lowercase(), |(_, n)| n.clone());
                }
            }
            b"tab" | b"br" | b"cr" => {
                if let Some(p) = self.open.last_mut() {
                    p.0.push(' ');
                }
            }
            _ => {}
        }
    }

    fn end(&mut self, local: &[u8]) {
        match local {
            b"Fallback" => self.fallback = self.fallback.saturating_sub(1),
            _ if self.fallback > 0 => {}
            b"t" => self.in_text = false,
            b"p" => self.end_paragraph(),
            b"tc" => {
                if let Some(t) = self.tables.last_mut() {
                    let cell = std::mem::take(&mut t.cell);
                    t.row.push(cell);
                }
            }
            b"tr" => self.end_row(),
            b"tbl" => {
                self.tables.pop();
            }
            _ => {}
        }
    }

    /// A paragraph ends: into its table cell, or the title, the captions or the body.
    fn end_paragraph(&mut self) {
        let Some((text, style)) = self.open.pop() else {
            return;
        };
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if text.is_empty() {
            return;
        }
        let out = &mut self.out;
        if style == "title" && out.title.is_none() {
            out.title = Some(text.clone());
        } else if style == "subtitle" && out.subtitle.is_none() {
            out.subtitle = Some(text.clone());
        }
        // A paragraph in a table cell is part of the cell; one in a text box inside another
        // paragraph still stands on its own.
        match self.tables.last_mut() {
            Some(t) if self.open.is_empty() => {
                if !t.cell.is_empty() {
                    t.cell.push(' ');
                }
                t.cell.push_str(&text);
            }
            _ if style == "caption" => out.captions.push(text),
            _ => out.paragraphs.push(text),
        }
    }

    /// A table row ends: one paragraph, its cells joined by " | ", or part of the cell of
    /// the table it is nested in.
    fn end_row(&mut self) {
        let Some(t) = self.tables.last_mut() else {
            return;
        };
        let row = std::mem::take(&mut t.row);
        if row.iter().all(|c| c.is_empty()) {
            return;
        }
        let row = row.join(" | ");
        let depth = self.tables.len();
        match self.tables.get_mut(depth.wrapping_sub(2)) {
            Some(outer) if depth >= 2 => {
                if !outer.cell.is_empty() {
                    outer.cell.push(' ');
                }
                outer.cell.push_str(&row);
            }
            _ => self.out.paragraphs.push(row),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{assert_seed_article, paragraphs};
    use super::*;
    use std::io::Write;

    const MAX: u64 = 10 << 20;
    const ARTICLE: &[u8] = include_bytes!("../../tests/data/formats/article.docx");
    const TABLE: &[u8] = include_bytes!("../../tests/data/formats/table.docx");

    #[test]
    fn article_core_properties_every_paragraph_and_the_captions_apart() {
        let doc = read(ARTICLE, MAX).expect("article.docx reads");
        assert_seed_article(&doc, "article.docx");
        assert_eq!(
            doc.subtitle.as_deref(),
            Some("How Moscow Is Preparing to Go It Alone")
        );
        // Headings are paragraphs of their own.
        let got = paragraphs(&doc.body);
        assert!(got
            .iter()
            .any(|p| p == "Moscow has established a relationship with the Taliban’s leadership."));
    }

    #[test]
    fn table_rows_as_paragraphs() {
        let doc = read(TABLE, MAX).expect("table.docx reads");
        let got = paragraphs(&doc.body);
        assert_eq!(
            doc.title.as_deref(),
            Some("Russian diplomacy on Afghanistan, 2016-2017")
        );
        for row in [
            "Round | Date | Participants",
            "Second | February 2017 | China, Iran, Pakistan, Afghanistan, India",
            "Third | April 2017 | Central Asian republics joined",
        ] {
            assert!(got.iter().any(|p| p == row), "{row} not in {got:#?}");
        }
        // The table's caption is a caption; the table, then the paragraph after it.
        assert_eq!(doc.captions, ["Table 1. Rounds of the Moscow talks"]);
        let before = got.iter().position(|p| p.starts_with("Moscow hosted"));
        let first = got.iter().position(|p| p.starts_with("Round |"));
        let after = got
            .iter()
            .position(|p| p.starts_with("The United States declined"));
        assert!(before < first && first < after, "{got:#?}");
    }

    /// A zip holding `document` as word/document.xml.
    fn docx_with(document: &[u8]) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        let mut zip = zip::ZipWriter::new(&mut out);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        zip.start_file("word/document.xml", options).expect("zip");
        zip.write_all(document).expect("zip");
        zip.finish().expect("zip");
        out.into_inner()
    }

    #[test]
    fn a_zip_bomb_stops_at_the_limit() {
        let mut xml = b"<w:document xmlns:w=\"w\"><w:body><w:p><w:r><w:t>".to_vec();
        xml.extend(std::iter::repeat_n(b'a', 5 << 20));
        xml.extend_from_slice(b"</w:t></w:r></w:p></w:body></w:document>");
        let bomb = docx_with(&xml);
        assert!(bomb.len() < 100_000, "{}", bomb.len());
        let err = read(&bomb, 1 << 20).unwrap_err();
        assert!(err.0.contains("limit"), "{err}");
        assert!(read(&bomb, 10 << 20).is_ok());
    }

    #[test]
    fn deep_nesting_costs_no_stack() {
        let mut xml = b"<w:document xmlns:w=\"w\"><w:body>".to_vec();
        xml.extend(b"<w:tbl><w:tr><w:tc>".repeat(100_000));
        xml.extend_from_slice(b"<w:p><w:r><w:t>deep</w:t></w:r></w:p>");
        xml.extend(b"</w:tc></w:tr></w:tbl>".repeat(100_000));
        xml.extend_from_slice(b"</w:body></w:document>");
        let doc = read(&docx_with(&xml), MAX).expect("reads");
        assert_eq!(doc.body, "deep");
    }

    #[test]
    fn truncated_or_not_a_zip_is_unreadable() {
        for cut in [ARTICLE.len() / 2, ARTICLE.len() - 30, 10, 0] {
            let err = read(&ARTICLE[..cut], MAX).unwrap_err();
            assert!(!err.0.contains('\n'), "{err}");
        }
        assert!(read(b"PK\x03\x04 not really a zip", MAX).is_err());
        assert!(read(include_bytes!("../../tests/data/formats/article.pdf"), MAX).is_err());
        let err = read(&docx_with(b"<w:document><w:body><w:p>"), MAX);
        assert!(err.is_err() || err.is_ok_and(|d| d.body.is_empty()));
    }
}
