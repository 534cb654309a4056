//! The examples that docs/spec.md quotes from the test vectors are the test vectors, byte
//! for byte, so that they cannot drift when the vectors are regenerated.
//!
//! How the spec marks an example (keep these forms when editing it):
//! - a line that mentions `line N of the test vectors` (on one line), followed, after blank
//!   lines only, by a fenced block: the block is line `N` of `record.jsonl` or its body;
//!   if the paragraph right after the block says `SHA-256 is `…``, that is the SHA-256
//!   of line `N`;
//! - the sections whose heading names `election_key` or `credentials`: the first fenced
//!   block after a line mentioning "Example" is the body of that event in `record.jsonl`;
//! - §13: the line count of `record.jsonl` ("the whole record (N lines") and its head
//!   (the first hexadecimal hash after "its head"), also the `head` of `proofs.json`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use scrutin_election::Hash32;
use serde_json::Value;

fn docs() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs")
}

fn read(path: &str) -> String {
    let path = docs().join(path);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

struct Vectors {
    lines: Vec<String>,
    proofs: Value,
}

fn vectors() -> Vectors {
    let record = read("test-vectors/record.jsonl");
    assert!(record.ends_with('\n'), "record.jsonl ends with a line feed");
    Vectors {
        lines: record.split_terminator('\n').map(String::from).collect(),
        proofs: serde_json::from_str(&read("test-vectors/proofs.json")).unwrap(),
    }
}

/// The body of a canonical line (§11.1: `body` is the last member).
fn body(line: &str) -> &str {
    let at = line.find(",\"body\":").expect("a record line") + 8;
    line[at..].strip_suffix('}').expect("a record line")
}

/// The type of a canonical line.
fn kind(line: &str) -> &str {
    let at = line.find(",\"type\":\"").expect("a record line") + 9;
    let rest = &line[at..];
    &rest[..rest.find('"').unwrap()]
}

/// The first 64-character lowercase hexadecimal string between backquotes in `text`.
fn first_hash(text: &str) -> Option<&str> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .find(|s| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The fenced block that starts after line `i` (blank lines only in between): its
/// content and the index of the line after its closing fence.
fn block_after(spec: &[&str], i: usize) -> Option<(String, usize)> {
    let mut j = i + 1;
    while j < spec.len() && spec[j].trim().is_empty() {
        j += 1;
    }
    if !spec.get(j)?.starts_with("```") {
        return None;
    }
    let end = (j + 1..spec.len())
        .find(|&e| spec[e].starts_with("```"))
        .expect("a closed fenced block");
    Some((spec[j + 1..end].join("\n"), end + 1))
}

/// `N` in "line N of the test vectors".
fn marked_line(text: &str) -> Option<usize> {
    let before = text.split(" of the test vectors").next()?;
    if before.len() == text.len() {
        return None;
    }
    let number = before.rsplit("line ").next()?;
    number.parse().ok()
}

/// The lines of the section whose heading (`### …`) satisfies `pick`.
fn section<'a>(spec: &[&'a str], pick: impl Fn(&str) -> bool) -> Vec<&'a str> {
    let start = spec
        .iter()
        .position(|l| l.starts_with("##") && pick(l))
        .expect("a section of the spec");
    let end = (start + 1..spec.len())
        .find(|&e| spec[e].starts_with("## ") || spec[e].starts_with("### "))
        .unwrap_or(spec.len());
    spec[start..end].to_vec()
}

