//! The classifier against a labelled corpus of realistic tasks (English and Russian, imperative
//! and infinitive verbs, design tasks, one-file changes, why/how questions, "find where X is
//! defined"), plus the held-out examples and the training examples of issue 21: fails under 90 %
//! accuracy over them, and prints the confusion matrix and every miss. The held-out set v2 (written before the rules were tuned for
//! it, never tuned against) must stay at 92 % or more, and the seed authors' own 40 benchmark
//! tasks at 34 or more.

#[path = "support/classify_corpus.rs"]
mod classify_corpus;

use classify_corpus::{Example, Scores, corpus, heldout_v2, holdout, seed_tasks, training_v2};

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
    examples.extend(training_v2());
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

/// Scores `examples`, prints the matrix and the misses, and fails under `required` correct.
fn assert_at_least(name: &str, examples: &[Example], required: usize) {
    let scores = Scores::of(examples);
    println!("{name}: {}/{} = {:.1} %\n{}", scores.correct, scores.total, scores.accuracy() * 100.0, scores.table());
    for miss in &scores.misses {
        println!("miss: {miss}");
    }
    assert!(
        scores.correct >= required,
        "{name}: {}/{} is under {required}:\n{}\n{}",
        scores.correct,
        scores.total,
        scores.table(),
        scores.misses.join("\n")
    );
}

#[test]
fn the_held_out_set_v2_is_classified_at_least_92_percent_right() {
    let examples = heldout_v2();
    assert!(examples.len() >= 100, "only {} held-out tasks", examples.len());
    let russian =
        examples.iter().filter(|example| example.task.chars().any(|c| matches!(c, 'а'..='я' | 'А'..='Я'))).count();
    assert_eq!(russian * 2, examples.len(), "half English, half Russian");
    let required = (examples.len() * 92).div_ceil(100);
    assert_at_least("held-out set v2", &examples, required);
}

#[test]
fn the_seed_authors_forty_tasks_score_at_least_34() {
    let examples = seed_tasks();
    assert_eq!(examples.len(), 40);
    assert_at_least("the seed authors' 40 tasks", &examples, 34);
}
