//! Translations of the server-rendered pages: the same files as the browser's
//! (`web/i18n/<lang>/<namespace>.json`, flat `{"key": "text with {name}"}`), read the same
//! way as every served file (embedded, or from `web_dir`), and the same choice of language
//! as `web/static/js/i18n.js`: `?lang=`, then the `lang` cookie, then `Accept-Language`,
//! then English.

use std::collections::HashMap;

use axum::http::{HeaderMap, header};

use crate::state::AppState;

/// The languages of the pages: code and name in that language.
pub const LANGUAGES: &[(&str, &str)] = &[("en", "English"), ("fr", "Français")];

const FALLBACK: &str = "en";

fn supported(code: &str) -> Option<&'static str> {
    let code = code.get(..2).unwrap_or(code).to_ascii_lowercase();
    LANGUAGES.iter().map(|(c, _)| *c).find(|c| *c == code)
}

/// The `lang` cookie's value, if it names a supported language.
fn cookie_language(headers: &HeaderMap) -> Option<&'static str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().strip_prefix("lang="))
        .find_map(supported)
}

/// The supported language the browser prefers most (`Accept-Language`, with `q` weights).
fn accept_language(headers: &HeaderMap) -> Option<&'static str> {
    let value = headers.get(header::ACCEPT_LANGUAGE)?.to_str().ok()?;
    let mut best: Option<(u32, &'static str)> = None;
    for (position, item) in value.split(',').take(32).enumerate() {
        let mut parts = item.split(';');
        let tag = parts.next().unwrap_or("").trim();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if q.is_nan() || q <= 0.0 {
            continue;
        }
        let Some(code) = supported(tag) else {
            continue;
        };
        // Higher q first; at equal q, the earlier entry.
        let score = (q.min(1.0) * 1000.0) as u32 * 64 + (63 - position.min(63) as u32);
        if best.is_none_or(|(s, _)| score > s) {
            best = Some((score, code));
        }
    }
    best.map(|(_, c)| c)
}

/// The language of a page, and whether it was asked for with `?lang=` (then the response
/// sets the `lang` cookie so that the next pages follow).
pub fn negotiate(query: Option<&str>, headers: &HeaderMap) -> (&'static str, bool) {
    if let Some(code) = query.and_then(supported) {
        return (code, true);
    }
    let code = cookie_language(headers)
        .or_else(|| accept_language(headers))
        .unwrap_or(FALLBACK);
    (code, false)
}

/// The `Set-Cookie` value that remembers a language for a year.
pub fn language_cookie(code: &str) -> String {
    format!("lang={code}; Path=/; SameSite=Lax; Max-Age=31536000")
}

/// The messages of one language, with English for any key it lacks.
pub struct Messages {
    /// The language code (`en`, `fr`).
    pub lang: &'static str,
    texts: HashMap<String, String>,
    fallback: HashMap<String, String>,
}

async fn load_namespace(app: &AppState, lang: &str, namespace: &str) -> HashMap<String, String> {
    let Some(bytes) = super::load(app, &format!("i18n/{lang}/{namespace}.json")).await else {
        tracing::warn!(lang, namespace, "missing translation file");
        return HashMap::new();
    };
    serde_json::from_slice(&bytes).unwrap_or_else(|e| {
        tracing::warn!(lang, namespace, error = %e, "unreadable translation file");
        HashMap::new()
    })
}

impl Messages {
    /// Loads `common` and `namespaces` in `lang` and in English.
    pub async fn load(app: &AppState, lang: &'static str, namespaces: &[&str]) -> Self {
        let mut texts = HashMap::new();
        let mut fallback = HashMap::new();
        for ns in std::iter::once("common").chain(namespaces.iter().copied()) {
            fallback.extend(load_namespace(app, FALLBACK, ns).await);
            if lang != FALLBACK {
                texts.extend(load_namespace(app, lang, ns).await);
            }
        }
        Self {
            lang,
            texts,
            fallback,
        }
    }

    /// The text of `key` (the key itself if no file has it).
    pub fn t<'a>(&'a self, key: &'a str) -> &'a str {
        self.texts
            .get(key)
            .or_else(|| self.fallback.get(key))
            .map(String::as_str)
            .unwrap_or(key)
    }

    /// The text of `key` with its `{name}` placeholders filled from `vars`.
    pub fn tv(&self, key: &str, vars: &[(&str, &str)]) -> String {
        fill(self.lang, self.t(key), vars)
    }

    /// A whole number with the language's digit grouping (`12,345`; `12 345`).
    pub fn number(&self, n: u64) -> String {
        let digits = n.to_string();
        let sep = if self.lang == "fr" { "\u{202f}" } else { "," };
        let mut out = String::with_capacity(digits.len() + digits.len() / 3 * sep.len());
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push_str(sep);
            }
            out.push(c);
        }
        out
    }

    /// `part / whole` as a percentage with one decimal (`42.9%`; `42,9 %`); `—` if `whole`
    /// is zero.
    pub fn percent(&self, part: u64, whole: u64) -> String {
        if whole == 0 {
            return "—".to_owned();
        }
        // Tenths of a percent, rounded half up, in integers.
        let tenths = (u128::from(part) * 2000 + u128::from(whole)) / (2 * u128::from(whole));
        let (int, frac) = (tenths / 10, tenths % 10);
        if self.lang == "fr" {
            format!("{int},{frac}\u{202f}%")
        } else {
            format!("{int}.{frac}%")
        }
    }
}

