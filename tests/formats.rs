//! The seed article as people would have it, with no header: plain text, Markdown with front
//! matter, PDF, a saved web page and a Word file (tests/data/formats/, made by its make.py),
//! each alone in a knowledge folder. Each must tell its title, author and date, be cut into
//! the paragraphs and captions the article with its header is, and answer the held-out
//! paraphrases as well as it does.

use std::path::Path;
use std::sync::OnceLock;

use citebot::eval::{evaluate, QuestionSet};
use citebot::knowledge::{normalize, Knowledge, PassageKind};
use citebot::{Engine, Options};

/// Every fixture of the seed article, one a format.
const ARTICLES: [&str; 5] = [
    "article.txt",
    "article.md",
    "article.html",
    "article.docx",
    "article.pdf",
];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn held_out() -> QuestionSet {
    let data = root().join("tests/data");
    QuestionSet::load(&data.join("paraphrases.jsonl"), &data.join("passages.json"))
        .unwrap()
        .only_split("held_out")
}

/// Shown@1 on the held-out paraphrases with the article as it ships (header and all).
fn with_header() -> f64 {
    static HIT: OnceLock<f64> = OnceLock::new();
    *HIT.get_or_init(|| {
        let engine = Engine::load(&Options::new(root().join("knowledge"))).unwrap();
        evaluate(&engine, &held_out()).unwrap().hit_at_1()
    })
}

/// A knowledge folder holding `file` alone, with the synonyms the article ships with.
fn folder_of(file: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        root().join("tests/data/formats").join(file),
        dir.path().join(file),
    )
    .unwrap();
    std::fs::copy(
        root().join("knowledge/synonyms.txt"),
        dir.path().join("synonyms.txt"),
    )
    .unwrap();
    dir
}

/// Loads `file` alone and checks what it found.
fn alone(file: &str) -> Engine {
    let dir = folder_of(file);
    let engine = Engine::load(&Options::new(dir.path())).unwrap();
    assert!(engine.knowledge.skipped.is_empty(), "{file}");
    let meta = &engine.knowledge.documents[0].meta;
    assert_eq!(meta.title, "Russia's Afghanistan Strategy", "{file}");
    assert_eq!(meta.author.as_deref(), Some("Julia Gurganus"), "{file}");
    assert_eq!(meta.date.as_deref(), Some("2018-01-02"), "{file}");
    engine
}

/// Read from `file`, the held-out paraphrases are answered within `within` of the article
/// with its header.
fn answers_within(file: &str, within: f64) -> Engine {
    let engine = alone(file);
    let hit = evaluate(&engine, &held_out()).unwrap().hit_at_1();
    let reference = with_header();
    println!("{file}: shown@1 {hit:.3} (with the header: {reference:.3})");
    assert!(
        hit >= reference - within,
        "{file}: shown@1 {hit:.3} against {reference:.3} with the header"
    );
    engine
}

/// Within 0.03, the bar. Measured (debug build, both models): 0.825 for text,
/// Markdown, Word and PDF and 0.841 for the web page, against 0.841 with the header.
fn answers_as_well(file: &str) -> Engine {
    answers_within(file, 0.03)
}

/// A knowledge's paragraphs and captions as (kind, number, text), whitespace and quotes
/// normalised.
fn cut_of(k: &Knowledge) -> Vec<(PassageKind, u32, String)> {
    k.passages
        .iter()
        .filter(|p| matches!(p.kind, PassageKind::Paragraph | PassageKind::Caption))
        .map(|p| (p.kind, p.number, normalize(&p.text)))
        .collect()
}

/// Every format is cut as the article with its header: the same paragraphs under the same
/// ¶ numbers, so that "¶9" names one paragraph whatever the file, and the two photo
/// captions as captions (a web page's figcaption, Word's Caption style and the PDF's
/// caption type mark them; text gives each twice, as the site does).
#[test]
fn every_format_is_cut_as_the_article_is() {
    let article = cut_of(&Knowledge::load(&root().join("knowledge")).unwrap());
    assert_eq!(
        article
            .iter()
            .filter(|p| p.0 == PassageKind::Caption)
            .count(),
        2
    );
    for file in ARTICLES {
        let dir = folder_of(file);
        let cut = cut_of(&Knowledge::load(dir.path()).unwrap());
        assert_eq!(cut.len(), article.len(), "{file}: {cut:#?}");
        for (got, want) in cut.iter().zip(&article) {
            assert_eq!(got, want, "{file}");
        }
    }
}

#[test]
fn plain_text_without_a_header() {
    answers_as_well("article.txt");
}

#[test]
fn markdown_with_front_matter() {
    answers_as_well("article.md");
}

#[test]
fn a_saved_web_page() {
    answers_as_well("article.html");
}

#[test]
fn a_word_file() {
    answers_as_well("article.docx");
}

/// A PDF answers as well, and its citations name the page and the article's ¶ number.
#[test]
fn a_pdf_whose_citations_name_the_page() {
    let engine = answers_as_well("article.pdf");
    let reply = citebot::ask(&engine, "What did Kabulov say about a US withdrawal?", 1).unwrap();
    let label = &reply.answers[0].citation.label;
    assert!(label.starts_with("p. ") && label.contains(", ¶"), "{label}");
    assert!(reply.answers[0].excerpt.text.contains("Kabulov"));
    // ¶9 of the article, on its third page: the byline above the first paragraph is no ¶.
    let ninth = engine
        .knowledge
        .passages
        .iter()
        .find(|p| {
            p.text
                .starts_with("Moscow has already launched several efforts")
        })
        .unwrap();
    assert_eq!(ninth.label(), "p. 3, ¶9");
    let caption = engine
        .knowledge
        .passages
        .iter()
        .find(|p| p.text.starts_with("An Afghan soldier in front of a Mi-17"))
        .unwrap();
    assert_eq!(caption.label(), "photo caption 2");
}

/// Files that cannot be read are skipped by name, with the reason; the rest answer.
#[test]
fn unreadable_files_are_skipped_with_their_reason() {
    let dir = tempfile::tempdir().unwrap();
    for file in ["article.txt", "scan.pdf", "encrypted.pdf"] {
        std::fs::copy(
            root().join("tests/data/formats").join(file),
            dir.path().join(file),
        )
        .unwrap();
    }
    let truncated = std::fs::read(root().join("tests/data/formats/article.docx")).unwrap();
    std::fs::write(
        dir.path().join("cut.docx"),
        &truncated[..truncated.len() / 2],
    )
    .unwrap();
    let engine = Engine::load(&Options::lexical(dir.path())).unwrap();
    assert_eq!(engine.knowledge.documents.len(), 1);
    let skipped: Vec<String> = engine
        .knowledge
        .skipped
        .iter()
        .map(|s| {
            format!(
                "{}: {}",
                s.path.file_name().unwrap().to_string_lossy(),
                s.reason
            )
        })
        .collect();
    assert_eq!(skipped.len(), 3, "{skipped:?}");
    assert!(skipped[0].starts_with("cut.docx: "), "{skipped:?}");
    assert!(
        skipped[1].starts_with("encrypted.pdf: ") && skipped[1].contains("password"),
        "{skipped:?}"
    );
    assert!(
        skipped[2].starts_with("scan.pdf: ") && skipped[2].contains("no text layer"),
        "{skipped:?}"
    );
}
