//! The documents citebot answers from, and how raw scraped text becomes passages.
//!
//! A document is one file in the knowledge folder: text or Markdown, a PDF, a saved web page
//! or a Word file (read by [`crate::formats`], which also finds its title, author and date).
//! Text may start with a TOML metadata header between `+++` lines (title, author,
//! publication, date, url), and any file may have one beside it, `NAME.toml`: either
//! overrides what was found. A file that cannot be read is skipped, named with its reason in
//! [`Knowledge::skipped`]; the rest are answered from. Scraped articles
//! carry more than their body: photo captions (often twice, once as alt text and once as the
//! caption), photo credits, pull quotes repeated from the body, paywall text and the author's
//! note. [`passages`] (in the `cut` submodule) sorts these out by the shape of the text, not
//! by line numbers, so any similar article dropped into the folder is cut the same way.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::{Digest, Sha256};

// Documents are English until their header names a language: their dates, abbreviations,
// paywall prompts and stop words are English ones.
use crate::formats::{Extracted, Format};
use crate::lang;

mod cut;
pub use cut::{passages, passages_with_captions, Cut, DropRule, Dropped};

/// The file in the knowledge folder that holds synonyms rather than a document.
pub const SYNONYMS_FILE: &str = "synonyms.txt";

/// Why the knowledge could not be loaded. Each variant names the file at fault.
#[derive(Debug, thiserror::Error)]
pub enum KnowledgeError {
    #[error("knowledge folder {0} cannot be read: {1}")]
    Folder(PathBuf, std::io::Error),
    #[error("knowledge folder {0} holds no documents (text, Markdown, PDF, HTML or Word files)")]
    Empty(PathBuf),
    #[error("knowledge folder {0}: no document could be read ({list})", list = skipped_list(.1))]
    NoneReadable(PathBuf, Vec<Skipped>),
    #[error("{0}: {1}")]
    Format(PathBuf, crate::formats::Unreadable),
    #[error("{0}: cannot be read: {1}")]
    Unreadable(PathBuf, std::io::Error),
    #[error("{0}: no metadata header: the file must start with a line `+++`, TOML metadata (title, url, ...), and another `+++`")]
    NoMetadata(PathBuf),
    #[error("{0}: bad metadata: {1}")]
    BadMetadata(PathBuf, String),
    #[error("{0}: no passages found in the text")]
    NoPassages(PathBuf),
    #[error("{0}: {1} MB, over the limit of {2} MB a document (MAX_DOCUMENT_MB)")]
    TooLarge(PathBuf, u64, u64),
}

/// The files skipped and why, on one line (an error is one line).
fn skipped_list(skipped: &[Skipped]) -> String {
    skipped
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Documents larger than this are refused unless `MAX_DOCUMENT_MB` says otherwise.
pub const DEFAULT_MAX_DOCUMENT_MB: u64 = 64;

/// What a document's header says about it.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Metadata {
    pub title: String,
    #[serde(default)]
    pub subtitle: Option<String>,
    #[serde(default)]
    pub author: Option<String>,
    #[serde(default)]
    pub publication: Option<String>,
    /// `YYYY-MM-DD`.
    #[serde(default)]
    pub date: Option<String>,
    /// Where the document lives on the web; a file of one's own has none.
    #[serde(default)]
    pub url: Option<String>,
    /// Questions the bot offers as buttons when a user starts it.
    #[serde(default)]
    pub examples: Vec<String>,
    /// The language it is written in (`language = "ru"`); without it, told from its text.
    #[serde(default)]
    pub language: Option<crate::lang::Lang>,
}

impl Metadata {
    /// The title with its subtitle, as a reader would quote it.
    pub fn full_title(&self) -> String {
        match &self.subtitle {
            Some(sub) => format!("{}: {}", self.title, sub),
            None => self.title.clone(),
        }
    }

    /// The date as people write it ("2 January 2018"); loading refuses any but `YYYY-MM-DD`.
    pub fn human_date(&self) -> Option<String> {
        let date = self.date.as_deref()?;
        Some(human_date(date).unwrap_or_else(|| date.to_string()))
    }
}

fn human_date(iso: &str) -> Option<String> {
    let mut parts = iso.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || y.len() != 4 {
        return None;
    }
    let month = lang::english().month(m.parse::<usize>().ok()?)?;
    let day: u32 = d.parse().ok().filter(|d| (1..=31).contains(d))?;
    y.parse::<u32>().ok()?;
    Some(format!("{day} {month} {y}"))
}

/// What a reload changed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Changes {
    /// The titles of the documents added and removed.
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub passages_added: usize,
    pub passages_removed: usize,
    /// What there is now.
    pub documents: usize,
    pub passages: usize,
    /// The files of the new knowledge that could not be read.
    pub skipped: Vec<Skipped>,
}

/// A file of the knowledge folder that was not read: the knowledge goes on without it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub path: PathBuf,
    /// Why, as a person can act on it ("has no text layer (a scan?)...").
    pub reason: String,
}

