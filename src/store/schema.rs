//! The schema, as the ordered migrations that build it.

/// Schema migrations, applied in order; `PRAGMA user_version` records how many ran.
pub(super) const MIGRATIONS: &[&str] = &[
    r"
CREATE TABLE sources (
    id                   TEXT PRIMARY KEY,
    last_attempt         INTEGER,
    last_success         INTEGER,
    last_error           TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE items (
    id                INTEGER PRIMARY KEY,
    source_id         TEXT NOT NULL,
    link              TEXT NOT NULL,
    title             TEXT NOT NULL,
    title_key         TEXT NOT NULL,
    summary           TEXT,
    image             TEXT,
    content           TEXT,
    author            TEXT,
    published         INTEGER,
    published_relative INTEGER NOT NULL DEFAULT 0,
    first_seen        INTEGER NOT NULL,
    last_seen         INTEGER NOT NULL,
    updated           INTEGER NOT NULL,
    sort_at           INTEGER NOT NULL,
    UNIQUE (source_id, link)
);
CREATE INDEX items_by_source_newest ON items (source_id, sort_at DESC, id DESC);
CREATE INDEX items_by_newest ON items (sort_at DESC, id DESC);
CREATE INDEX items_by_first_seen ON items (first_seen);
",
    r"
ALTER TABLE sources ADD COLUMN next_run INTEGER;
",
    r"
CREATE TABLE http_validators (
    url           TEXT PRIMARY KEY,
    etag          TEXT,
    last_modified TEXT
);
ALTER TABLE items ADD COLUMN article_state INTEGER NOT NULL DEFAULT 0;
ALTER TABLE items ADD COLUMN article_attempts INTEGER NOT NULL DEFAULT 0;
CREATE INDEX items_article_pending ON items (source_id, id) WHERE article_state = 1;
",
    // Outputs are rendered from the store; `changes` counts the commits that
    // changed what they show and `published` the count they were last written
    // at, so a failed publish (disk full) is retried even when nothing new
    // arrives. A store upgraded to this version publishes once.
    r"
CREATE TABLE outputs (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    changes   INTEGER NOT NULL,
    published INTEGER NOT NULL
);
INSERT INTO outputs (id, changes, published) VALUES (1, 1, 0);
",
    // Runs and failed runs of each source per UTC day (days since the Unix
    // epoch), for the status page's charts; `sources` keeps only the latest.
    r"
CREATE TABLE run_days (
    source_id TEXT NOT NULL,
    day       INTEGER NOT NULL,
    runs      INTEGER NOT NULL DEFAULT 0,
    failures  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (source_id, day)
) WITHOUT ROWID;
",
    // Breakage detection and repair: what each successful run found with
    // which selectors (the baseline a collapse is measured against, the last
    // ten per source kept),
    // when the current failure streak began, whether the last failure was a
    // breakage with a proposed fix (JSON), and the proposal adopted by an
    // `on_break = "adopt"` source with the selectors it replaced.
    r"
CREATE TABLE source_runs (
    id        INTEGER PRIMARY KEY,
    source_id TEXT NOT NULL,
    selectors TEXT NOT NULL,
    at        INTEGER NOT NULL,
    matched   INTEGER NOT NULL,
    found     INTEGER NOT NULL,
    dated     INTEGER NOT NULL,
    summarised INTEGER NOT NULL
);
CREATE INDEX source_runs_by_source ON source_runs (source_id, id DESC);
ALTER TABLE sources ADD COLUMN failing_since INTEGER;
ALTER TABLE sources ADD COLUMN broken INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sources ADD COLUMN proposal TEXT;
ALTER TABLE sources ADD COLUMN adopted TEXT;
",
    // Story clusters: `story_id` is the row id of a story's first report
    // (NULL, read as the item's own id, for items stored before clustering).
    // `story_terms` indexes the headline terms of each item by term and
    // time, so finding candidates for a new item reads only the rows of its
    // terms inside the window, however large the history.
    r"
ALTER TABLE items ADD COLUMN story_id INTEGER;
CREATE INDEX items_by_story ON items (story_id) WHERE story_id IS NOT NULL;
CREATE INDEX items_by_title_key ON items (title_key, sort_at);
CREATE TABLE story_terms (
    term    TEXT NOT NULL,
    at      INTEGER NOT NULL,
    item_id INTEGER NOT NULL,
    PRIMARY KEY (term, at, item_id)
) WITHOUT ROWID;
CREATE INDEX story_terms_by_at ON story_terms (at);
",
];

/// `items.article_state`: no article page wanted.
pub(super) const ARTICLE_NONE: i64 = 0;
/// `items.article_state`: the article page is still to be fetched.
pub(super) const ARTICLE_PENDING: i64 = 1;
/// `items.article_state`: the article page was read.
pub(super) const ARTICLE_DONE: i64 = 2;
/// `items.article_state`: fetching the article page failed too often.
pub(super) const ARTICLE_GAVE_UP: i64 = 3;

/// Failed article fetches after which an item keeps only what its listing gave.
pub const MAX_ARTICLE_ATTEMPTS: i64 = 3;
