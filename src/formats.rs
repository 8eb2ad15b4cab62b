//! Documents as people have them: plain text and Markdown (with citebot's `+++` header or
//! without), PDF, saved web pages and Word files, each read into one shape, [`Extracted`]:
//! what the file says of itself (title, author, date...), its text as paragraphs and the
//! captions the format marks as such, which the knowledge then cuts into passages the same
//! way whatever the format.
//!
//! A file that cannot be read (a scan with no text, a locked PDF, a truncated zip) is a
//! [`Unreadable`] with a reason a person can act on; the knowledge skips it and goes on.

use std::path::Path;

mod docx;
mod html;
mod pdf;
mod text;

/// What a file yields: its own metadata, where it has any, and its text.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Extracted {
    pub title: Option<String>,
    pub subtitle: Option<String>,
    pub author: Option<String>,
    /// `YYYY-MM-DD`.
    pub date: Option<String>,
    pub publication: Option<String>,
    /// Where the document lives on the web (a page's canonical link).
    pub url: Option<String>,
    /// The text: paragraphs separated by blank lines, lines within one joined or not (the
    /// cutting joins them).
    pub body: String,
    /// For paged formats (PDF): the byte offset in `body` where each page starts, page 1
    /// first. Empty for the rest.
    pub pages: Vec<usize>,
    /// The figure and photo captions the format marks as captions (a web page's
    /// `<figcaption>`, Word's Caption style, a PDF's caption type), in reading order, taken
    /// out of `body`: the cutting knows a scraped caption only by its being given twice,
    /// and a marked one is a caption however often it is given.
    pub captions: Vec<String>,
}

impl Extracted {
    /// The page (from 1) of the byte `offset` of the body, for paged formats.
    pub fn page_at(&self, offset: usize) -> Option<u32> {
        if self.pages.is_empty() {
            return None;
        }
        let page = self.pages.partition_point(|&start| start <= offset);
        Some(page.max(1) as u32)
    }
}

/// Why a file was not read, said so that whoever keeps the knowledge can act on it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Unreadable(pub String);

impl Unreadable {
    pub fn new(why: impl Into<String>) -> Unreadable {
        Unreadable(why.into())
    }
}

/// The kinds of file the knowledge folder reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Markdown,
    Html,
    Docx,
    Pdf,
}

impl Format {
    /// The format a file's extension says, `None` for files the knowledge does not read.
    pub fn of(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        Some(match ext.as_str() {
            "txt" | "text" => Format::Text,
            "md" | "markdown" => Format::Markdown,
            "html" | "htm" | "xhtml" => Format::Html,
            "docx" => Format::Docx,
            "pdf" => Format::Pdf,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Markdown => "Markdown",
            Format::Html => "HTML",
            Format::Docx => "Word",
            Format::Pdf => "PDF",
        }
    }
}

/// Reads `bytes`, a file of `format`, refusing to inflate it past `max_bytes` (a zip bomb,
/// a PDF's compressed streams).
pub fn read(format: Format, bytes: &[u8], max_bytes: u64) -> Result<Extracted, Unreadable> {
    match format {
        Format::Text => Ok(text::plain(&text::decode(bytes)?)),
        Format::Markdown => Ok(text::markdown(&text::decode(bytes)?)),
        Format::Html => html::read(bytes, max_bytes),
        Format::Docx => docx::read(bytes, max_bytes),
        Format::Pdf => pdf::read(bytes, max_bytes),
    }
}

pub use text::{decode, markdown, plain};

/// What the format readers' tests share: the seed article, the text the fixtures under
/// tests/data/formats were made from (by make.py there).
#[cfg(test)]
mod test_support {
    use super::Extracted;

    const SEED: &str = include_str!("../knowledge/russias-afghanistan-strategy.txt");

    pub fn collapse(s: &str) -> String {
        s.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    /// The seed's body (after its `+++` header) as make.py reads it: one paragraph a
    /// non-empty line.
    pub fn seed_lines() -> Vec<String> {
        let body = SEED.splitn(3, "+++").nth(2).unwrap_or_default();
        body.lines()
            .map(collapse)
            .filter(|l| !l.is_empty())
            .collect()
    }

    /// The seed's photo captions, each once: the lines it gives twice in a row, as the site
    /// gives them (make.py's CAPTIONS).
    pub fn seed_captions() -> Vec<String> {
        let lines = seed_lines();
        lines
            .windows(2)
            .filter(|pair| pair[0] == pair[1])
            .map(|pair| pair[0].clone())
            .collect()
    }

    /// The seed's paragraphs of 15 words or more (short pull quotes aside), captions aside,
    /// each once.
    pub fn seed_paragraphs() -> Vec<String> {
        let captions = seed_captions();
        let mut out: Vec<String> = Vec::new();
        for line in seed_lines() {
            if line.split(' ').count() >= 15 && !out.contains(&line) && !captions.contains(&line) {
                out.push(line);
            }
        }
        out
    }

    /// A body's paragraphs, whitespace collapsed.
    pub fn paragraphs(body: &str) -> Vec<String> {
        body.split("\n\n")
            .map(collapse)
            .filter(|p| !p.is_empty())
            .collect()
    }

    /// What the seed's header says of it, read from `file` by its own means.
    pub fn assert_seed_metadata(found: &Extracted, file: &str) {
        assert_eq!(
            found.title.as_deref(),
            Some("Russia's Afghanistan Strategy"),
            "{file}"
        );
        assert_eq!(found.author.as_deref(), Some("Julia Gurganus"), "{file}");
        assert_eq!(found.date.as_deref(), Some("2018-01-02"), "{file}");
    }

    /// `file`, the seed article in a format that marks captions, read whole: its metadata,
    /// every paragraph whole in the body, and the photo captions apart from it (each as
    /// often as the file gives it).
    pub fn assert_seed_article(doc: &Extracted, file: &str) {
        assert_seed_metadata(doc, file);
        let got = paragraphs(&doc.body);
        let seed = seed_paragraphs();
        let missing: Vec<&String> = seed.iter().filter(|p| !got.contains(p)).collect();
        eprintln!(
            "{file}: {} of {} seed paragraphs found whole",
            seed.len() - missing.len(),
            seed.len()
        );
        assert!(missing.is_empty(), "{file}: not found whole: {missing:#?}");
        let captions: Vec<String> = doc.captions.iter().map(|c| collapse(c)).collect();
        let mut once = captions.clone();
        once.dedup();
        assert_eq!(once, seed_captions(), "{file}: captions");
        for caption in &captions {
            assert!(!got.contains(caption), "{file}: a caption in the body");
        }
    }
}