impl fmt::Display for Skipped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.reason)
    }
}

/// What a `NAME.toml` beside a document (or the `+++` header in it) may say: each field
/// overrides what was found in the file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Overrides {
    title: Option<String>,
    subtitle: Option<String>,
    author: Option<String>,
    publication: Option<String>,
    date: Option<String>,
    url: Option<String>,
    #[serde(default)]
    examples: Vec<String>,
    language: Option<crate::lang::Lang>,
}

/// One document of the knowledge folder.
#[derive(Debug, Clone)]
pub struct Document {
    /// The file name without its extension: stable, and short enough for button data.
    pub id: String,
    pub path: PathBuf,
    pub meta: Metadata,
    /// The language of its text: as its header says, else told from its text.
    pub language: crate::lang::Lang,
    /// The lines of its body that are not passages, each with the rule that dropped it.
    pub dropped: Vec<Dropped>,
    /// The kind of file it was read from.
    pub format: Format,
}

/// What part of a document a passage is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PassageKind {
    /// A body paragraph, numbered ¶1, ¶2, ... in reading order.
    Paragraph,
    /// A photo caption.
    Caption,
    /// The note about the author at the end of the article.
    AuthorNote,
    /// What the metadata says about the document: title, publication, date.
    About,
}

impl PassageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PassageKind::Paragraph => "paragraph",
            PassageKind::Caption => "caption",
            PassageKind::AuthorNote => "author_note",
            PassageKind::About => "about",
        }
    }
}

/// A unit of retrieval and citation.
#[derive(Debug, Clone)]
pub struct Passage {
    /// Index of the document in [`Knowledge::documents`].
    pub doc: usize,
    pub kind: PassageKind,
    /// ¶N for paragraphs; the ordinal among captions for captions; 1 otherwise.
    pub number: u32,
    pub text: String,
    /// Byte ranges of the sentences of `text`.
    pub sentences: Vec<Range<usize>>,
    /// The page it starts on, in a paged document (PDF).
    pub page: Option<u32>,
}

impl Passage {
    fn new(doc: usize, kind: PassageKind, number: u32, text: String) -> Passage {
        let sentences = sentences(&text);
        Passage {
            doc,
            kind,
            number,
            text,
            sentences,
            page: None,
        }
    }

    /// How a citation names the passage: `¶3` (`p. 2, ¶3` in a paged document), `photo
    /// caption 2`, `about the author`.
    pub fn label(&self) -> String {
        match self.kind {
            PassageKind::Paragraph => match self.page {
                Some(page) => format!("p. {page}, ¶{}", self.number),
                None => format!("¶{}", self.number),
            },
            PassageKind::Caption => format!("photo caption {}", self.number),
            PassageKind::AuthorNote => "about the author".to_string(),
            PassageKind::About => "about this article".to_string(),
        }
    }

    /// Words that describe the passage without being in it, indexed beside its text so that
    /// "the photo" finds a caption and "the author" finds the author's note.
    pub fn context(&self, meta: &Metadata) -> String {
        match self.kind {
            PassageKind::Paragraph => String::new(),
            PassageKind::Caption => "photo picture image caption".to_string(),
            PassageKind::AuthorNote => {
                format!("author {}", meta.author.as_deref().unwrap_or_default())
            }
            PassageKind::About => {
                "article title topic subject publication published date".to_string()
            }
        }
    }
}

/// Every document of a knowledge folder and all their passages.
#[derive(Debug, Clone, Default)]
pub struct Knowledge {
    pub documents: Vec<Document>,
    pub passages: Vec<Passage>,
    /// A hash of every document file (name and contents): a persistent index built from the
    /// same fingerprint holds the same passages.
    pub fingerprint: String,
    /// The files that could not be read, each with its reason.
    pub skipped: Vec<Skipped>,
}

impl Knowledge {
    /// Reads every document of `dir` (text, Markdown, PDF, HTML, Word; not the synonyms
    /// file), in file-name order so that passage numbers and ties are the same on every
    /// machine. A file that cannot be read is skipped and named in [`Knowledge::skipped`];
    /// only a folder with none readable is an error.
    pub fn load(dir: &Path) -> Result<Knowledge, KnowledgeError> {
        Knowledge::load_limited(dir, DEFAULT_MAX_DOCUMENT_MB)
    }

