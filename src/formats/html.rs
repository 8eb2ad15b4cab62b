//! Saved web pages: the article alone, readability-style (navigation, ads, scripts, the
//! newsletter box, related links, comments and the footer left out), and what the page
//! says of itself: title, author, date, site and canonical address.
//!
//! The crate is dom_smoothie (a port of Mozilla's Readability on html5ever): on this
//! module's fixtures it kept all of the article's paragraphs and none of the page around
//! them, comments included, and read the author, date and site from the meta tags and
//! JSON-LD; readability 0.3 kept only the article's first caption of article.html.

use dom_query::{Document, NodeRef};
use dom_smoothie::Readability;

use super::{Extracted, Unreadable};

/// Deeper than any page people write (real ones stay under a hundred or so); the
/// extraction walks the tree recursively, so a deeper one is refused before it does.
const MAX_DEPTH: usize = 512;
/// Where `<meta charset>` must stand, as browsers look for it.
const SNIFF_BYTES: usize = 1024;

/// Reads a saved web page; `max_bytes` bounds its size as text.
pub fn read(bytes: &[u8], max_bytes: u64) -> Result<Extracted, Unreadable> {
    if bytes.len() as u64 > max_bytes {
        return Err(Unreadable::new(format!(
            "is larger than the {max_bytes} bytes allowed"
        )));
    }
    let html = decode(bytes);
    if html.len() as u64 > max_bytes {
        return Err(Unreadable::new(format!(
            "its text is larger than the {max_bytes} bytes allowed"
        )));
    }
    // html5ever takes minutes over a hundred thousand nested elements: a cheap count of
    // open tags turns such a page away before it is parsed.
    if tags_nest_deeper(&html, 4 * MAX_DEPTH) {
        return Err(Unreadable::new(format!(
            "nests its elements deeper than {MAX_DEPTH} levels; not a page a person reads"
        )));
    }
    let document = Document::from(html.as_str());
    if depth(&document.root()) > MAX_DEPTH {
        return Err(Unreadable::new(format!(
            "nests its elements deeper than {MAX_DEPTH} levels; not a page a person reads"
        )));
    }
    let canonical = document
        .select("link[rel=canonical]")
        .attr("href")
        .or_else(|| document.select("meta[property='og:url']").attr("content"))
        .map(|s| s.trim().to_string())
        .filter(|s| s.starts_with("http"));
    let meta_author = ["meta[name=author]", "meta[property='article:author']"]
        .iter()
        .find_map(|sel| document.select(sel).attr("content"))
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty() && !s.starts_with("http"));
    let time = document
        .select("meta[property='article:published_time']")
        .attr("content")
        .or_else(|| document.select("time[datetime]").attr("datetime"))
        .and_then(|s| super::text::iso_date(s.trim()));
    let mut readability = Readability::with_document(document, None, None)
        .map_err(|e| Unreadable::new(format!("could not be read ({e})")))?;
    let article = readability
        .parse()
        .map_err(|e| Unreadable::new(format!("has no article text to read ({e})")))?;
    let (body, captions) = paragraphs(&Document::from(article.content.as_ref()).root());
    if body.is_empty() {
        return Err(Unreadable::new("has no article text to read"));
    }
    let clean = |s: Option<String>| {
        s.map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
            .filter(|s| !s.is_empty())
    };
    let byline = clean(article.byline).map(|b| {
        b.strip_prefix("By ")
            .or_else(|| b.strip_prefix("by "))
            .unwrap_or(&b)
            .to_string()
    });
    Ok(Extracted {
        title: clean(Some(article.title)),
        subtitle: None,
        author: meta_author.or(byline),
        date: time.or_else(|| {
            article
                .published_time
                .and_then(|t| super::text::iso_date(t.trim()))
        }),
        publication: clean(article.site_name),
        url: canonical.or(article.url),
        body,
        pages: Vec::new(),
        captions,
    })
}

/// The page as text: by its byte-order mark, else the `<meta charset>` (or http-equiv)
/// near its top, else UTF-8, else windows-1252, which is what browsers take a page with
/// no charset to be.
fn decode(bytes: &[u8]) -> String {
    if let Some((encoding, _)) = encoding_rs::Encoding::for_bom(bytes) {
        return encoding.decode_with_bom_removal(bytes).0.into_owned();
    }
    let head = String::from_utf8_lossy(bytes.get(..SNIFF_BYTES).unwrap_or(bytes)).to_lowercase();
    let label = head.find("charset=").map(|at| {
        head[at + "charset=".len()..]
            .trim_start_matches(['"', '\''])
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || "-_:.".contains(*c))
            .collect::<String>()
    });
    let declared = label.and_then(|l| encoding_rs::Encoding::for_label(l.as_bytes()));
    let encoding = match declared {
        // A page that says UTF-16 in ASCII is not UTF-16: browsers read it as UTF-8.
        Some(e) if e != encoding_rs::UTF_16LE && e != encoding_rs::UTF_16BE => e,
        _ if std::str::from_utf8(bytes).is_ok() => encoding_rs::UTF_8,
        _ => encoding_rs::WINDOWS_1252,
    };
    encoding.decode_without_bom_handling(bytes).0.into_owned()
}