/// Whether `value`, a count written with or without digit grouping, takes the singular in
/// `lang`: 1 in English, 0 and 1 in French.
pub fn singular(lang: &str, value: &str) -> bool {
    let digits: String = value.chars().filter(char::is_ascii_digit).collect();
    match digits.parse::<u64>() {
        Ok(n) if lang == "fr" => n < 2,
        Ok(n) => n == 1,
        Err(_) => false,
    }
}

/// Fills `{name}` placeholders, and plural selectors `{name|singular|plural}` with the form
/// that the count `name` takes in `lang` ([`singular`]), as `web/static/js/i18n.js` does.
pub fn fill(lang: &str, text: &str, vars: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        match after.find('}') {
            Some(end) => {
                let inside = &after[..end];
                let mut parts = inside.split('|');
                let name = parts.next().unwrap_or_default();
                let forms: Vec<&str> = parts.collect();
                match (vars.iter().find(|(n, _)| *n == name), forms.as_slice()) {
                    (Some((_, v)), []) => out.push_str(v),
                    (Some((_, v)), [one, other]) => {
                        out.push_str(if singular(lang, v) { one } else { other })
                    }
                    _ => {
                        out.push('{');
                        out.push_str(inside);
                        out.push('}');
                    }
                }
                rest = &after[end + 1..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// A Unix time as `2025-03-01 14:00 UTC` (the same in every language, unambiguous).
pub fn utc_time(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        rem / 3600,
        (rem % 3600) / 60
    )
}

/// The same time in the `datetime` attribute form (`2025-03-01T14:00:00Z`).
pub fn iso_time(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Year, month, day of a count of days since 1970-01-01 (proleptic Gregorian calendar;
/// H. Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (n, v) in pairs {
            h.append(
                n.clone(),
                HeaderValue::from_str(v).unwrap_or(HeaderValue::from_static("")),
            );
        }
        h
    }

    #[test]
    fn language_order_query_cookie_accept_language() {
        let h = headers(&[
            (header::COOKIE, "a=b; lang=fr"),
            (header::ACCEPT_LANGUAGE, "en-GB,en;q=0.9"),
        ]);
        assert_eq!(negotiate(Some("en"), &h), ("en", true));
        assert_eq!(negotiate(Some("xx"), &h), ("fr", false));
        assert_eq!(negotiate(None, &h), ("fr", false));
        let h = headers(&[(header::ACCEPT_LANGUAGE, "de-DE, fr-CH;q=0.8, en;q=0.7")]);
        assert_eq!(negotiate(None, &h), ("fr", false));
        let h = headers(&[(header::ACCEPT_LANGUAGE, "en;q=0.5, fr;q=0")]);
        assert_eq!(negotiate(None, &h), ("en", false));
        assert_eq!(negotiate(None, &HeaderMap::new()), ("en", false));
    }

    #[test]
    fn numbers_percentages_times_and_placeholders() {
        let messages = |lang| Messages {
            lang,
            texts: HashMap::new(),
            fallback: HashMap::new(),
        };
        let (en, fr) = (messages("en"), messages("fr"));
        assert_eq!(en.number(1_234_567), "1,234,567");
        assert_eq!(fr.number(1234), "1\u{202f}234");
        assert_eq!(en.number(12), "12");
        assert_eq!(en.percent(1, 3), "33.3%");
        assert_eq!(fr.percent(2, 3), "66,7\u{202f}%");
        assert_eq!(en.percent(0, 0), "—");
        assert_eq!(utc_time(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc_time(1_709_294_400), "2024-03-01 12:00 UTC");
        assert_eq!(iso_time(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(
            fill("en", "{a} and {b} {c", &[("a", "x"), ("b", "{a}")]),
            "x and {a} {c"
        );
    }

    #[test]
    fn plural_forms_follow_each_language() {
        let text = "{n} {n|election|elections}, {k|is|are} {k} {m|x}";
        let cases = [
            ("en", "0", "0 elections, is 1 {m|x}"),
            ("en", "1", "1 election, is 1 {m|x}"),
            ("en", "2", "2 elections, is 1 {m|x}"),
            ("fr", "0", "0 election, is 1 {m|x}"),
            ("fr", "1", "1 election, is 1 {m|x}"),
            ("fr", "2", "2 elections, is 1 {m|x}"),
            ("en", "1,000", "1,000 elections, is 1 {m|x}"),
        ];
        for (lang, n, expected) in cases {
            assert_eq!(
                fill(lang, text, &[("n", n), ("k", "1")]),
                expected,
                "{lang} {n}"
            );
        }
        assert!(singular("fr", "0") && !singular("en", "0") && !singular("fr", "12\u{202f}001"));
    }
}