    /// [`Knowledge::load`], skipping any document over `max_mb` megabytes (10^6 bytes), on
    /// disk or once inflated, before reading more of it.
    pub fn load_limited(dir: &Path, max_mb: u64) -> Result<Knowledge, KnowledgeError> {
        let entries =
            std::fs::read_dir(dir).map_err(|e| KnowledgeError::Folder(dir.to_path_buf(), e))?;
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| is_document_file(p))
            .collect();
        files.sort();
        if files.is_empty() {
            return Err(KnowledgeError::Empty(dir.to_path_buf()));
        }
        let mut knowledge = Knowledge::default();
        let mut hasher = Sha256::new();
        for path in files {
            match knowledge.read_file(&path, max_mb) {
                Ok(read) => {
                    hasher.update(path.file_name().unwrap_or_default().as_encoded_bytes());
                    hasher.update([0]);
                    hasher.update(read);
                }
                Err(e) => {
                    let reason = e.to_string();
                    let reason = reason
                        .strip_prefix(&format!("{}: ", path.display()))
                        .unwrap_or(&reason)
                        .to_string();
                    knowledge.skipped.push(Skipped { path, reason });
                }
            }
        }
        if knowledge.documents.is_empty() {
            // The error names each file and why: said once, not also in the log.
            return Err(KnowledgeError::NoneReadable(
                dir.to_path_buf(),
                knowledge.skipped,
            ));
        }
        for s in &knowledge.skipped {
            tracing::warn!(file = %s.path.display(), reason = %s.reason, "skipped");
        }
        knowledge.fingerprint = hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Ok(knowledge)
    }

    /// Reads one file (and its `NAME.toml`, if any) into a document. Returns the hash of what
    /// was read, for the fingerprint.
    fn read_file(&mut self, path: &Path, max_mb: u64) -> Result<[u8; 32], KnowledgeError> {
        let max_bytes = max_mb.saturating_mul(1_000_000);
        let unreadable = |e| KnowledgeError::Unreadable(path.to_path_buf(), e);
        let size = std::fs::metadata(path).map_err(unreadable)?.len();
        if size > max_bytes {
            return Err(KnowledgeError::TooLarge(
                path.to_path_buf(),
                size.div_ceil(1_000_000),
                max_mb,
            ));
        }
        let bytes = std::fs::read(path).map_err(unreadable)?;
        let sidecar_path = sidecar(path);
        let sidecar_text = match std::fs::read_to_string(&sidecar_path) {
            Ok(text) => Some(text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(KnowledgeError::Unreadable(sidecar_path, e)),
        };
        let mut hasher = Sha256::new();
        hasher.update(&bytes);
        hasher.update(sidecar_text.as_deref().unwrap_or_default());
        let overrides = match &sidecar_text {
            Some(text) => Some(parse_overrides(&sidecar_path, text, 1)?),
            None => None,
        };
        let format = Format::of(path).unwrap_or(Format::Text);
        let format_error = |e| KnowledgeError::Format(path.to_path_buf(), e);
        let text_like = matches!(format, Format::Text | Format::Markdown);
        let decoded = if text_like {
            Some(crate::formats::decode(&bytes).map_err(format_error)?)
        } else {
            None
        };
        match decoded.as_deref().and_then(|text| split_header(text)) {
            Some((header, body)) => {
                let mut found = parse_overrides(path, header, 2)?;
                if let Some(sidecar) = overrides {
                    found = sidecar.over(found);
                }
                let extracted = Extracted {
                    body: body.to_string(),
                    ..Extracted::default()
                };
                self.add_extracted(path, format, found, &extracted)?;
            }
            None => {
                let extracted = match decoded {
                    Some(text) if format == Format::Markdown => crate::formats::markdown(&text),
                    Some(text) => crate::formats::plain(&text),
                    None => {
                        crate::formats::read(format, &bytes, max_bytes).map_err(format_error)?
                    }
                };
                self.add_extracted(path, format, overrides.unwrap_or_default(), &extracted)?;
            }
        }
        Ok(hasher.finalize().into())
    }

    /// Adds one document from its raw file contents (text with a `+++` header).
    pub fn add(&mut self, path: &Path, raw: &str) -> Result<(), KnowledgeError> {
        let (meta, body) = parse_document(path, raw)?;
        let extracted = Extracted {
            body: body.to_string(),
            ..Extracted::default()
        };
        self.add_document(path, Format::Text, meta, &extracted)
    }

    /// Adds what was read of one file, `overrides` (its header, its sidecar) over what the
    /// file said of itself.
    fn add_extracted(
        &mut self,
        path: &Path,
        format: Format,
        overrides: Overrides,
        extracted: &Extracted,
    ) -> Result<(), KnowledgeError> {
        let meta = overrides.metadata(path, extracted)?;
        self.add_document(path, format, meta, extracted)
    }

    fn add_document(
        &mut self,
        path: &Path,
        format: Format,
        meta: Metadata,
        extracted: &Extracted,
    ) -> Result<(), KnowledgeError> {
        let body = extracted.body.as_str();
        let doc = self.documents.len();
        let Cut {
            mut passages,
            dropped,
        } = passages_with_captions(doc, &meta, body, &extracted.captions);
        if !passages.iter().any(|p| p.kind == PassageKind::Paragraph) {
            return Err(KnowledgeError::NoPassages(path.to_path_buf()));
        }
        if !extracted.pages.is_empty() {
            place_on_pages(&mut passages, extracted);
        }
        let id = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| format!("doc{doc}"));
        let language = meta
            .language
            .or_else(|| crate::lang::Lang::detect(body))
            .unwrap_or_default();
        self.documents.push(Document {
            id,
            path: path.to_path_buf(),
            meta,
            language,
            dropped,
            format,
        });
        self.passages.extend(passages);
        Ok(())
    }

    pub fn document(&self, passage: &Passage) -> &Document {
        &self.documents[passage.doc]
    }

    /// Where the metadata passage quotes its document's title (`None` for other passages).
    pub fn quoted_title(&self, passage: &Passage) -> Option<Range<usize>> {
        if passage.kind != PassageKind::About {
            return None;
        }
        let title = self.document(passage).meta.full_title();
        let start = passage.text.find(&title)?;
        Some(start..start + title.len())
    }

    /// What changed from `self` to `new`: documents (by file name) and passages (by their
    /// document and text) added and removed.
    pub fn changes_to(&self, new: &Knowledge) -> Changes {
        use std::collections::HashSet;
        let docs = |k: &Knowledge| -> HashSet<String> {
            k.documents.iter().map(|d| d.id.clone()).collect()
        };
        let passages = |k: &Knowledge| -> HashSet<(String, String)> {
            k.passages
                .iter()
                .map(|p| (k.document(p).id.clone(), p.text.clone()))
                .collect()
        };
        let (old_docs, new_docs) = (docs(self), docs(new));
        let (old_passages, new_passages) = (passages(self), passages(new));
        let titled = |k: &Knowledge, ids: Vec<&String>| -> Vec<String> {
            let mut titles: Vec<String> = k
                .documents
                .iter()
                .filter(|d| ids.contains(&&d.id))
                .map(|d| d.meta.title.clone())
                .collect();
            titles.sort();
            titles
        };
        Changes {
            added: titled(new, new_docs.difference(&old_docs).collect()),
            removed: titled(self, old_docs.difference(&new_docs).collect()),
            passages_added: new_passages.difference(&old_passages).count(),
            passages_removed: old_passages.difference(&new_passages).count(),
            documents: new.documents.len(),
            passages: new.passages.len(),
            skipped: new.skipped.clone(),
        }
    }

    /// The ids of document `doc`'s passages (they are added together, so they are a range).
    pub fn passage_ids_of(&self, doc: usize) -> std::ops::Range<usize> {
        let start = self.passages.partition_point(|p| p.doc < doc);
        let end = self.passages.partition_point(|p| p.doc <= doc);
        start..end
    }
}