/// Whether the page's tags, counted open minus closed, ever go deeper than `limit`. Void
/// elements and the ones whose end tag is implied (p, li, td...) are not counted, so an
/// ordinary page stays far below; scripts, styles and comments are skipped.
fn tags_nest_deeper(html: &str, limit: usize) -> bool {
    const UNCOUNTED: &[&str] = &[
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr", "p", "li", "td", "th", "tr", "dt", "dd", "option", "!doctype",
    ];
    let lower = html.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    let mut depth = 0usize;
    let mut at = 0;
    while let Some(offset) = lower[at..].find('<') {
        at += offset + 1;
        let rest = &lower[at..];
        if rest.starts_with("!--") {
            at += rest.find("-->").map_or(rest.len(), |end| end + 3);
            continue;
        }
        if let Some(closing) = rest.strip_prefix('/') {
            if closing.starts_with(|c: char| c.is_ascii_alphabetic()) {
                depth = depth.saturating_sub(1);
            }
            continue;
        }
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '!' || *c == '-')
            .collect();
        if name.is_empty() || UNCOUNTED.contains(&name.as_str()) {
            continue;
        }
        let end = rest.find('>').map_or(rest.len(), |e| e);
        if bytes.get(at + end.saturating_sub(1)) == Some(&b'/') {
            continue;
        }
        if name == "script" || name == "style" {
            let close = format!("</{name}");
            at += rest.find(&close).unwrap_or(rest.len());
            continue;
        }
        depth += 1;
        if depth > limit {
            return true;
        }
    }
    false
}

/// How deep the tree goes, found with a stack of its own (no recursion here either).
fn depth(root: &NodeRef) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(*root, 0usize)];
    while let Some((node, d)) = stack.pop() {
        deepest = deepest.max(d);
        if d > MAX_DEPTH {
            return d;
        }
        let mut child = node.first_child();
        while let Some(c) = child {
            child = c.next_sibling();
            stack.push((c, d + 1));
        }
    }
    deepest
}

/// Elements that stand as blocks of their own: their text is never run into a
/// neighbour's (two figures' captions side by side are two paragraphs).
const BLOCKS: &[&str] = &[
    "p",
    "div",
    "section",
    "article",
    "header",
    "footer",
    "main",
    "aside",
    "nav",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "ul",
    "ol",
    "li",
    "dl",
    "dt",
    "dd",
    "figure",
    "figcaption",
    "blockquote",
    "pre",
    "table",
    "thead",
    "tbody",
    "tfoot",
    "tr",
    "caption",
    "hr",
    "br",
    "address",
    "details",
    "summary",
];

