//! Voter-list import: a forgiving, bounded parser of `login,email[,weight[,language]]` lines.
//!
//! Invariants: the parser never panics and never fails as a whole: each bad line is reported
//! with its 1-based number and a reason (which never echoes the line's content back), and every
//! good line is kept. Input is bytes, not text: a line that is not UTF-8 is one bad line. Sizes
//! are bounded before anything is allocated per line: at most [`MAX_LINE_BYTES`] per line,
//! `max_lines` lines, [`MAX_REPORTED_ERRORS`] detailed errors. A header line (`login,email…`)
//! is optional; when present it may name the optional columns in another order or leave
//! one out (`login,email,language`). The language (`en` or `fr`, empty for the election's
//! default) is that of the voter's mails; any other value makes the line bad. Blank lines and lines starting with `#` are skipped, a field wrapped in double
//! quotes is unwrapped, a login appears at most once.

use std::collections::HashMap;

use serde::Serialize;

use crate::mail_text::Lang;
use crate::storage::Voter;

/// Longest line accepted, in bytes.
pub const MAX_LINE_BYTES: usize = 1024;
/// Longest login, in bytes.
pub const MAX_LOGIN_BYTES: usize = 128;
/// Longest mail address, in bytes (RFC 5321 path limit).
pub const MAX_EMAIL_BYTES: usize = 254;
/// Largest voting weight.
pub const MAX_WEIGHT: u64 = 1_000_000_000;
/// Most bad lines reported in detail (the rest are counted).
pub const MAX_REPORTED_ERRORS: usize = 1000;

/// One refused line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineError {
    /// 1-based line number.
    pub line: usize,
    /// Why it was refused.
    pub reason: String,
}

/// What the parser made of an upload.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ParsedList {
    /// Accepted voters with their line numbers.
    pub voters: Vec<(usize, Voter)>,
    /// Refused lines (at most [`MAX_REPORTED_ERRORS`]).
    pub errors: Vec<LineError>,
    /// Refused lines in total.
    pub error_count: usize,
}

impl ParsedList {
    /// Records a refused line.
    pub fn refuse(&mut self, line: usize, reason: impl Into<String>) {
        self.error_count += 1;
        if self.errors.len() < MAX_REPORTED_ERRORS {
            self.errors.push(LineError {
                line,
                reason: reason.into(),
            });
        }
    }
}

fn unquote(field: &str) -> Result<&str, &'static str> {
    let f = field.trim();
    let inner = match f.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        Some(inner) => inner,
        None => f,
    };
    if inner.contains('"') {
        return Err("quotes inside a field are not supported");
    }
    Ok(inner.trim())
}

fn check_login(login: &str) -> Result<(), String> {
    if login.is_empty() {
        return Err("empty login".to_owned());
    }
    if login.len() > MAX_LOGIN_BYTES {
        return Err(format!("login longer than {MAX_LOGIN_BYTES} bytes"));
    }
    if login.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err("login contains spaces or control characters".to_owned());
    }
    Ok(())
}

/// Checks a mail address (of a voter, or of a trustee): not empty, bounded, no space nor
/// control character, a local part and a domain.
pub fn check_email(email: &str) -> Result<(), String> {
    if email.is_empty() {
        return Err("empty email".to_owned());
    }
    if email.len() > MAX_EMAIL_BYTES {
        return Err(format!("email longer than {MAX_EMAIL_BYTES} bytes"));
    }
    if email.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err("email contains spaces or control characters".to_owned());
    }
    let Some((local, domain)) = email.rsplit_once('@') else {
        return Err("email has no '@'".to_owned());
    };
    if local.is_empty() || domain.is_empty() || !domain.contains('.') {
        return Err("email is not of the form name@domain.tld".to_owned());
    }
    email
        .parse::<lettre::Address>()
        .map(|_| ())
        .map_err(|_| "email is not a valid address".to_owned())
}

fn parse_weight(field: &str) -> Result<u64, String> {
    if field.is_empty() {
        return Ok(1);
    }
    if field.len() > 12 || !field.bytes().all(|b| b.is_ascii_digit()) {
        return Err("weight is not a whole number".to_owned());
    }
    match field.parse::<u64>() {
        Ok(w) if (1..=MAX_WEIGHT).contains(&w) => Ok(w),
        _ => Err(format!("weight must be between 1 and {MAX_WEIGHT}")),
    }
}

fn parse_language(field: &str) -> Result<Option<Lang>, String> {
    if field.is_empty() {
        return Ok(None);
    }
    Lang::parse(field)
        .map(Some)
        .ok_or_else(|| "unknown language (expected en or fr, or nothing)".to_owned())
}

