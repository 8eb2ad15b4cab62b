//! Telegram HTML as text: escaping text into it, and reading plain text back out of it.
//!
//! A leaf, so that the texts (which escape what they quote) and the rendering of answers
//! (which escapes passages, and reads texts back as plain text for the terminal) both use it
//! without using each other.

/// Escapes text for Telegram HTML (also safe inside a double-quoted attribute).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// Telegram HTML back to plain text: tags dropped, entities decoded. For resending a message
/// Telegram refused to parse.
/// `text_html` (already escaped) as a link to `url`, or as it is when there is no URL (a
/// document of one's own has none).
pub fn link(url: Option<&str>, text_html: &str) -> String {
    match url {
        Some(url) => format!("<a href=\"{}\">{text_html}</a>", escape(url)),
        None => text_html.to_string(),
    }
}

pub fn html_to_plain(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(i) = rest.find(['<', '&']) {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        if rest.starts_with('<') {
            match rest.find('>') {
                Some(end) => rest = &rest[end + 1..],
                None => {
                    out.push_str(rest);
                    rest = "";
                }
            }
        } else {
            let entity = [
                ("&amp;", '&'),
                ("&lt;", '<'),
                ("&gt;", '>'),
                ("&quot;", '"'),
            ]
            .into_iter()
            .find(|(e, _)| rest.starts_with(e));
            match entity {
                Some((e, c)) => {
                    out.push(c);
                    rest = &rest[e.len()..];
                }
                None => {
                    out.push('&');
                    rest = &rest[1..];
                }
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_back_to_plain() {
        let html = "<blockquote>a &lt;b&gt; &amp; <b>c</b></blockquote>\n— <a href=\"u?x=1&amp;y\">T</a> &copy;";
        assert_eq!(html_to_plain(html), "a <b> & c\n— T &copy;");
        assert_eq!(html_to_plain("broken <b"), "broken <b");
    }
}