#[test]
fn marked_examples_are_lines_of_the_vectors() {
    let spec_text = read("spec.md");
    let spec: Vec<&str> = spec_text.lines().collect();
    let v = vectors();
    let mut checked = Vec::new();
    for (i, text) in spec.iter().enumerate() {
        let Some(n) = marked_line(text) else { continue };
        let Some((block, after)) = block_after(&spec, i) else {
            continue;
        };
        let line = v
            .lines
            .get(n)
            .unwrap_or_else(|| panic!("spec line {}: no line {n} in the vectors", i + 1));
        assert!(
            block == *line || block == body(line),
            "spec line {}: the example is not line {n} of the test vectors (nor its body):\n\
             spec:    {block}\nvectors: {line}",
            i + 1
        );
        // The paragraph after the block may give the line's hash.
        let paragraph: Vec<&str> = spec[after..]
            .iter()
            .skip_while(|l| l.trim().is_empty())
            .take_while(|l| !l.trim().is_empty())
            .copied()
            .collect();
        let paragraph = paragraph.join(" ");
        let mut hashed = false;
        if let Some(at) = paragraph.find("SHA-256 is `") {
            let quoted = first_hash(&paragraph[at..]).expect("a hash after `SHA-256 is`");
            let hash = Hash32::of(line.as_bytes()).to_hex();
            assert_eq!(quoted, hash, "spec line {}: SHA-256 of line {n}", i + 1);
            assert_eq!(v.proofs["line_hashes"][n]["hash"], hash.as_str());
            hashed = true;
        }
        checked.push((kind(line).to_string(), hashed));
    }
    // The examples the spec must keep quoting: the definition with its hash, the opening
    // and the result.
    for (wanted, with_hash) in [("election", true), ("open", false), ("result", false)] {
        assert!(
            checked
                .iter()
                .any(|(k, h)| k == wanted && (*h || !with_hash)),
            "the spec no longer quotes a marked `{wanted}` example{}: {checked:?}",
            if with_hash { " with its SHA-256" } else { "" }
        );
    }
    let result: Value = serde_json::from_str(body(v.lines.last().unwrap())).unwrap();
    assert_eq!(
        v.proofs["result"], result,
        "proofs.json's result is the body of the last line"
    );
}

#[test]
fn key_and_credential_examples_are_bodies_of_the_vectors() {
    let spec_text = read("spec.md");
    let spec: Vec<&str> = spec_text.lines().collect();
    let v = vectors();
    for event in ["election_key", "credentials"] {
        let heading = format!("`{event}`");
        let sec = section(&spec, |h| h.starts_with("### ") && h.contains(&heading));
        let i = sec
            .iter()
            .position(|l| l.contains("Example"))
            .unwrap_or_else(|| panic!("no example in the section on {event}"));
        let (block, _) = block_after(&sec, i)
            .unwrap_or_else(|| panic!("no fenced block after the example on {event}"));
        let lines: Vec<&String> = v.lines.iter().filter(|l| kind(l) == event).collect();
        assert_eq!(lines.len(), 1, "one {event} line in the vectors");
        assert_eq!(
            block,
            body(lines[0]),
            "the example of {event} is not the body of that line in the test vectors"
        );
    }
    let key = v.lines.iter().find(|l| kind(l) == "election_key").unwrap();
    let key: Value = serde_json::from_str(body(key)).unwrap();
    assert_eq!(key["public_key"], v.proofs["election_key"]);
}

#[test]
fn section_13_describes_the_record() {
    let spec_text = read("spec.md");
    let spec: Vec<&str> = spec_text.lines().collect();
    let v = vectors();
    let text = section(&spec, |h| h.starts_with("## §13")).join(" ");
    let count = text
        .split("the whole record (")
        .nth(1)
        .and_then(|rest| rest.split(" lines").next())
        .expect("§13 gives the number of lines");
    assert_eq!(
        count.parse::<usize>().unwrap(),
        v.lines.len(),
        "§13 line count"
    );
    let at = text.find("its head").expect("§13 gives the head");
    let quoted = first_hash(&text[at..]).expect("a hash after `its head`");
    let head = Hash32::of(v.lines.last().unwrap().as_bytes()).to_hex();
    assert_eq!(
        quoted, head,
        "§13: the head is the SHA-256 of the last line"
    );
    assert_eq!(v.proofs["head"], head.as_str());
}
