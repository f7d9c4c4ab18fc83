//! Story clustering: whether two headlines from different outlets tell the
//! same story. Pure: headlines in, a decision out; the store keeps the
//! clusters and the index that finds candidates (see `store::stories`).
//!
//! The method, in the order it is tried:
//! 1. equal normalised titles ([`crate::identity::title_key`]) are the same
//!    story: the cheapest test, and the rule medee always had;
//! 2. both headlines carry significant numbers and share none, or both name
//!    a day (or a part of the country) and no common one: different stories
//!    (another day's 25 °C, another match's score, another count, the
//!    eastern provinces' forecast beside the northern ones');
//! 3. otherwise the weighted Dice coefficient of their terms (stems of
//!    content words 1, short words and years 0.5, numbers 2, person names
//!    with an initial 3) must reach the threshold, with at least two content
//!    terms shared, so one shared name or place never merges on its own, and
//!    with half of the rest shared besides names (the same person at another
//!    event shares the name and a title, little else).
//!
//! When both items have a teaser, a headline pair that falls short by at
//! most a quarter of the threshold is also merged when their teasers pass it.

mod text;

pub use text::{Kind, Term, fold, person_names, stem, terms};

/// The default similarity a pair must reach: tuned on labelled pairs of real
/// Mongolian headlines for precision first (a false merge hides a story).
pub const DEFAULT_THRESHOLD: f64 = 0.7;

/// How the store decides which story a new item joins, from `[daemon]
/// cluster_threshold` and `cluster_window`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StorySettings {
    /// Similarity two reports must reach (0..=1).
    pub threshold: f64,
    /// Largest gap between the dates of two reports of one story.
    pub window: std::time::Duration,
}

/// The default window: two days, as outlets report a story over a day or two.
pub const DEFAULT_WINDOW: std::time::Duration = std::time::Duration::from_secs(48 * 3600);

impl Default for StorySettings {
    fn default() -> Self {
        Self {
            threshold: DEFAULT_THRESHOLD,
            window: DEFAULT_WINDOW,
        }
    }
}

/// Content terms two headlines must share, besides reaching the threshold.
const MIN_SHARED_TERMS: usize = 2;

/// How much of the rest two headlines must share besides person names (the
/// Dice coefficient of their other terms): the same person at another event
/// shares the name and a title ("Ерөнхий сайд") but little else.
const MIN_REST_OVERLAP: f64 = 0.5;

/// How far below the threshold a headline pair may fall and still be merged by its teasers.
const TEASER_MARGIN: f64 = 0.75;

/// What clustering compares of an item.
#[derive(Debug, Clone, PartialEq)]
pub struct Features {
    /// Normalised title, for the exact-title rule.
    pub title_key: String,
    /// Terms of the headline.
    pub headline: Vec<Term>,
    /// Terms of the teaser (plain text), if any.
    pub teaser: Vec<Term>,
    /// Days and parts of the country the headline names, by class.
    pub qualifiers: Vec<(usize, String)>,
}

impl Features {
    /// The features of a headline and its optional plain-text teaser.
    pub fn new(title: &str, teaser: Option<&str>) -> Self {
        let tokens = text::folded_tokens(title);
        Self {
            title_key: crate::identity::title_key(title),
            headline: text::terms_of(title, &tokens),
            teaser: teaser.map(terms).unwrap_or_default(),
            qualifiers: text::qualifiers_of(&tokens),
        }
    }

    /// The terms by which candidates are looked up: the headline's names,
    /// numbers and full stems (weak terms would only widen the search).
    pub fn index_terms(&self) -> impl Iterator<Item = &str> {
        self.headline
            .iter()
            .filter(|t| matches!(t.kind, Kind::Name | Kind::Number | Kind::Stem))
            .map(|t| t.key.as_str())
    }
}

/// How two term sets compare.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Overlap {
    /// Weighted Dice coefficient, 0..=1.
    pub dice: f64,
    /// The same of their terms besides person names: the same person at
    /// another event shares the name and a title ("Ерөнхий сайд") but little else.
    pub rest_dice: f64,
    /// Shared terms of full weight (names, numbers, stems of long words).
    pub shared: usize,
}

