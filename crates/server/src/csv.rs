//! CSV for spreadsheets (RFC 4180), safe to open: every cell is quoted, and a cell that a
//! spreadsheet would read as a formula (starting with `=`, `+`, `-`, `@`, tab or carriage
//! return) gets a `'` in front so that it is shown as text. Used by every CSV the server
//! writes: the voter roll ([`crate::roll`]), the result and the decrypted ballots
//! ([`crate::web::exports`], [`crate::web::mixed`]).

/// One CSV cell: formula-neutralised (a leading `=`, `+`, `-`, `@`, tab or carriage return
/// gets a `'` in front, so that a spreadsheet shows it as text), then always wrapped in
/// double quotes with inner quotes doubled (RFC 4180).
pub fn csv_cell(value: &str) -> String {
    let dangerous = matches!(
        value.chars().next(),
        Some('=' | '+' | '-' | '@' | '\t' | '\r')
    );
    let mut out = String::with_capacity(value.len() + 3);
    out.push('"');
    if dangerous {
        out.push('\'');
    }
    out.push_str(&value.replace('"', "\"\""));
    out.push('"');
    out
}

/// One CSV line of cells, ended by CRLF (RFC 4180).
pub fn csv_row<'a>(cells: impl IntoIterator<Item = &'a str>) -> String {
    let mut line = cells
        .into_iter()
        .map(csv_cell)
        .collect::<Vec<_>>()
        .join(",");
    line.push_str("\r\n");
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_neutralised() {
        assert_eq!(csv_cell("=cmd|' /C calc'!A0"), "\"'=cmd|' /C calc'!A0\"");
        assert_eq!(csv_cell("+x"), "\"'+x\"");
        assert_eq!(csv_cell("-x"), "\"'-x\"");
        assert_eq!(csv_cell("@x"), "\"'@x\"");
        assert_eq!(csv_cell("\tx"), "\"'\tx\"");
        assert_eq!(csv_cell("\rx"), "\"'\rx\"");
    }

    #[test]
    fn plain_cells_are_quoted_unchanged() {
        assert_eq!(csv_cell("alice"), "\"alice\"");
        assert_eq!(csv_cell(""), "\"\"");
        assert_eq!(csv_cell("a=b"), "\"a=b\"");
        assert_eq!(csv_cell("x@example.org"), "\"x@example.org\"");
    }

    #[test]
    fn quotes_commas_and_newlines_stay_inside_the_cell() {
        assert_eq!(csv_cell("a\"b"), "\"a\"\"b\"");
        assert_eq!(csv_cell("a,b\nc"), "\"a,b\nc\"");
        assert_eq!(csv_cell("=\"x\""), "\"'=\"\"x\"\"\"");
        assert_eq!(csv_row(["a", "-1", "b,c"]), "\"a\",\"'-1\",\"b,c\"\r\n");
    }
}