/// Whether the knowledge reads `path`: a file of a format it knows, not the synonyms file,
/// not hidden.
pub fn is_document_file(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    // Not a folder; but a link whose target is gone is a document that cannot be read (a
    // reason that names it), not one to skip in silence.
    Format::of(path).is_some() && name != SYNONYMS_FILE && !name.starts_with('.') && !path.is_dir()
}

/// Where a document's metadata may be kept beside it: `NAME.toml` for `NAME.pdf`.
pub fn sidecar(path: &Path) -> PathBuf {
    path.with_extension("toml")
}

/// The TOML between a text's `+++` lines, and the body after them; `None` without a header.
fn split_header(raw: &str) -> Option<(&str, &str)> {
    let raw = raw.strip_prefix('\u{feff}').unwrap_or(raw);
    let rest = raw
        .strip_prefix("+++\n")
        .or_else(|| raw.strip_prefix("+++\r\n"))?;
    let end = rest
        .match_indices("+++")
        .find(|(i, _)| *i == 0 || rest[..*i].ends_with('\n'))
        .map(|(i, _)| i)?;
    Some((
        &rest[..end],
        rest[end + 3..].trim_start_matches(['\r', '\n']),
    ))
}

/// Reads metadata TOML (a header starting on line `first_line` of `path`, or a sidecar).
fn parse_overrides(
    path: &Path,
    toml_text: &str,
    first_line: usize,
) -> Result<Overrides, KnowledgeError> {
    toml::from_str(toml_text).map_err(|e: toml::de::Error| {
        let why = match e.span() {
            Some(span) => format!(
                "line {}: {}",
                toml_text[..span.start.min(toml_text.len())]
                    .matches('\n')
                    .count()
                    + first_line,
                one_line(e.message())
            ),
            None => one_line(e.message()),
        };
        KnowledgeError::BadMetadata(path.to_path_buf(), why)
    })
}

impl Overrides {
    /// `self`'s fields over `under`'s.
    fn over(self, under: Overrides) -> Overrides {
        Overrides {
            title: self.title.or(under.title),
            subtitle: self.subtitle.or(under.subtitle),
            author: self.author.or(under.author),
            publication: self.publication.or(under.publication),
            date: self.date.or(under.date),
            url: self.url.or(under.url),
            examples: if self.examples.is_empty() {
                under.examples
            } else {
                self.examples
            },
            language: self.language.or(under.language),
        }
    }