/// Checks one voter entered by hand (not from a file) with the same rules as a line of an
/// imported list: the reason names the first bad field.
pub fn check_voter(voter: &Voter) -> Result<(), String> {
    check_login(&voter.login)?;
    check_email(&voter.email)?;
    if !(1..=MAX_WEIGHT).contains(&voter.weight) {
        return Err(format!("weight must be between 1 and {MAX_WEIGHT}"));
    }
    Ok(())
}

/// Where the optional columns are: `login,email,weight,language` unless a header says
/// otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Columns {
    weight: Option<usize>,
    language: Option<usize>,
    count: usize,
}

impl Default for Columns {
    fn default() -> Self {
        Self {
            weight: Some(2),
            language: Some(3),
            count: 4,
        }
    }
}

fn header_name(field: &str) -> String {
    field.trim().trim_matches('"').to_ascii_lowercase()
}

fn is_header(fields: &[&str]) -> bool {
    let name = |i: usize| fields.get(i).map(|f| header_name(f));
    name(0).as_deref() == Some("login")
        && matches!(
            name(1).as_deref(),
            Some("email") | Some("mail") | Some("e-mail")
        )
}

/// The columns a header names, or why it cannot be used.
fn header_columns(fields: &[&str]) -> Result<Columns, String> {
    let mut cols = Columns {
        weight: None,
        language: None,
        count: fields.len(),
    };
    for (i, f) in fields.iter().enumerate().skip(2) {
        let slot = match header_name(f).as_str() {
            "weight" => &mut cols.weight,
            "language" | "lang" => &mut cols.language,
            _ => {
                return Err(format!(
                    "column {} of the header is not weight or language",
                    i + 1
                ));
            }
        };
        if slot.is_some() {
            return Err(format!("column {} of the header repeats a column", i + 1));
        }
        *slot = Some(i);
    }
    Ok(cols)
}

