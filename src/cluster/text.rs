//! Headline text reduced to comparable terms: stems of content words, person
//! names written with an initial (`Л.Оюун-Эрдэнэ`), and numbers.

use unicode_normalization::UnicodeNormalization;

/// Characters a stem keeps: Mongolian is agglutinative ("наадам", "наадамд",
/// "наадмын"), so after its case suffix is stripped a word is compared by its
/// first five letters, which also makes English plurals and tenses meet.
const STEM_CHARS: usize = 5;

/// Suffixes stripped from a word's end (longest first) when at least four
/// letters remain: Mongolian case endings, plural markers and the common past
/// and present verb endings. Stripping is what lets "Оюутолгойн" and
/// "Оюутолгой" meet when the word is shorter than the stem cap.
const SUFFIXES: &[&str] = &[
    "ийнхаа",
    "ынхаа",
    "үүдийн",
    "уудын",
    "нууд",
    "нүүд",
    "чууд",
    "чүүд",
    "наас",
    "нээс",
    "гаас",
    "гээс",
    "гаар",
    "гээр",
    "наар",
    "ийн",
    "ийг",
    "аас",
    "ээс",
    "оос",
    "өөс",
    "аар",
    "ээр",
    "оор",
    "өөр",
    "тай",
    "тэй",
    "той",
    "даа",
    "дээ",
    "доо",
    "дөө",
    "лаа",
    "лээ",
    "лоо",
    "лөө",
    "жээ",
    "чээ",
    "сан",
    "сэн",
    "сон",
    "сөн",
    "ууд",
    "үүд",
    "ын",
    "ны",
    "ний",
    "ыг",
    "нд",
    "ад",
    "эд",
    "од",
    "өд",
    "г",
];

/// Words that say nothing about which story a headline tells: function words,
/// generic verbs, units of counting and the labels outlets put before titles.
const STOP_WORDS: &[&str] = &[
    "нь",
    "энэ",
    "тэр",
    "болон",
    "ба",
    "бөгөөд",
    "юм",
    "байна",
    "байгаа",
    "болно",
    "боллоо",
    "байсан",
    "гэж",
    "гэх",
    "гэв",
    "гэсэн",
    "хийж",
    "хийнэ",
    "хийлээ",
    "буй",
    "бол",
    "ч",
    "л",
    "уу",
    "үү",
    "вэ",
    "бэ",
    "юу",
    "хэн",
    "ямар",
    "хэрхэн",
    "яагаад",
    "хүртэл",
    "дахь",
    "дахин",
    "мөн",
    "ийм",
    "тийм",
    "түүний",
    "тэдний",
    "нэг",
    "хоёр",
    "гурав",
    "гурван",
    "шинэ",
    "их",
    "бага",
    "олон",
    "зарим",
    "бүх",
    "бүр",
    "тухай",
    "талаар",
    "хүрээнд",
    "үеэр",
    "хамт",
    "цаг",
    "цагт",
    "цагаас",
    "мянга",
    "сая",
    "тэрбум",
    "хувь",
    "хувиар",
    "гаруй",
    "орчим",
    "өнөөдөр",
    "маргааш",
    "өчигдөр",
    "the",
    "a",
    "an",
    "of",
    "in",
    "on",
    "to",
    "for",
    "and",
    "with",
    "by",
    "at",
    "from",
    "is",
    "are",
    "was",
    "be",
    "as",
    "its",
    "it",
    "new",
    "фото",
    "видео",
    "шууд",
    "live",
    "photo",
    "video",
];

/// Words of which a report names one, and two reports naming different ones
/// tell different stories: the day (today's forecast is not tomorrow's) and
/// the part of the country ("зүүн хагаст", "хойд хагаст"). Days relative to
/// the report and weekdays are separate classes ("on Monday" may well be
/// "tomorrow"); Mongolian weekday names are left out, being everyday words
/// too ("даваа" is also a wrestling round, "баасан" a name).
#[rustfmt::skip]
const EXCLUSIVE_QUALIFIERS: &[&[&str]] = &[
    &["өнөөдөр", "маргааш", "өчигдөр", "нөгөөдөр", "today", "tomorrow", "yesterday"],
    &["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"],
    &["зүүн", "баруун", "хойд", "өмнөд", "east", "west", "north", "south"],
];

