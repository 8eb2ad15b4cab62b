//! Taking a document into the knowledge folder: a file, a URL (`citebot add`), or a file an
//! admin sends the bot. The document is read first, in a folder of its own, and lands in
//! the knowledge only when it reads: a file that cannot be read changes nothing, and its
//! reason is said.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::formats::Format;
use crate::knowledge::{self, Knowledge, PassageKind};

/// What was found in a document just added.
#[derive(Debug, Clone, PartialEq)]
pub struct Added {
    /// Where it now is, in the knowledge folder.
    pub path: PathBuf,
    pub title: String,
    pub author: Option<String>,
    /// `YYYY-MM-DD`.
    pub date: Option<String>,
    pub language: crate::lang::Lang,
    /// Its paragraphs (what questions are answered from).
    pub paragraphs: usize,
    /// A question to try it with.
    pub example: String,
}

/// Fields to set over what the file says of itself (`--title`...), kept in its sidecar.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Fields {
    pub title: Option<String>,
    pub author: Option<String>,
    pub date: Option<String>,
    pub url: Option<String>,
}

impl Fields {
    fn is_empty(&self) -> bool {
        self == &Fields::default()
    }

    /// As a sidecar's TOML.
    fn toml(&self) -> String {
        let mut table = toml::Table::new();
        for (key, value) in [
            ("title", &self.title),
            ("author", &self.author),
            ("date", &self.date),
            ("url", &self.url),
        ] {
            if let Some(value) = value {
                table.insert(key.into(), toml::Value::String(value.clone()));
            }
        }
        table.to_string()
    }
}

/// Why a document was not added.
#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error("{0}: {1}")]
    Io(PathBuf, std::io::Error),
    #[error("{0}: not a kind of file citebot reads (text, Markdown, PDF, HTML or Word)")]
    Kind(String),
    #[error("{0}")]
    Unreadable(String),
    #[error("{0}: {1}")]
    Fetch(String, String),
}

/// Adds `bytes`, a file called `name`, to the knowledge folder `dir` (beside the documents
/// there, under a name of its own), with `fields` over what it says of itself. Read first in
/// a folder of its own: when it cannot be read, nothing in `dir` changes.
pub fn add(
    dir: &Path,
    name: &str,
    bytes: &[u8],
    fields: &Fields,
    max_mb: u64,
) -> Result<Added, IntakeError> {
    let name = file_name(name);
    if Format::of(Path::new(&name)).is_none() {
        return Err(IntakeError::Kind(name));
    }
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |e| IntakeError::Io(path, e)
    };
    // A hidden folder beside the documents: the knowledge does not read it, and the file is
    // moved from it into place (one file system, so the move is a rename).
    let draft = dir.join(format!(".adding-{}-{}", std::process::id(), unique()));
    std::fs::create_dir_all(&draft).map_err(io(&draft))?;
    let result = (|| {
        let path = draft.join(&name);
        std::fs::write(&path, bytes).map_err(io(&path))?;
        if !fields.is_empty() {
            let sidecar = knowledge::sidecar(&path);
            std::fs::write(&sidecar, fields.toml()).map_err(io(&sidecar))?;
        }
        let read = Knowledge::load_limited(&draft, max_mb).map_err(|e| match e {
            knowledge::KnowledgeError::NoneReadable(_, skipped) => {
                IntakeError::Unreadable(skipped.first().map_or_else(
                    || "cannot be read".into(),
                    |s| format!("{name}: {}", s.reason),
                ))
            }
            e => IntakeError::Unreadable(e.to_string()),
        })?;
        let target = free_name(dir, &name);
        std::fs::rename(&path, &target).map_err(io(&target))?;
        let sidecar = knowledge::sidecar(&path);
        if sidecar.exists() {
            let to = knowledge::sidecar(&target);
            std::fs::rename(&sidecar, &to).map_err(io(&to))?;
        }
        Ok(describe(&read, target))
    })();
    // Whatever happened, the draft folder goes.
    let _ = std::fs::remove_dir_all(&draft);
    result
}

/// What a reader is told of the document added.
fn describe(read: &Knowledge, path: PathBuf) -> Added {
    let doc = &read.documents[0];
    let example = doc
        .meta
        .examples
        .first()
        .cloned()
        .unwrap_or_else(|| match doc.language {
            crate::lang::Lang::Ru => format!("О чём «{}»?", doc.meta.title),
            crate::lang::Lang::En => format!("What is “{}” about?", doc.meta.title),
        });
    Added {
        path,
        title: doc.meta.title.clone(),
        author: doc.meta.author.clone(),
        date: doc.meta.date.clone(),
        language: doc.language,
        paragraphs: read
            .passages
            .iter()
            .filter(|p| p.kind == PassageKind::Paragraph)
            .count(),
        example,
    }
}

/// A file name safe to keep: its last path part, letters, digits, `.`, `-` and `_` only.
pub fn file_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let safe: String = last
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let safe = safe.trim_start_matches(['.', '-']).to_string();
    if safe.is_empty() {
        "document.txt".to_string()
    } else {
        safe
    }
}