    /// The document's metadata: these fields over what the file said of itself, the title
    /// from the file name when neither has one. Checked as a header is.
    fn metadata(self, path: &Path, found: &Extracted) -> Result<Metadata, KnowledgeError> {
        let title = self
            .title
            .or_else(|| found.title.clone())
            .filter(|t| !t.trim().is_empty())
            .unwrap_or_else(|| title_from_file_name(path));
        let meta = Metadata {
            title,
            subtitle: self.subtitle.or_else(|| found.subtitle.clone()),
            author: self.author.or_else(|| found.author.clone()),
            publication: self.publication.or_else(|| found.publication.clone()),
            date: self.date.or_else(|| found.date.clone()),
            url: self.url.or_else(|| found.url.clone()),
            examples: self.examples,
            language: self.language,
        };
        check(path, meta)
    }
}

/// "russia-afghanistan_notes.pdf" → "Russia afghanistan notes".
fn title_from_file_name(path: &Path) -> String {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().replace(['-', '_'], " "))
        .unwrap_or_default();
    let stem = stem.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut chars = stem.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => "Untitled".to_string(),
    }
}

/// Refuses metadata a citation could not use: an empty title, a date not `YYYY-MM-DD`, a
/// URL that is not http(s).
fn check(path: &Path, meta: Metadata) -> Result<Metadata, KnowledgeError> {
    let bad = |why: String| Err(KnowledgeError::BadMetadata(path.to_path_buf(), why));
    if meta.title.trim().is_empty() {
        return bad("title is empty".into());
    }
    if let Some(date) = meta.date.as_deref().filter(|d| human_date(d).is_none()) {
        return bad(format!("date must be YYYY-MM-DD, found {date:?}"));
    }
    if let Some(url) = meta
        .url
        .as_deref()
        .filter(|u| !(u.starts_with("https://") || u.starts_with("http://")))
    {
        return bad(format!(
            "url must start with http:// or https://, found {url:?}"
        ));
    }
    Ok(meta)
}

/// Splits a file into its metadata header and its body.
pub fn parse_document<'a>(
    path: &Path,
    raw: &'a str,
) -> Result<(Metadata, &'a str), KnowledgeError> {
    let (header, body) =
        split_header(raw).ok_or_else(|| KnowledgeError::NoMetadata(path.to_path_buf()))?;
    let overrides = parse_overrides(path, header, 2)?;
    if overrides
        .title
        .as_deref()
        .is_none_or(|t| t.trim().is_empty())
    {
        return Err(KnowledgeError::BadMetadata(
            path.to_path_buf(),
            "title is empty".into(),
        ));
    }
    let meta = overrides.metadata(path, &Extracted::default())?;
    Ok((meta, body))
}