/// The exclusive qualifiers a headline names, as (class, stem), from its
/// [`folded_tokens`].
pub(super) fn qualifiers_of(tokens: &[Token]) -> Vec<(usize, String)> {
    let stems = qualifier_stems();
    let mut out: Vec<(usize, String)> = Vec::new();
    for token in tokens {
        let Token::Word(word) = token else { continue };
        let s = stem(word);
        for (class, known) in stems.iter().enumerate() {
            if known.contains(&s) && !out.contains(&(class, s.clone())) {
                out.push((class, s.clone()));
            }
        }
    }
    out
}

/// The stems of [`EXCLUSIVE_QUALIFIERS`], by class, computed once.
fn qualifier_stems() -> &'static [Vec<String>] {
    static STEMS: std::sync::OnceLock<Vec<Vec<String>>> = std::sync::OnceLock::new();
    STEMS.get_or_init(|| {
        EXCLUSIVE_QUALIFIERS
            .iter()
            .map(|words| words.iter().map(|w| stem(w)).collect())
            .collect()
    })
}

/// Numbers that carry no story: small counts, the years every headline of
/// a season shares, and times of day.
fn is_weak_number(number: &str) -> bool {
    matches!(number, "0" | "1" | "2" | "3")
        || (number.len() == 4
            && number.bytes().all(|b| b.is_ascii_digit())
            && (number.starts_with("19") || number.starts_with("20")))
        || is_clock_time(number)
}

/// The kinds of terms, each with its weight in the similarity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// A person written as initial + name: the strongest evidence.
    Name,
    /// A number that is neither a small count nor a year.
    Number,
    /// A year or a small count.
    WeakNumber,
    /// The stem of a content word of four letters or more.
    Stem,
    /// The stem of a shorter content word.
    ShortStem,
}

impl Kind {
    /// The weight a shared term of this kind adds.
    pub fn weight(self) -> f64 {
        match self {
            Self::Name => 3.0,
            Self::Number => 2.0,
            Self::Stem => 1.0,
            Self::WeakNumber | Self::ShortStem => 0.5,
        }
    }

    fn tag(self) -> char {
        match self {
            Self::Name => 'N',
            Self::Number | Self::WeakNumber => '#',
            Self::Stem | Self::ShortStem => 'S',
        }
    }
}

/// One term of a headline: its kind and its text (`N:оюун`, `#256`, `S:наада`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Term {
    /// The term as stored in the index: a tag, a colon, the text.
    pub key: String,
    /// What it is.
    pub kind: Kind,
}

impl Term {
    fn new(kind: Kind, text: &str) -> Self {
        Self {
            key: format!("{}:{text}", kind.tag()),
            kind,
        }
    }
}

/// Unicode NFKC, lower case, `ё` read as `е` (outlets write either).
pub fn fold(text: &str) -> String {
    text.nfkc()
        .flat_map(char::to_lowercase)
        .map(|c| if c == 'ё' { 'е' } else { c })
        .collect()
}

/// The stem of a folded word: its suffix stripped, then its first letters.
pub fn stem(word: &str) -> String {
    let letters = word.chars().count();
    let stripped = SUFFIXES
        .iter()
        .find(|s| word.ends_with(*s) && letters - s.chars().count() >= 4)
        .map_or(word, |s| &word[..word.len() - s.len()]);
    stripped.chars().take(STEM_CHARS).collect()
}

/// Every term of a headline, each once, the strongest kind kept.
pub fn terms(headline: &str) -> Vec<Term> {
    terms_of(headline, &folded_tokens(headline))
}

/// The words and numbers of a text, folded: what [`terms_of`] and
/// [`qualifiers_of`] take, so a headline is read once for both.
pub(super) fn folded_tokens(text: &str) -> Vec<Token> {
    tokens(&fold(text))
}

/// [`terms`] of a headline already read by [`folded_tokens`] into `tokens`.
pub(super) fn terms_of(headline: &str, tokens: &[Token]) -> Vec<Term> {
    let names = person_names(headline);
    let mut out: Vec<Term> = names.iter().map(|n| Term::new(Kind::Name, &n[0])).collect();
    let name_parts: Vec<&String> = names.iter().flatten().collect();
    for token in tokens {
        match token {
            Token::Number(n) => {
                let kind = if is_weak_number(n) {
                    Kind::WeakNumber
                } else {
                    Kind::Number
                };
                out.push(Term::new(kind, n));
            }
            Token::Word(w) => {
                if w.chars().count() < 2 || STOP_WORDS.contains(&w.as_str()) {
                    continue;
                }
                let s = stem(w);
                if name_parts.contains(&&s) {
                    continue;
                }
                let kind = if w.chars().count() >= 4 {
                    Kind::Stem
                } else {
                    Kind::ShortStem
                };
                out.push(Term::new(kind, &s));
            }
        }
    }
    // The strongest reading of a term wins ("Number" sorts before "WeakNumber").
    out.sort_by(|a, b| a.key.cmp(&b.key).then(a.kind.cmp(&b.kind)));
    out.dedup_by(|later, first| later.key == first.key);
    out
}