/// The article's HTML as paragraphs, and its figure captions (`<figcaption>`) apart: a
/// paragraph ends where a block element starts or ends; a table row is one paragraph, its
/// cells joined by " | "; a caption is one, whatever blocks it holds. Walked with a stack
/// of its own, not by recursion.
fn paragraphs(root: &NodeRef) -> (String, Vec<String>) {
    let mut out: Vec<String> = Vec::new();
    let mut captions: Vec<String> = Vec::new();
    let mut current = String::new();
    // How many figcaptions the walk is inside (one nested in another is still one caption).
    let mut in_caption = 0usize;
    let flush = |current: &mut String, out: &mut Vec<String>| {
        let p = current.split_whitespace().collect::<Vec<_>>().join(" ");
        if !p.is_empty() {
            out.push(p);
        }
        current.clear();
    };
    // (node, true) on the way in, (node, false) on the way out.
    let mut stack = vec![(*root, true)];
    while let Some((node, entering)) = stack.pop() {
        if node.is_text() {
            current.push_str(&node.text());
            continue;
        }
        let name = node.node_name().map(|n| n.to_ascii_lowercase());
        let name = name.as_deref().unwrap_or("");
        if matches!(name, "script" | "style" | "noscript" | "template") {
            continue;
        }
        let cell = matches!(name, "td" | "th");
        if name == "figcaption" {
            if entering {
                if in_caption == 0 {
                    flush(&mut current, &mut out);
                }
                in_caption += 1;
            } else {
                in_caption = in_caption.saturating_sub(1);
                if in_caption == 0 {
                    flush(&mut current, &mut captions);
                }
            }
        } else if in_caption > 0 {
            // A block inside a caption (a <p>, a <br>) parts its words, not the caption.
            if BLOCKS.contains(&name) || cell {
                current.push(' ');
            }
        } else if !entering {
            if cell {
                current.push_str(" | ");
            } else if name == "tr" {
                let row = current.trim().trim_end_matches('|').to_string();
                current = row;
                flush(&mut current, &mut out);
            } else if BLOCKS.contains(&name) {
                flush(&mut current, &mut out);
            }
        } else if BLOCKS.contains(&name) {
            flush(&mut current, &mut out);
        }
        if entering {
            stack.push((node, false));
            let children = node.children();
            for child in children.into_iter().rev() {
                stack.push((child, true));
            }
        }
    }
    flush(&mut current, &mut out);
    (out.join("\n\n"), captions)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{assert_seed_article, paragraphs, seed_lines};
    use super::*;

    const MAX: u64 = 10 << 20;
    const ARTICLE: &[u8] = include_bytes!("../../tests/data/formats/article.html");
    const COMMENTS: &[u8] = include_bytes!("../../tests/data/formats/comments.html");

    #[test]
    fn article_metadata_every_paragraph_and_the_captions_apart() {
        let doc = read(ARTICLE, MAX).expect("article.html reads");
        assert_seed_article(&doc, "article.html");
        assert_eq!(doc.publication.as_deref(), Some("Foreign Affairs"));
        assert_eq!(
            doc.url.as_deref(),
            Some("https://www.foreignaffairs.com/articles/afghanistan/2018-01-02/russias-afghanistan-strategy")
        );
        for around in [
            "Sign up for our weekly newsletter",
            "Related articles",
            "The Taliban's Return",
            "steppe_watcher",
            "Copyright 2018",
            "Advertisement",
            "dataLayer",
            "Regions",
        ] {
            assert!(!doc.body.contains(around), "kept {around:?}");
        }
    }

    /// A figcaption is one caption whatever blocks it holds, and stays out of the body;
    /// the credit after the figure is body text, for the cutting to drop.
    #[test]
    fn a_figcaption_is_one_caption() {
        let page = "<html><body><article><h1>The river</h1><p>The ice broke on the river \
            in the first week of March, two weeks earlier than the village had known it to \
            in living memory.</p><figure><img src=\"a.jpg\"><figcaption><p>Ice floes on the \
            river</p><p>at dawn, <em>March 2019</em>.</p></figcaption></figure>\
            <p>Photo: Anna Berg</p><p>By noon the floes had jammed at the bridge, and the \
            water rose over the road to the mill for the rest of the day.</p></article>\
            </body></html>";
        let doc = read(page.as_bytes(), MAX).expect("reads");
        assert_eq!(
            doc.captions,
            ["Ice floes on the river at dawn, March 2019."]
        );
        assert!(!doc.body.contains("Ice floes"), "{}", doc.body);
        assert!(doc.body.contains("Photo: Anna Berg"), "{}", doc.body);
        assert!(doc.body.contains("By noon the floes"), "{}", doc.body);
        let plain = read(
            b"<html><body><article><p>No figure here, only a paragraph long \
            enough to be the article that a reader came to the page for.</p></article>\
            </body></html>",
            MAX,
        )
        .expect("reads");
        assert!(plain.captions.is_empty());
    }

    #[test]
    fn no_comment_is_taken_for_the_article() {
        let doc = read(COMMENTS, MAX).expect("comments.html reads");
        for comment in [
            "one-sided analysis",
            "two tours near Mazar-i-Sharif",
            "Najibullah",
            "drug routes north",
            "Reply",
        ] {
            assert!(!doc.body.contains(comment), "kept a comment: {comment:?}");
        }
        let got = paragraphs(&doc.body);
        // The short article the comments stand under: the seed's lines 4 to 7, the first two
        // in figcaptions (make.py's article_html puts the lines at CAPTIONS' places there).
        let lines = &seed_lines()[4..8];
        assert_eq!(doc.captions, lines[..2]);
        for line in &lines[2..] {
            assert!(got.contains(line), "lost {line:?}");
        }
    }

    #[test]
    fn a_page_in_its_declared_charset() {
        let page = "<html><head><meta charset=\"windows-1251\"><title>Стратегия России</title>\
            </head><body><article><h1>Стратегия России</h1><p>Москва готовится действовать \
            в Афганистане в одиночку: переговоры, оружие и торговля, и всё это без оглядки на \
            Вашингтон, который, по мнению Кремля, уже проиграл эту войну.</p></article>\
            </body></html>";
        let (bytes, _, _) = encoding_rs::WINDOWS_1251.encode(page);
        let doc = read(&bytes, MAX).expect("reads");
        assert!(doc.body.contains("Москва готовится"), "{}", doc.body);
        assert_eq!(doc.title.as_deref(), Some("Стратегия России"));
    }

    #[test]
    fn deep_nesting_is_refused_not_a_stack_overflow() {
        let mut page = String::from("<html><body>");
        page.push_str(&"<div>".repeat(100_000));
        page.push_str("deep");
        page.push_str(&"</div>".repeat(100_000));
        page.push_str("</body></html>");
        let err = read(page.as_bytes(), MAX).unwrap_err();
        assert!(err.0.contains("deeper"), "{err}");
        // Under the cheap count's limit, over the parsed tree's.
        let page = format!(
            "<html><body>{}deep{}</body></html>",
            "<span>".repeat(1500),
            "</span>".repeat(1500)
        );
        let err = read(page.as_bytes(), MAX).unwrap_err();
        assert!(err.0.contains("deeper"), "{err}");
    }

    #[test]
    fn too_large_and_empty_pages() {
        assert!(read(ARTICLE, 1000).unwrap_err().0.contains("larger"));
        assert!(read(b"", MAX).is_err());
    }
}
