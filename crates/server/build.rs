//! Embeds the web front end (`web/pages`, `web/static`, `web/i18n`, `web/pkg`) in the
//! binary: writes `$OUT_DIR/web_assets.rs`, a table of `(path, include_bytes!(…))` sorted by
//! path, so that `cargo run` serves the pages and the booth bundle with no other files.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The folders of `web/` that are served; `web/test` and its `node_modules` are not.
const SERVED: &[&str] = &["pages", "static", "i18n", "pkg"];

fn collect(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect(root, &path, out)?;
        } else if let Ok(rel) = path.strip_prefix(root) {
            let rel = rel.to_string_lossy().replace('\\', "/");
            if !rel.ends_with(".swp") && !rel.ends_with('~') {
                out.push((rel, path.clone()));
            }
        }
    }
    Ok(())
}

fn main() -> std::io::Result<()> {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let web = manifest.join("../../web");
    let mut files = Vec::new();
    for dir in SERVED {
        let d = web.join(dir);
        println!("cargo:rerun-if-changed={}", d.display());
        if d.is_dir() {
            collect(&web, &d, &mut files)?;
        }
    }
    files.sort();
    let mut code =
        String::from("/// Every embedded file of `web/`: path relative to `web/`, bytes.\n");
    code.push_str("pub static ASSETS: &[(&str, &[u8])] = &[\n");
    for (rel, path) in &files {
        let abs = std::fs::canonicalize(path)?;
        let _ = writeln!(
            code,
            "    ({rel:?}, include_bytes!({:?})),",
            abs.display().to_string()
        );
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default()).join("web_assets.rs");
    std::fs::write(out, code)
}