/// A run of letters or of digits.
pub(super) enum Token {
    Word(String),
    Number(String),
}

/// Runs of letters and runs of digits; `6,5` and `3.6` are one number
/// (written with a point), a score or a time (`3:1`, `15:00`) is one number,
/// `30-нд` is a number and a word.
fn tokens(folded: &str) -> Vec<Token> {
    let chars: Vec<char> = folded.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_digit() {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_digit()
                    || (matches!(chars[i], '.' | ',' | ':')
                        && chars.get(i + 1).is_some_and(char::is_ascii_digit)))
            {
                i += 1;
            }
            out.push(Token::Number(number_text(&chars[start..i])));
        } else if c.is_alphabetic() {
            let start = i;
            while i < chars.len() && chars[i].is_alphabetic() {
                i += 1;
            }
            out.push(Token::Word(chars[start..i].iter().collect()));
        } else {
            i += 1;
        }
    }
    out
}

/// A number as one text: commas between a group of up to three digits and
/// groups of exactly three are thousands separators (`9,446` and
/// `1,234,567` are `9446` and `1234567`, as another outlet writes them); any
/// other comma is a decimal point (`6,5`).
fn number_text(digits: &[char]) -> String {
    let text: String = digits.iter().collect();
    let groups: Vec<&str> = text.split(',').collect();
    let is_digits = |g: &str| !g.is_empty() && g.bytes().all(|b| b.is_ascii_digit());
    let thousands = groups.len() > 1
        && (1..=3).contains(&groups[0].len())
        && is_digits(groups[0])
        && groups[1..].iter().all(|g| g.len() == 3 && is_digits(g));
    if thousands {
        groups.concat()
    } else {
        text.replace(',', ".")
    }
}

/// A time of day (`15:00`, `13.00`): the hour of an event, which outlets
/// state or leave out as they please, so it is weak evidence and never
/// tells two reports apart the way a count or a score does (`3:1`). With a
/// point only a full or quarter hour is read as a time (`6.25`, `13.50` are
/// rates and prices).
fn is_clock_time(number: &str) -> bool {
    let (hour, minute, is_colon) = match number.split_once(':') {
        Some((hour, minute)) => (hour, minute, true),
        None => match number.split_once('.') {
            Some((hour, minute)) => (hour, minute, false),
            None => return false,
        },
    };
    minute.len() == 2
        && hour.len() <= 2
        && hour.parse::<u8>().is_ok_and(|h| h < 24)
        && minute.parse::<u8>().is_ok_and(|m| m < 60)
        && (is_colon || matches!(minute, "00" | "15" | "30" | "45"))
}