/// The weighted Dice coefficients of two sorted, deduplicated term lists,
/// with and without person names, in one pass.
pub fn overlap(a: &[Term], b: &[Term]) -> Overlap {
    let weight_of = |names: bool| -> f64 {
        a.iter()
            .chain(b)
            .filter(|t| names || t.kind != Kind::Name)
            .map(|t| t.kind.weight())
            .sum()
    };
    let (total, rest_total) = (weight_of(true), weight_of(false));
    let (mut common, mut rest_common, mut shared) = (0.0, 0.0, 0);
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].key.cmp(&b[j].key) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                let weight = a[i].kind.weight().min(b[j].kind.weight());
                common += weight;
                if a[i].kind != Kind::Name {
                    rest_common += weight;
                }
                if weight >= 1.0 {
                    shared += 1;
                }
                i += 1;
                j += 1;
            }
        }
    }
    let dice = |common: f64, total: f64| {
        if total > 0.0 {
            2.0 * common / total
        } else {
            0.0
        }
    };
    Overlap {
        dice: dice(common, total),
        rest_dice: dice(rest_common, rest_total),
        shared,
    }
}

fn significant_numbers(terms: &[Term]) -> Vec<&str> {
    terms
        .iter()
        .filter(|t| t.kind == Kind::Number)
        .map(|t| t.key.as_str())
        .collect()
}

/// Whether both term lists carry significant numbers and share none.
fn numbers_conflict(a: &[Term], b: &[Term]) -> bool {
    let (na, nb) = (significant_numbers(a), significant_numbers(b));
    !na.is_empty() && !nb.is_empty() && !na.iter().any(|n| nb.contains(n))
}

/// Whether both name a day (or a part of the country) and no common one.
fn qualifiers_conflict(a: &Features, b: &Features) -> bool {
    a.qualifiers.iter().any(|(class, _)| {
        let mut of_b = b.qualifiers.iter().filter(|(c, _)| c == class).peekable();
        of_b.peek().is_some() && !of_b.any(|q| a.qualifiers.contains(q))
    })
}

/// How similar two headlines are, 0..=1, after the number rule: what
/// [`same_story`] compares with its threshold. Equal titles score 1.
pub fn similarity(a: &Features, b: &Features) -> f64 {
    if !a.title_key.is_empty() && a.title_key == b.title_key {
        return 1.0;
    }
    if numbers_conflict(&a.headline, &b.headline) || qualifiers_conflict(a, b) {
        return 0.0;
    }
    let o = overlap(&a.headline, &b.headline);
    if o.shared < MIN_SHARED_TERMS || o.rest_dice < MIN_REST_OVERLAP {
        return 0.0;
    }
    o.dice
}

/// Whether two items tell the same story at `threshold` (see the module docs).
pub fn same_story(a: &Features, b: &Features, threshold: f64) -> bool {
    let score = similarity(a, b);
    score >= threshold || (teasers_may_decide(score, threshold) && teasers_agree(a, b, threshold))
}

/// Whether a headline score falls short by so little that teasers may
/// still decide: callers that read teasers lazily ask this first.
pub fn teasers_may_decide(score: f64, threshold: f64) -> bool {
    score < threshold && score >= threshold * TEASER_MARGIN
}

