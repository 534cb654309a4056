//! A small HTML writer for the server-rendered pages: every text and attribute value goes
//! through [`escape`]; only literal markup of this crate goes in unescaped ([`Html::raw`]).
//! Tag and attribute names are `&'static str`, so they cannot come from a request.

use std::fmt::Write as _;

/// Escapes `&`, `<`, `>`, `"` and `'`: safe in text and in quoted attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    push_escaped(&mut out, s);
    out
}

fn push_escaped(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// An HTML document being written.
#[derive(Default)]
pub struct Html {
    buf: String,
}

impl Html {
    /// An empty document.
    pub fn new() -> Self {
        Self::default()
    }

    /// Markup written by this crate, as is (never a value from a request or the record).
    pub fn raw(&mut self, markup: &'static str) -> &mut Self {
        self.buf.push_str(markup);
        self
    }

    /// Text, escaped.
    pub fn text(&mut self, text: &str) -> &mut Self {
        push_escaped(&mut self.buf, text);
        self
    }

    fn attrs(&mut self, attrs: &[(&'static str, &str)]) {
        for (name, value) in attrs {
            let _ = write!(self.buf, " {name}=\"");
            push_escaped(&mut self.buf, value);
            self.buf.push('"');
        }
    }

    /// An opening tag with its attributes (values escaped).
    pub fn open(&mut self, tag: &'static str, attrs: &[(&'static str, &str)]) -> &mut Self {
        self.buf.push('<');
        self.buf.push_str(tag);
        self.attrs(attrs);
        self.buf.push('>');
        self
    }

    /// A void element (`<input>`, `<rect/>`…): `/>` closes it, valid in HTML and in SVG.
    pub fn void(&mut self, tag: &'static str, attrs: &[(&'static str, &str)]) -> &mut Self {
        self.buf.push('<');
        self.buf.push_str(tag);
        self.attrs(attrs);
        self.buf
            .push_str(if is_html_void(tag) { ">" } else { "/>" });
        self
    }

    /// A closing tag.
    pub fn close(&mut self, tag: &'static str) -> &mut Self {
        self.buf.push_str("</");
        self.buf.push_str(tag);
        self.buf.push('>');
        self
    }

    /// An element holding only text.
    pub fn elem(
        &mut self,
        tag: &'static str,
        attrs: &[(&'static str, &str)],
        text: &str,
    ) -> &mut Self {
        self.open(tag, attrs).text(text).close(tag)
    }

    /// The document written.
    pub fn finish(self) -> String {
        self.buf
    }
}

fn is_html_void(tag: &str) -> bool {
    matches!(tag, "input" | "meta" | "link" | "br" | "hr" | "img")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_text_and_attributes() {
        let mut h = Html::new();
        h.open("p", &[("title", "a\"b<c>'&")])
            .text("<script>alert('x')</script> & co")
            .close("p")
            .void("input", &[("value", "\"><b>")])
            .void("rect", &[("width", "3")]);
        assert_eq!(
            h.finish(),
            "<p title=\"a&quot;b&lt;c&gt;&#39;&amp;\">&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; co</p>\
             <input value=\"&quot;&gt;&lt;b&gt;\"><rect width=\"3\"/>"
        );
    }
}