/// Person names written as an upper-case initial, a point and a capitalised
/// name (`Л.Оюун-Эрдэнэ`, `У. Хүрэлсүх`), each as the stems of its parts
/// (so "Э.Оюунболд" and "Э.Оюунболдын" meet). The first part is the name's
/// term; the others are only kept out of the content words.
pub fn person_names(headline: &str) -> Vec<Vec<String>> {
    let chars: Vec<char> = headline.chars().collect();
    let mut names = Vec::new();
    for i in 0..chars.len() {
        let starts_word = i == 0 || !chars[i - 1].is_alphanumeric();
        if !(starts_word && chars[i].is_uppercase()) {
            continue;
        }
        let mut j = i + 1;
        if chars.get(j) == Some(&' ') {
            j += 1;
        }
        if chars.get(j) != Some(&'.') {
            continue;
        }
        j += 1;
        if chars.get(j) == Some(&' ') {
            j += 1;
        }
        if !chars.get(j).is_some_and(|c| c.is_uppercase()) {
            continue;
        }
        let end = (j..chars.len())
            .find(|&k| !(chars[k].is_alphabetic() || chars[k] == '-'))
            .unwrap_or(chars.len());
        let name: String = chars[j..end].iter().collect();
        let parts: Vec<String> = fold(&name)
            .split('-')
            .filter(|p| p.chars().count() >= 2)
            .map(stem)
            .collect();
        if !parts.is_empty() {
            names.push(parts);
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn qualifiers(headline: &str) -> Vec<(usize, String)> {
        qualifiers_of(&folded_tokens(headline))
    }

    fn keys(headline: &str) -> Vec<String> {
        terms(headline).into_iter().map(|t| t.key).collect()
    }

    #[test]
    fn case_endings_meet_at_one_stem() {
        assert_eq!(stem("наадамд"), stem("наадам"));
        assert_eq!(stem("оюутолгойн"), stem("оюутолгой"));
        assert_eq!(stem("улаанбаатарт"), stem("улаанбаатар"));
    }

    #[test]
    fn names_with_initials_are_terms_of_their_own() {
        assert_eq!(
            person_names("Ерөнхий сайд Л.Оюун-Эрдэнэ"),
            vec![vec!["оюун", "эрдэн"]]
        );
        assert_eq!(
            person_names("У. Хүрэлсүх ҮАБЗ хуралдуулна"),
            vec![vec!["хүрэл"]]
        );
        assert!(!keys("Л.Оюун-Эрдэнэ").contains(&"S:эрдэн".to_string()));
        assert!(person_names("ҮАБЗ. Хуралдана").is_empty());
        assert!(person_names("гэв.Тэгээд").is_empty());
        let k = keys("Н.Учрал Учралтай уулзав");
        assert!(k.contains(&"N:учрал".to_string()));
        assert!(!k.contains(&"S:учрал".to_string()));
    }

    #[test]
    fn numbers_keep_their_decimals_and_years_are_weak() {
        let t = terms("3.6 их наяд төгрөг, 2026 онд 6,5 хувь");
        let kind = |k: &str| t.iter().find(|t| t.key == k).map(|t| t.kind);
        assert_eq!(kind("#:3.6"), Some(Kind::Number));
        assert_eq!(kind("#:6.5"), Some(Kind::Number));
        assert_eq!(kind("#:2026"), Some(Kind::WeakNumber));
        let anniversary = terms("1921 оны хувьсгал");
        assert_eq!(anniversary[0].kind, Kind::WeakNumber, "{anniversary:?}");
        let score = terms("Хүлэгүүд 3:1-ээр хожлоо");
        assert!(score.iter().any(|t| t.key == "#:3:1"), "{score:?}");
    }

    #[test]
    fn a_thousands_comma_is_the_same_number_written_without_it() {
        assert_eq!(keys("9,446 төгрөг"), keys("9446 төгрөг"));
        assert!(keys("16,17-нд").contains(&"#:16.17".to_string()));
        assert!(keys("1,5 сая").contains(&"#:1.5".to_string()));
        assert!(keys("1,234,567 хүн").contains(&"#:1234567".to_string()));
    }

    #[test]
    fn a_time_of_day_is_weak_and_a_score_is_not() {
        let kind = |text: &str, key: &str| {
            terms(text)
                .into_iter()
                .find(|t| t.key == key)
                .map(|t| t.kind)
        };
        assert_eq!(kind("13.00 цагаас", "#:13.00"), Some(Kind::WeakNumber));
        assert_eq!(kind("15:00 цагт", "#:15:00"), Some(Kind::WeakNumber));
        assert_eq!(kind("3:1-ээр", "#:3:1"), Some(Kind::Number));
        assert_eq!(kind("64.9 сая", "#:64.9"), Some(Kind::Number));
        assert_eq!(kind("ханш 13.50", "#:13.50"), Some(Kind::Number));
        assert_eq!(kind("19.5 хувь", "#:19.5"), Some(Kind::Number));
    }

    #[test]
    fn days_and_directions_are_qualifiers_in_any_case_form() {
        assert_eq!(
            qualifiers("Маргааш нутгийн зүүн хагаст бороо"),
            vec![(0, stem("маргааш")), (2, stem("зүүн"))]
        );
        assert!(qualifiers("Даваа гарагт хуралдана").is_empty());
        assert_eq!(qualifiers("Talks on Monday"), vec![(1, stem("monday"))]);
    }

    #[test]
    fn stop_words_and_labels_are_not_terms() {
        assert_eq!(keys("ФОТО: Энэ бол байна"), Vec::<String>::new());
    }

    #[test]
    fn yo_and_ye_and_compatibility_forms_fold_alike() {
        assert_eq!(fold("Ёслол ＡＢ"), "еслол ab");
    }
}
