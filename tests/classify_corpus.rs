//! The classifier against a labelled corpus of realistic tasks (English and Russian, imperative
//! and infinitive verbs, design tasks, one-file changes, why/how questions, "find where X is
//! defined"), plus the held-out examples: fails under 90 % accuracy over both, and prints the
//! confusion matrix and every miss.

#[path = "support/classify_corpus.rs"]
mod classify_corpus;

use classify_corpus::{Scores, corpus, holdout};

/// The accuracy the keyword classifier must keep on the corpus.
const REQUIRED_ACCURACY: f64 = 0.90;

#[test]
fn the_corpus_is_large_and_covers_every_kind_of_task() {
    let examples = corpus();
    assert!(examples.len() >= 200, "only {} examples", examples.len());
    for label in classify_corpus::LABELS {
        assert!(examples.iter().filter(|example| example.label == label).count() >= 40, "too few {label}");
    }
    let has = |needle: &str| {
        let needle = needle.to_lowercase();
        examples.iter().any(|example| example.task.to_lowercase().contains(&needle))
    };
    for needle in
        ["исправь ", "исправить ", "создай ", "создать ", "почему ", "как ", "why ", "how ", "find where", "design "]
    {
        assert!(has(needle), "no example with {needle:?}");
    }
}

#[test]
fn the_keyword_classifier_is_at_least_90_percent_accurate_on_the_corpus() {
    let mut examples = corpus();
    examples.extend(holdout());
    let scores = Scores::of(&examples);
    println!("accuracy {}/{} = {:.1} %\n{}", scores.correct, scores.total, scores.accuracy() * 100.0, scores.table());
    for miss in &scores.misses {
        println!("miss: {miss}");
    }
    assert!(
        scores.accuracy() >= REQUIRED_ACCURACY,
        "accuracy {:.1} % is under {:.0} %:\n{}\n{}",
        scores.accuracy() * 100.0,
        REQUIRED_ACCURACY * 100.0,
        scores.table(),
        scores.misses.join("\n")
    );
}
