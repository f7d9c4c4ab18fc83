//! Arbitrary HTML through the bounded parser and the sanitiser: they must
//! never panic, no parsed tree may be more than `MAX_DEPTH` levels deep, and
//! sanitised HTML cut to a limit must fit it and, when the whole sanitises
//! to itself, so must the cut.
#![no_main]

use libfuzzer_sys::fuzz_target;
use medee::extract::{MAX_DEPTH, parse_fragment, parse_html};
use medee::sanitize::{cut_html, sanitize_html};

fuzz_target!(|data: &[u8]| {
    let html = String::from_utf8_lossy(data);
    for tree in [parse_html(&html), parse_fragment(&html)] {
        let deepest = tree
            .tree
            .root()
            .descendants()
            .map(|node| node.ancestors().count())
            .max()
            .unwrap_or(0);
        assert!(deepest <= MAX_DEPTH, "{deepest} levels");
    }
    let base = url::Url::parse("https://montsame.mn/mn/more/8").expect("static URL");
    let clean = sanitize_html(&html, &base);
    let max = usize::from(data.first().copied().unwrap_or(0));
    if let Some(cut) = cut_html(&clean, max) {
        assert!(cut.len() <= max, "{cut:?}");
        if sanitize_html(&clean, &base) == clean {
            assert_eq!(sanitize_html(&cut, &base), cut, "from {clean:?}");
        }
    }
});