/// Whether both teasers are present and pass `threshold` by the headline
/// rules: what decides when the headlines fall just short.
pub fn teasers_agree(a: &Features, b: &Features, threshold: f64) -> bool {
    if a.teaser.is_empty() || b.teaser.is_empty() || numbers_conflict(&a.teaser, &b.teaser) {
        return false;
    }
    let o = overlap(&a.teaser, &b.teaser);
    o.shared >= MIN_SHARED_TERMS && o.dice >= threshold
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same(a: &str, b: &str) -> bool {
        same_story(
            &Features::new(a, None),
            &Features::new(b, None),
            DEFAULT_THRESHOLD,
        )
    }

    #[test]
    fn reworded_reports_of_one_story_are_the_same() {
        assert!(same(
            "Нийслэл 2024 онд босгосон дотоод бондын 100 тэрбум төгрөгийг хугацаанд нь эргэн төллөө",
            "Нийслэл 2024 онд босгосон дотоод бондын 100 тэрбум төгрөгийг хугацаанд нь эргэн төлжээ"
        ));
        assert!(same(
            "Уул уурхайн салбарт хийж буй хамтарсан хяналт шалгалт үргэлжилж байна",
            "УУЛ УУРХАЙН САЛБАРЫН ХАМТАРСАН ХЯНАЛТ ШАЛГАЛТ ҮРГЭЛЖИЛЖ БАЙНА"
        ));
    }

    #[test]
    fn equal_titles_are_the_same_whatever_their_terms() {
        assert!(same("Ёслол!", "ёслол"));
    }

    #[test]
    fn different_numbers_keep_look_alikes_apart() {
        assert!(!same(
            "Улаанбаатарт өдөртөө 21 хэм дулаан",
            "Улаанбаатарт өдөртөө 25 хэм дулаан"
        ));
        assert!(!same(
            "Хүлэгүүд Солонгосыг 3:1-ээр хожлоо",
            "Хүлэгүүд Японд 0:2-оор хожигдлоо"
        ));
        assert!(!same(
            "Өнөөдөр нутгийн зүүн хагаст дуу цахилгаантай аадар бороо орно",
            "Өнөөдөр нутгийн хойд хагаст дуу цахилгаантай аадар бороо орно"
        ));
        assert!(!same(
            "Маргааш нутгийн зүүн хагаст аадар бороо орно",
            "Өнөөдөр нутгийн зүүн хагаст аадар бороо орно"
        ));
    }

    #[test]
    fn one_shared_name_is_not_enough() {
        assert!(!same(
            "Б.Пүрэвдагва: Нийслэлийн барилга байгууламжийн асуудал",
            "Б.Пүрэвдагва: Нярайн эндэгдлийг бууруулна"
        ));
    }

    #[test]
    fn teasers_can_confirm_a_near_miss() {
        let a = Features::new(
            "Гуравдугаар эмнэлгийн хашаанд гарсан галыг унтраажээ",
            Some(
                "Онцгой байдлын ерөнхий газрын гал унтраах анги III эмнэлгийн хашаанд хог шатаж байсныг унтраажээ",
            ),
        );
        let b = Features::new(
            "НОБГ: III эмнэлгийн хашаанд хог шатсаныг унтраав",
            Some(
                "Гал унтраах анги III эмнэлгийн хашаанд хог шатаж байсныг унтраажээ гэж Онцгой байдлын ерөнхий газар мэдээллээ",
            ),
        );
        let threshold = 0.6;
        assert!(similarity(&a, &b) < threshold);
        assert!(same_story(&a, &b, threshold));
        assert!(!same_story(
            &Features::new("Гуравдугаар эмнэлгийн хашаанд гарсан галыг унтраажээ", None),
            &Features::new("НОБГ: III эмнэлгийн хашаанд хог шатсаныг унтраав", None),
            threshold
        ));
    }

    #[test]
    fn a_story_told_three_ways_is_one_and_look_alikes_stay_apart() {
        let a = "Ерөнхий сайд Л.Оюун-Эрдэнэ Японы Ерөнхий сайдтай утсаар ярилцлаа";
        let b = "Л.Оюун-Эрдэнэ Японы Ерөнхий сайдтай утсаар ярилцжээ";
        let c = "Ерөнхий сайд Л.Оюун-Эрдэнэ, Японы Ерөнхий сайд хоёр утсаар ярилцав";
        assert!(same(a, b) && same(a, c) && same(b, c));
        assert!(!same(
            "Улаанбаатарт маргааш 18 хэм дулаан, бороо орно",
            "Улаанбаатарт өнөөдөр 24 хэм дулаан, бороо орно"
        ));
        assert!(!same(
            "Ерөнхий сайд Л.Оюун-Эрдэнэ Солонгосын Ерөнхийлөгчтэй уулзлаа",
            a
        ));
    }

    #[test]
    fn the_decision_is_symmetric() {
        let a = Features::new(
            "Ерөнхийлөгч У.Хүрэлсүх Оюутолгойн асуудлаар ҮАБЗ хуралдуулна",
            None,
        );
        let b = Features::new("ҮАБЗ Оюутолгойн асуудлаар хуралдана", None);
        assert_eq!(similarity(&a, &b), similarity(&b, &a));
    }
}
