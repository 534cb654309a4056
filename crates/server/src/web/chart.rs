//! Horizontal bar charts as inline SVG, drawn by the server (no script, no inline style:
//! presentation attributes only, which the stylesheet may override for the dark theme).
//!
//! Accessible: `role="img"` named by its `<title>` and described by its `<desc>`, which
//! says every number; the page shows the same numbers in a table next to it. Colours: bars
//! `#1d4ed8` (6.7:1 against white, 5.6:1 against the light grey track), blank votes
//! `#4a4a4a`, text `#1a1a1a`.

use super::html::Html;

/// One bar.
pub struct Bar {
    /// What the bar counts (an answer, or "blank votes").
    pub label: String,
    /// Its value.
    pub value: u64,
    /// What the value is a share of: the bar is `value / whole` of the longest possible.
    pub whole: u64,
    /// The value as shown at the end of the bar (`12 (40.0%)`).
    pub value_text: String,
    /// Drawn in the colour of blank votes.
    pub blank: bool,
}

const WIDTH: u32 = 400;
const BAR_MAX: u64 = 230;
const ROW: u32 = 56;
const LABEL_CHARS: usize = 48;

fn shorten(label: &str) -> String {
    let one_line: String = label
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if one_line.chars().count() <= LABEL_CHARS {
        one_line
    } else {
        let mut s: String = one_line.chars().take(LABEL_CHARS - 1).collect();
        s.push('…');
        s
    }
}

/// Writes the chart of `bars`, each as long as its share of its `whole`. `id` must be
/// unique in the page (it names the title and description).
pub fn bar_chart(h: &mut Html, id: &str, title: &str, desc: &str, bars: &[Bar]) {
    let height = (ROW * bars.len() as u32).max(ROW);
    let (title_id, desc_id) = (format!("{id}-title"), format!("{id}-desc"));
    let labelled = format!("{title_id} {desc_id}");
    let view_box = format!("0 0 {WIDTH} {height}");
    let (w, hgt) = (WIDTH.to_string(), height.to_string());
    h.open(
        "svg",
        &[
            ("xmlns", "http://www.w3.org/2000/svg"),
            ("class", "chart"),
            ("id", id),
            ("role", "img"),
            ("aria-labelledby", &labelled),
            ("viewBox", &view_box),
            ("width", &w),
            ("height", &hgt),
            ("font-size", "15"),
        ],
    );
    h.elem("title", &[("id", &title_id)], title);
    h.elem("desc", &[("id", &desc_id)], desc);
    for (i, bar) in bars.iter().enumerate() {
        let top = ROW * i as u32;
        let whole = bar.whole;
        let length = if whole == 0 {
            0
        } else {
            (u128::from(bar.value.min(whole)) * u128::from(BAR_MAX) / u128::from(whole)) as u64
        };
        // A vote that rounds to nothing still shows.
        let length = if bar.value > 0 { length.max(2) } else { 0 };
        let (label_y, bar_y, value_y) = (
            (top + 18).to_string(),
            (top + 26).to_string(),
            (top + 41).to_string(),
        );
        let value_x = (length + 8).to_string();
        h.elem(
            "text",
            &[
                ("class", "chart-label"),
                ("x", "0"),
                ("y", &label_y),
                ("fill", "#1a1a1a"),
            ],
            &shorten(&bar.label),
        );
        // The track: the whole, against which the bar is read.
        h.void(
            "rect",
            &[
                ("class", "chart-track"),
                ("x", "0"),
                ("y", &bar_y),
                ("width", &BAR_MAX.to_string()),
                ("height", "20"),
                ("fill", "#f3f4f6"),
            ],
        );
        let (class, fill) = if bar.blank {
            ("chart-bar chart-blank", "#4a4a4a")
        } else {
            ("chart-bar", "#1d4ed8")
        };
        h.void(
            "rect",
            &[
                ("class", class),
                ("x", "0"),
                ("y", &bar_y),
                ("width", &length.to_string()),
                ("height", "20"),
                ("fill", fill),
            ],
        );
        h.elem(
            "text",
            &[
                ("class", "chart-value"),
                ("x", &value_x),
                ("y", &value_y),
                ("fill", "#1a1a1a"),
            ],
            &bar.value_text,
        );
    }
    h.close("svg");
}

/// One part of a stacked bar (a grade and how many gave it).
pub struct Segment {
    pub label: String,
    pub value: u64,
}