/// `name` in `dir`, or `NAME-2.EXT`, `NAME-3.EXT`... when taken.
fn free_name(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    if !path.exists() {
        return path;
    }
    let (stem, ext) = match name.rsplit_once('.') {
        Some((stem, ext)) => (stem, format!(".{ext}")),
        None => (name, String::new()),
    };
    (2..)
        .map(|n| dir.join(format!("{stem}-{n}{ext}")))
        .find(|p| !p.exists())
        .expect("some number is free")
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// How long fetching a URL may take, whole.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(30);

/// Fetches `url`: its bytes, at most `max_bytes` (a larger body is refused as it arrives),
/// and a file name with the extension its content type says.
pub async fn fetch(url: &str, max_bytes: u64) -> Result<(String, Vec<u8>), IntakeError> {
    let failed = |why: String| IntakeError::Fetch(url.to_string(), why);
    let parsed = url::Url::parse(url).map_err(|e| failed(e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(failed(
            "only http:// and https:// addresses are fetched".into(),
        ));
    }
    let client = reqwest::Client::builder()
        .timeout(FETCH_TIMEOUT)
        .connect_timeout(Duration::from_secs(10))
        .user_agent(concat!("citebot/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| failed(e.to_string()))?;
    let mut response = client
        .get(parsed.clone())
        .send()
        .await
        .map_err(|e| failed(e.without_url().to_string()))?;
    if !response.status().is_success() {
        return Err(failed(format!("the server answered {}", response.status())));
    }
    let too_large = || failed(format!("larger than {} MB", max_bytes / 1_000_000));
    if response.content_length().is_some_and(|n| n > max_bytes) {
        return Err(too_large());
    }
    let kind = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let mut bytes = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| failed(e.without_url().to_string()))?
    {
        if (bytes.len() + chunk.len()) as u64 > max_bytes {
            return Err(too_large());
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok((name_for(&parsed, &kind), bytes))
}

/// A file name for what `url` served as `content_type`: its last path part, with the
/// extension the content type says when the path does not end in one citebot reads.
fn name_for(url: &url::Url, content_type: &str) -> String {
    let last = url
        .path_segments()
        .and_then(|mut s| s.next_back())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| url.host_str().unwrap_or("page"));
    let name = file_name(last);
    let by_type = [
        ("text/html", "html"),
        ("application/xhtml", "html"),
        ("application/pdf", "pdf"),
        ("wordprocessingml", "docx"),
        ("text/markdown", "md"),
        ("text/plain", "txt"),
    ]
    .into_iter()
    .find(|(t, _)| content_type.contains(t))
    .map(|(_, ext)| ext);
    match Format::of(Path::new(&name)) {
        Some(_) => name,
        None => format!("{name}.{}", by_type.unwrap_or("html")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str = "Moscow has reached out to the Taliban, legitimizing a group that \
                        continues to threaten the security of the Afghan government.";

    #[test]
    fn a_document_is_added_under_a_free_name_with_its_fields() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("notes.md"), format!("# Old\n\n{BODY}\n")).unwrap();
        let fields = Fields {
            author: Some("Julia Gurganus".into()),
            ..Fields::default()
        };
        let text = format!("# Field notes\n\nBy Jane Doe\n\n{BODY}\n");
        let added = add(dir.path(), "../notes.md", text.as_bytes(), &fields, 64).unwrap();
        assert_eq!(added.path, dir.path().join("notes-2.md"));
        assert_eq!(added.title, "Field notes");
        assert_eq!(added.author.as_deref(), Some("Julia Gurganus"));
        assert_eq!(added.paragraphs, 1);
        assert_eq!(added.example, "What is “Field notes” about?");
        assert!(dir.path().join("notes-2.toml").exists());
        let k = Knowledge::load(dir.path()).unwrap();
        assert_eq!(k.documents.len(), 2);
        assert!(k.skipped.is_empty());
    }

    #[test]
    fn a_file_that_cannot_be_read_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let binary = [0u8, 1, 2, 3, 4, 5, 6, 7].repeat(300);
        let err = add(dir.path(), "x.txt", &binary, &Fields::default(), 64).unwrap_err();
        assert!(err.to_string().starts_with("x.txt: is not text"), "{err}");
        let err = add(dir.path(), "x.exe", b"MZ", &Fields::default(), 64).unwrap_err();
        assert!(matches!(err, IntakeError::Kind(_)), "{err}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn names_are_made_safe_and_typed_by_content() {
        assert_eq!(file_name("../../etc/passwd"), "passwd");
        assert_eq!(file_name("My Report (final).pdf"), "My-Report--final-.pdf");
        assert_eq!(file_name(".hidden.md"), "hidden.md");
        let url = |u: &str| url::Url::parse(u).unwrap();
        assert_eq!(
            name_for(&url("https://x.org/a/story"), "text/html; charset=utf-8"),
            "story.html"
        );
        assert_eq!(
            name_for(&url("https://x.org/r.pdf"), "application/pdf"),
            "r.pdf"
        );
        assert_eq!(name_for(&url("https://x.org/"), ""), "x.org.html");
        assert_eq!(
            name_for(&url("https://x.org/notes.md"), "text/plain"),
            "notes.md"
        );
    }
}