/// Parses a voter list. Never fails; see the module documentation for the rules.
pub fn parse_voter_list(input: &[u8], max_lines: usize) -> ParsedList {
    let mut out = ParsedList::default();
    let input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
    let mut first_line: HashMap<String, usize> = HashMap::new();
    let mut seen_content = false;
    let mut columns = Columns::default();
    for (i, raw) in input.split(|&b| b == b'\n').enumerate() {
        let line_no = i + 1;
        if line_no > max_lines {
            out.refuse(
                line_no,
                format!("more than {max_lines} lines; the rest of the file was ignored"),
            );
            break;
        }
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.len() > MAX_LINE_BYTES {
            out.refuse(line_no, format!("line longer than {MAX_LINE_BYTES} bytes"));
            continue;
        }
        let Ok(line) = std::str::from_utf8(raw) else {
            out.refuse(line_no, "not valid UTF-8");
            continue;
        };
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = trimmed.split(',').collect();
        if !seen_content {
            seen_content = true;
            if is_header(&fields) {
                match header_columns(&fields) {
                    Ok(c) => columns = c,
                    Err(reason) => out.refuse(line_no, reason),
                }
                continue;
            }
        }
        if fields.len() < 2 || fields.len() > columns.count {
            out.refuse(
                line_no,
                format!(
                    "expected 2 to {} fields (login,email[,weight[,language]]), found {}",
                    columns.count,
                    fields.len()
                ),
            );
            continue;
        }
        let parsed = (|| {
            let login = unquote(fields[0]).map_err(str::to_owned)?;
            let email = unquote(fields[1]).map_err(str::to_owned)?;
            let field = |i: Option<usize>| i.and_then(|i| fields.get(i));
            let weight = match field(columns.weight) {
                Some(f) => parse_weight(unquote(f).map_err(str::to_owned)?)?,
                None => 1,
            };
            let language = match field(columns.language) {
                Some(f) => parse_language(unquote(f).map_err(str::to_owned)?)?,
                None => None,
            };
            check_login(login)?;
            check_email(email)?;
            Ok::<_, String>(Voter {
                login: login.to_owned(),
                email: email.to_owned(),
                weight,
                language,
            })
        })();
        match parsed {
            Ok(voter) => {
                if let Some(first) = first_line.get(&voter.login) {
                    out.refuse(
                        line_no,
                        format!("duplicate login (first seen on line {first})"),
                    );
                } else {
                    first_line.insert(voter.login.clone(), line_no);
                    out.voters.push((line_no, voter));
                }
            }
            Err(reason) => out.refuse(line_no, reason),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn good_and_bad_lines() {
        let input = b"login,email,weight\r\n\
                      alice,alice@example.org\r\n\
                      bob,bob@example.org,3\n\
                      \n\
                      # a comment\n\
                      carol,not-an-email\n\
                      dave,dave@example.org,0\n\
                      alice,other@example.org\n\
                      \"erin\",\"erin@example.org\",\"2\"\n\
                      frank\n\
                      gus,gus@example.org,1,extra\n\
                      h i,h@example.org\n";
        let p = parse_voter_list(input, 100);
        let logins: Vec<_> = p
            .voters
            .iter()
            .map(|(n, v)| (*n, v.login.as_str(), v.weight))
            .collect();
        assert_eq!(logins, vec![(2, "alice", 1), (3, "bob", 3), (9, "erin", 2)]);
        let lines: Vec<_> = p.errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![6, 7, 8, 10, 11, 12]);
        assert!(p.errors[2].reason.contains("line 2"));
        assert_eq!(p.error_count, 6);
        // "gus,gus@example.org,1,extra": the header names no fourth column.
        assert!(p.errors[4].reason.contains("expected 2 to 3 fields"));
    }

    #[test]
    fn languages_by_position_or_by_header() {
        let p = parse_voter_list(
            b"a,a@x.org,2,fr\nb,b@x.org,1,EN\nc,c@x.org\nd,d@x.org,1,\n",
            10,
        );
        let langs: Vec<_> = p.voters.iter().map(|(_, v)| v.language).collect();
        assert_eq!(langs, vec![Some(Lang::Fr), Some(Lang::En), None, None]);
        let p = parse_voter_list(
            b"login,email,language\na,a@x.org,fr\nb,b@x.org,de\nc,c@x.org,fr,3\n",
            10,
        );
        assert_eq!(p.voters.len(), 1);
        assert_eq!(
            (p.voters[0].1.language, p.voters[0].1.weight),
            (Some(Lang::Fr), 1)
        );
        assert_eq!(p.errors[0].line, 3);
        assert!(p.errors[0].reason.contains("unknown language"));
        assert!(!p.errors[0].reason.contains("de"));
        assert!(p.errors[1].reason.contains("expected 2 to 3 fields"));
        let p = parse_voter_list(b"login,email,colour\na,a@x.org\n", 10);
        assert_eq!(p.errors[0].line, 1);
        assert_eq!(p.voters.len(), 1);
    }

    #[test]
    fn header_is_optional_and_only_first() {
        let p = parse_voter_list(b"a,a@x.org\nlogin,email\n", 10);
        assert_eq!(p.voters.len(), 1);
        assert_eq!(p.errors.len(), 1);
    }

    #[test]
    fn hostile_input_never_panics() {
        // invalid UTF-8
        let p = parse_voter_list(b"\xff\xfe,\xc3\x28@x.org\nok,ok@x.org\n", 10);
        assert_eq!(p.voters.len(), 1);
        assert_eq!(p.errors[0].reason, "not valid UTF-8");
        // a huge line
        let mut big = vec![b'a'; 10 * 1024 * 1024];
        big.extend_from_slice(b"\nok,ok@x.org");
        let p = parse_voter_list(&big, 10);
        assert_eq!(p.voters.len(), 1);
        assert!(p.errors[0].reason.contains("longer"));
        // many columns
        let many = ",".repeat(1000);
        let p = parse_voter_list(many.as_bytes(), 10);
        assert_eq!(p.voters.len(), 0);
        assert!(p.errors[0].reason.contains("found 1001"));
        // too many lines
        let lines = "x,x@x.org\n".repeat(50);
        let p = parse_voter_list(lines.as_bytes(), 5);
        assert_eq!(p.voters.len(), 1);
        assert!(
            p.errors
                .iter()
                .any(|e| e.reason.contains("more than 5 lines"))
        );
        // a flood of bad lines is counted, not all detailed
        let bad = "nope\n".repeat(5000);
        let p = parse_voter_list(bad.as_bytes(), 10_000);
        assert_eq!(p.errors.len(), MAX_REPORTED_ERRORS);
        assert_eq!(p.error_count, 5000);
        // odd bytes, quotes, huge weights, NULs
        for input in [
            &b"\"\",\"\""[..],
            b"\"",
            b"a,b@c.d,99999999999999999999999",
            b"a\0,b@c.d",
            b"a,b@c.d,-1",
            b"a,@,",
            b",,",
            b"\r\r\r\n",
            b"\xEF\xBB\xBF",
        ] {
            let p = parse_voter_list(input, 10);
            assert!(p.voters.is_empty(), "{input:?}");
        }
    }

    #[test]
    fn errors_do_not_echo_content() {
        let p = parse_voter_list(b"secret-login-xyz,nope\n", 10);
        assert!(!p.errors[0].reason.contains("secret"));
    }
}