/// Shades of the stacked bars, from the first segment (best grade) to the last; the last
/// one repeats if there are more segments.
const SHADES: [&str; 7] = [
    "#1e3a8a", "#1d4ed8", "#3b82f6", "#93c5fd", "#fca5a5", "#ef4444", "#991b1b",
];

/// Writes one stacked bar per row, each segment as long as its share of `whole`, with the
/// segments' labels in a legend line under the bars. `id` must be unique in the page.
pub fn stacked_chart(
    h: &mut Html,
    id: &str,
    title: &str,
    desc: &str,
    rows: &[(String, Vec<Segment>)],
    whole: u64,
) {
    let legend = rows.first().map(|(_, s)| s.len()).unwrap_or(0) as u32;
    let height = (ROW * rows.len() as u32).max(ROW) + 24 * legend;
    let (title_id, desc_id) = (format!("{id}-title"), format!("{id}-desc"));
    let labelled = format!("{title_id} {desc_id}");
    let view_box = format!("0 0 {WIDTH} {height}");
    let (w, hgt) = (WIDTH.to_string(), height.to_string());
    h.open(
        "svg",
        &[
            ("xmlns", "http://www.w3.org/2000/svg"),
            ("class", "chart chart-stacked"),
            ("id", id),
            ("role", "img"),
            ("aria-labelledby", &labelled),
            ("viewBox", &view_box),
            ("width", &w),
            ("height", &hgt),
            ("font-size", "15"),
        ],
    );
    h.elem("title", &[("id", &title_id)], title);
    h.elem("desc", &[("id", &desc_id)], desc);
    let full = u64::from(WIDTH) - 10;
    let shade = |k: usize| SHADES.get(k).copied().unwrap_or("#991b1b");
    for (i, (label, segments)) in rows.iter().enumerate() {
        let top = ROW * i as u32;
        h.elem(
            "text",
            &[
                ("class", "chart-label"),
                ("x", "0"),
                ("y", &(top + 18).to_string()),
                ("fill", "#1a1a1a"),
            ],
            &shorten(label),
        );
        let mut x = 0u64;
        for (k, s) in segments.iter().enumerate() {
            let length = if whole == 0 {
                0
            } else {
                (u128::from(s.value.min(whole)) * u128::from(full) / u128::from(whole)) as u64
            };
            h.void(
                "rect",
                &[
                    ("class", "chart-segment"),
                    ("x", &x.to_string()),
                    ("y", &(top + 26).to_string()),
                    ("width", &length.to_string()),
                    ("height", "20"),
                    ("fill", shade(k)),
                ],
            );
            x = x.saturating_add(length);
        }
    }
    if let Some((_, segments)) = rows.first() {
        let base = ROW * rows.len() as u32;
        for (k, s) in segments.iter().enumerate() {
            let y = base + 24 * k as u32;
            h.void(
                "rect",
                &[
                    ("x", "0"),
                    ("y", &(y + 4).to_string()),
                    ("width", "16"),
                    ("height", "16"),
                    ("fill", shade(k)),
                ],
            );
            h.elem(
                "text",
                &[
                    ("class", "chart-label"),
                    ("x", "24"),
                    ("y", &(y + 17).to_string()),
                    ("fill", "#1a1a1a"),
                ],
                &shorten(&s.label),
            );
        }
    }
    h.close("svg");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_are_proportional_and_labels_escaped() {
        let mut h = Html::new();
        let bars = [
            Bar {
                label: "<Ada>".into(),
                value: 3,
                whole: 4,
                value_text: "3 (75.0%)".into(),
                blank: false,
            },
            Bar {
                label: "Blank".into(),
                value: 1,
                whole: 4,
                value_text: "1 (25.0%)".into(),
                blank: true,
            },
            Bar {
                label: "x".repeat(80),
                value: 0,
                whole: 4,
                value_text: "0".into(),
                blank: false,
            },
        ];
        bar_chart(&mut h, "q1", "Results", "Ada: 3", &bars);
        let svg = h.finish();
        assert!(svg.contains("role=\"img\""));
        assert!(svg.contains("aria-labelledby=\"q1-title q1-desc\""));
        assert!(svg.contains("&lt;Ada&gt;"));
        assert!(svg.contains("width=\"172\""), "{svg}");
        assert!(svg.contains("width=\"57\""), "{svg}");
        assert!(svg.contains("width=\"0\""), "{svg}");
        assert!(svg.contains('…'));
        assert!(svg.contains("viewBox=\"0 0 400 168\""));
    }
}