/// Sets the page of each paragraph of a paged document: where its text starts in the body.
fn place_on_pages(passages: &mut [Passage], extracted: &Extracted) {
    let body = extracted.body.as_str();
    let mut from = 0;
    for p in passages
        .iter_mut()
        .filter(|p| p.kind == PassageKind::Paragraph)
    {
        // The paragraph's first words, as the body has them (the cutting may have joined
        // its lines, so no more than the first line is looked for).
        let (start, _) = crate::analysis::truncate_chars(&p.text, 40);
        let start = start.split('\n').next().unwrap_or_default();
        if start.is_empty() {
            continue;
        }
        let at = body
            .get(from..)
            .and_then(|rest| rest.find(start))
            .map(|i| from + i)
            .or_else(|| body.find(start));
        if let Some(at) = at {
            p.page = extracted.page_at(at);
            from = at;
        }
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Lower case, straight quotes, single spaces: for comparing scraped copies of one text.
pub fn normalize(s: &str) -> String {
    let s: String = s
        .chars()
        .map(|c| match c {
            '‘' | '’' => '\'',
            '“' | '”' => '"',
            c => c,
        })
        .collect();
    one_line(&s).to_lowercase()
}

/// Byte ranges of the sentences of `text`. A sentence ends at `.`, `!`, `?` or `…` (with any
/// closing quotes) followed by white space and a capital, digit or opening quote; initials and
/// abbreviations such as "U.S." and "Gen." do not end one.
pub fn sentences(text: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if !matches!(c, '.' | '!' | '?' | '…') {
            continue;
        }
        // Closing quotes and brackets of any script (and an ellipsis of dots) end the
        // sentence with it.
        while chars
            .peek()
            .is_some_and(|(_, c)| *c == '.' || cut::CLOSERS.contains(c))
        {
            chars.next();
        }
        let end = chars.peek().map_or(text.len(), |(b, _)| *b);
        if !chars.peek().is_some_and(|(_, c)| c.is_whitespace()) {
            continue;
        }
        while chars.peek().is_some_and(|(_, c)| c.is_whitespace()) {
            chars.next();
        }
        let starts_sentence = chars.peek().is_some_and(|(_, n)| {
            n.is_uppercase() || n.is_ascii_digit() || matches!(n, '"' | '“' | '‘' | '(' | '«' | '„')
        });
        if starts_sentence && !(c == '.' && is_abbreviation(text, i)) {
            push_trimmed(text, start..end, &mut out);
            start = chars.peek().map_or(text.len(), |(b, _)| *b);
        }
    }
    push_trimmed(text, start..text.len(), &mut out);
    out
}

fn push_trimmed(text: &str, range: Range<usize>, out: &mut Vec<Range<usize>>) {
    let s = &text[range.clone()];
    let lead = s.len() - s.trim_start().len();
    let trail = s.len() - s.trim_end().len();
    if range.start + lead < range.end - trail {
        out.push(range.start + lead..range.end - trail);
    }
}

/// Is the word ending at the period at byte `dot` an initial ("U.S.") or a known abbreviation?
fn is_abbreviation(text: &str, dot: usize) -> bool {
    let word_start = text[..dot]
        .char_indices()
        .rev()
        .find(|(_, c)| c.is_whitespace() || matches!(c, '(' | '"' | '“'))
        .map_or(0, |(i, c)| i + c.len_utf8());
    let word = &text[word_start..dot];
    let letters: Vec<&str> = word.split('.').collect();
    let initials = letters
        .iter()
        .all(|l| l.chars().count() == 1 && l.chars().all(char::is_alphabetic));
    initials || lang::english().abbreviations.contains(&word.to_lowercase())
}

impl fmt::Display for PassageKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A paragraph of prose, for documents written by the tests.
    const BODY: &str = "Moscow has reached out to the Taliban, legitimizing a group that \
                        continues to threaten the security of the Afghan government and of \
                        NATO forces.";

    fn article() -> Knowledge {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge");
        Knowledge::load(&dir).expect("the article loads")
    }

    fn of_kind(k: &Knowledge, kind: PassageKind) -> Vec<&Passage> {
        k.passages.iter().filter(|p| p.kind == kind).collect()
    }

    #[test]
    fn the_article_has_thirteen_paragraphs_in_reading_order() {
        let k = article();
        let paragraphs = of_kind(&k, PassageKind::Paragraph);
        assert_eq!(paragraphs.len(), 13);
        let numbers: Vec<u32> = paragraphs.iter().map(|p| p.number).collect();
        assert_eq!(numbers, (1..=13).collect::<Vec<_>>());
        let gold: serde_json::Value =
            serde_json::from_str(include_str!("../tests/data/passages.json")).unwrap();
        for p in &paragraphs {
            let key = gold[format!("p{}", p.number)].as_str().unwrap();
            assert!(
                normalize(&p.text).contains(&normalize(key)),
                "¶{} is {:?}",
                p.number,
                p.text
            );
        }
        assert!(paragraphs[12].text.ends_with("major global power."));
    }

    /// Short distinct paragraphs, `bytes` of them, under a header.
    fn long_document(bytes: usize) -> String {
        let mut raw = String::from("+++\ntitle = \"Long\"\nurl = \"https://example.org/l\"\n+++\n");
        let mut n = 0u64;
        while raw.len() < bytes {
            n += 1;
            raw.push_str(&format!(
                "Paragraph {n} tells of item {} in region {} with care.\n\n",
                n * 7919 % 100_003,
                n % 977
            ));
        }
        raw
    }

    #[test]
    fn pull_quotes_are_found_in_linear_time() {
        // 8 MB of one-sentence paragraphs: comparing every line with every paragraph took
        // minutes here; hashed runs of words take a second or two even unoptimised. The
        // bound guards the complexity, not the speed (`citebot bench` measures that).
        let raw = long_document(8_000_000);
        let t = std::time::Instant::now();
        let mut k = Knowledge::default();
        k.add(Path::new("long.txt"), &raw).unwrap();
        assert!(
            t.elapsed() < std::time::Duration::from_secs(30),
            "{:?}",
            t.elapsed()
        );
        let paragraphs = of_kind(&k, PassageKind::Paragraph).len();
        assert!(
            paragraphs > 100_000,
            "{paragraphs}: none is taken for a pull quote"
        );
    }

    #[test]
    fn a_loosely_quoted_pull_quote_is_dropped_and_does_not_shift_the_numbers() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge");
        let raw = std::fs::read_to_string(dir.join("russias-afghanistan-strategy.txt")).unwrap();
        let exact = "Moscow has established a relationship with the Taliban’s leadership.";
        let loose = "Moscow has built a relationship with the leaders of the Taliban.";
        assert!(raw.contains(exact));
        let mut k = Knowledge::default();
        k.add(Path::new("a.txt"), &raw.replace(exact, loose))
            .unwrap();
        let paragraphs = of_kind(&k, PassageKind::Paragraph);
        assert_eq!(paragraphs.len(), 13);
        assert!(paragraphs
            .iter()
            .all(|p| !p.text.contains("built a relationship")));
        assert!(paragraphs[3].text.starts_with("But as time went on"));

        // A one-sentence paragraph of the body's own, between long ones, stays.
        let own = "Then came a turn that few in Washington had seen coming at all.";
        let mut k = Knowledge::default();
        k.add(Path::new("a.txt"), &raw.replace(exact, own)).unwrap();
        let paragraphs = of_kind(&k, PassageKind::Paragraph);
        assert_eq!(paragraphs.len(), 14);
        assert_eq!(paragraphs[3].text, own);
    }

    #[test]
    fn a_document_over_the_size_limit_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("big.txt"), long_document(1_200_000)).unwrap();
        let err = Knowledge::load_limited(dir.path(), 1)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("big.txt") && err.contains("MAX_DOCUMENT_MB"),
            "{err}"
        );
        assert!(Knowledge::load_limited(dir.path(), 2).is_ok());
    }

    #[test]
    fn captions_once_each_without_credits() {
        let k = article();
        let captions = of_kind(&k, PassageKind::Caption);
        assert_eq!(captions.len(), 2);
        assert!(captions[0]
            .text
            .contains("shakes hands with Afghan President Ashraf Ghani"));
        assert!(captions[1]
            .text
            .contains("Afghan soldier in front of a Mi-17"));
        let all: String = k.passages.iter().map(|p| p.text.as_str()).collect();
        assert!(!all.contains("REUTERS"), "photo credits are not passages");
        assert!(!all.contains("Photohost"));
    }

    #[test]
    fn author_note_kept_paywall_and_pull_quotes_dropped() {
        let k = article();
        let notes = of_kind(&k, PassageKind::AuthorNote);
        assert_eq!(notes.len(), 1);
        assert!(notes[0]
            .text
            .starts_with("JULIA GURGANUS is a Visiting Scholar"));
        assert!(notes[0].text.ends_with("The views expressed are her own."));
        for p in &k.passages {
            let t = p.text.to_lowercase();
            assert!(
                !t.contains("subscribe") && !t.contains("paywall") && !t.contains("free article"),
                "{t}"
            );
            assert!(!t.starts_with("more by"));
            // The pull quotes live on only inside their paragraphs.
            if p.text
                .contains("Moscow has established a relationship with the Taliban’s leadership")
            {
                assert_eq!((p.kind, p.number), (PassageKind::Paragraph, 8));
            }
        }
        // 13 paragraphs + 2 captions + 1 note + the metadata passage.
        assert_eq!(k.passages.len(), 17);
    }

    #[test]
    fn about_passage_says_where_and_when() {
        let k = article();
        let about = of_kind(&k, PassageKind::About);
        assert_eq!(
            about[0].text,
            "“Russia's Afghanistan Strategy: How Moscow Is Preparing to Go It Alone” is an article by Julia Gurganus, published in Foreign Affairs on 2 January 2018."
        );
        // Only what the header says.
        let mut k = Knowledge::default();
        let raw = "+++\ntitle = \"Bees\"\nauthor = \"Ada Lindqvist\"\ndate = \"2021-11-03\"\n\
                   url = \"https://example.org/b\"\n+++\nA colony of honeybees does not sleep \
                   through the winter: the workers gather in a cluster around the queen.\n";
        k.add(Path::new("bees.txt"), raw).unwrap();
        let about = of_kind(&k, PassageKind::About);
        assert_eq!(
            about[0].text,
            "“Bees” is an article by Ada Lindqvist, published on 3 November 2021."
        );
    }

    #[test]
    fn sentences_respect_initials_and_quotes() {
        let cases: &[(&str, &[&str])] = &[
            ("One. Two.", &["One.", "Two."]),
            (
                "The U.S. approach works. It does.",
                &["The U.S. approach works.", "It does."],
            ),
            (
                "He met U.S. National Intelligence staff.",
                &["He met U.S. National Intelligence staff."],
            ),
            (
                "He said “it will collapse.” Then left.",
                &["He said “it will collapse.”", "Then left."],
            ),
            ("Gen. Haftar leads. Yes!", &["Gen. Haftar leads.", "Yes!"]),
            (
                "about 25 percent. 2014 was",
                &["about 25 percent.", "2014 was"],
            ),
            ("no end", &["no end"]),
            ("", &[]),
            ("Привет. Мир! 😀 ok", &["Привет.", "Мир! 😀 ok"]),
        ];
        for (text, want) in cases {
            let got: Vec<&str> = sentences(text).into_iter().map(|r| &text[r]).collect();
            assert_eq!(&got, want, "{text:?}");
        }
    }

    #[test]
    fn bad_files_get_errors_that_name_them() {
        let p = Path::new("k/x.txt");
        let cases = [
            ("just text", "no metadata header"),
            ("+++\ntitle = \"T\"\n", "no metadata header"),
            (
                "+++\ntitle = \"\"\n+++\nBody here is long enough.",
                "title is empty",
            ),
            (
                "+++\ntitle = \"T\"\nurl = \"ftp://x\"\n+++\nBody.",
                "url must start",
            ),
            (
                "+++\ntitle = \"T\"\nurl = \"https://x\"\nauthr = \"y\"\n+++\nBody.",
                "line 4: unknown field",
            ),
            (
                "+++\ntitle = \"T\"\nurl = \"https://x\"\ndate = \"2 January 2018\"\n+++\nBody.",
                "date must be YYYY-MM-DD",
            ),
            (
                "+++\ntitle = \"T\"\nurl = \"https://x\"\n\nauthor = \"unclosed\n+++\nBody.",
                "line 5:",
            ),
        ];
        for (raw, want) in cases {
            let err = Knowledge::default().add(p, raw).unwrap_err().to_string();
            assert!(err.starts_with("k/x.txt: "), "{err}");
            assert!(err.contains(want), "{err:?} should contain {want:?}");
            assert!(!err.contains('\n'), "one line: {err:?}");
        }
        let err = Knowledge::default()
            .add(p, "+++\ntitle = \"T\"\nurl = \"https://x\"\n+++\n\n")
            .unwrap_err();
        assert!(matches!(err, KnowledgeError::NoPassages(_)));
    }

    #[cfg(unix)]
    #[test]
    fn a_broken_link_is_an_error_that_names_it() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("gone.txt");
        std::os::unix::fs::symlink(dir.path().join("nowhere.txt"), &link).unwrap();
        let err = Knowledge::load(dir.path()).unwrap_err();
        assert!(matches!(err, KnowledgeError::NoneReadable(..)), "{err}");
        assert!(
            err.to_string().contains("gone.txt: cannot be read"),
            "{err}"
        );
    }

    /// One file that cannot be read is named with its reason and skipped; the rest load.
    /// A text without a header is read as it is, its title from its first line.
    #[test]
    fn a_bad_file_is_skipped_and_the_rest_are_read() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("notes.txt"),
            format!("Field notes\n\n{BODY}\n"),
        )
        .unwrap();
        std::fs::write(
            dir.path().join("broken.txt"),
            "+++\ntitle = \"T\"\nauthr = 1\n+++\nx",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("binary.md"),
            [0u8, 1, 2, 3, 4, 5, 6, 7].repeat(300),
        )
        .unwrap();
        let k = Knowledge::load(dir.path()).unwrap();
        assert_eq!(k.documents.len(), 1);
        assert_eq!(k.documents[0].meta.title, "Field notes");
        assert_eq!(k.documents[0].meta.url, None);
        let skipped: Vec<String> = k.skipped.iter().map(ToString::to_string).collect();
        assert_eq!(skipped.len(), 2, "{skipped:?}");
        assert!(
            skipped[0].ends_with(
                "binary.md: is not text (binary data, or an encoding that cannot be told)"
            ),
            "{skipped:?}"
        );
        assert!(
            skipped[1].contains("broken.txt: bad metadata: line 3: unknown field"),
            "{skipped:?}"
        );
    }

    /// `NAME.toml` beside a document says what the file cannot, over what was found in it.
    #[test]
    fn a_sidecar_overrides_what_the_file_says() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("field-notes.md"),
            format!("# Notes from Kabul\n\nBy Jane Doe\n\n{BODY}\n"),
        )
        .unwrap();
        std::fs::write(
            dir.path().join("field-notes.toml"),
            "author = \"Julia Gurganus\"\nurl = \"https://example.org/notes\"\n",
        )
        .unwrap();
        let k = Knowledge::load(dir.path()).unwrap();
        let meta = &k.documents[0].meta;
        assert_eq!(meta.title, "Notes from Kabul");
        assert_eq!(meta.author.as_deref(), Some("Julia Gurganus"));
        assert_eq!(meta.url.as_deref(), Some("https://example.org/notes"));
        assert_eq!(k.documents[0].format, Format::Markdown);
        // Without a title anywhere, the file name gives one.
        assert_eq!(
            title_from_file_name(Path::new("k/russia_afghan-notes.pdf")),
            "Russia afghan notes"
        );
    }

    #[test]
    fn folders_without_documents_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            Knowledge::load(dir.path()),
            Err(KnowledgeError::Empty(_))
        ));
        std::fs::write(dir.path().join(SYNONYMS_FILE), "a, b").unwrap();
        assert!(matches!(
            Knowledge::load(dir.path()),
            Err(KnowledgeError::Empty(_))
        ));
        assert!(matches!(
            Knowledge::load(&dir.path().join("missing")),
            Err(KnowledgeError::Folder(..))
        ));
    }

    #[test]
    fn human_dates() {
        for (iso, want) in [
            ("2018-01-02", Some("2 January 2018")),
            ("2018-13-02", None),
            ("soon", None),
        ] {
            assert_eq!(human_date(iso).as_deref(), want);
        }
    }
}
