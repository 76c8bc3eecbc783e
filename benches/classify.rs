//! Benchmark: the keyword classifier's accuracy and confusion matrix on the labelled corpus
//! (`tests/data/classify_corpus.tsv`) and on the held-out tasks (`classify_holdout.tsv`, never
//! used to tune the rules), then classifications per second over a deterministic mixed corpus of
//! 1,000 tasks (median and spread over repeated samples). Not a test: it asserts nothing.

#[path = "../tests/support/classify_corpus.rs"]
mod classify_corpus;

use std::hint::black_box;
use std::time::Instant;

use codelab_planner::classify::classify_keywords;

const CORPUS_SIZE: usize = 1_000;
const SAMPLES: usize = 30;

const SHORT_ENGLISH: &[&str] = &[
    "Update function in login.py",
    "Debug error in authentication",
    "Explain the address format",
    "Fix the crash on startup",
    "What is a monad?",
    "Add error handling",
    "Rename the prefix option",
    "Why does the build fail?",
];
const SHORT_RUSSIAN: &[&str] = &[
    "Исправь ошибку в парсере",
    "Объясни, что такое замыкание",
    "Напиши функцию сортировки",
    "Измени в файле config.yaml порт",
    "Расскажи про модуль авторизации",
];
const COMPLEX: &[&str] = &[
    "Create app and fix bug in login",
    "Создай мобильное приложение с логином и регистрацией",
    "Design system for notifications across several components",
    "Реализуй систему оплаты с авторизацией",
];
const FILLER_WORDS: &[&str] = &[
    "the",
    "service",
    "handler",
    "queue",
    "parser",
    "module",
    "config",
    "request",
    "страница",
    "модуль",
    "данные",
    "пользователь",
    "cache",
    "retry",
    "timeout",
    "schema",
];

/// A small deterministic generator (xorshift), so the corpus is the same on every run.
struct Xorshift(u64);

impl Xorshift {
    fn next(&mut self) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.next() % items.len()]
    }
}

fn long_task(random: &mut Xorshift) -> String {
    let word_count = 10 + random.next() % 30;
    let mut words: Vec<&str> = (0..word_count).map(|_| random.pick(FILLER_WORDS)).collect();
    if random.next() % 2 == 0 {
        let anchor = random.pick(SHORT_ENGLISH);
        words.push(anchor);
    }
    words.join(" ")
}

fn corpus() -> Vec<String> {
    let mut random = Xorshift(0x9E37_79B9_7F4A_7C15);
    (0..CORPUS_SIZE)
        .map(|index| match index % 4 {
            0 => random.pick(SHORT_ENGLISH).to_owned(),
            1 => random.pick(SHORT_RUSSIAN).to_owned(),
            2 => random.pick(COMPLEX).to_owned(),
            _ => long_task(&mut random),
        })
        .collect()
}

fn percentile(sorted: &[f64], fraction: f64) -> f64 {
    let index = ((sorted.len() - 1) as f64 * fraction).round() as usize;
    sorted[index]
}

fn print_scores(name: &str, examples: &[classify_corpus::Example]) {
    let scores = classify_corpus::Scores::of(examples);
    println!("{name}: accuracy {}/{} = {:.1} %", scores.correct, scores.total, scores.accuracy() * 100.0);
    println!("{}", scores.table());
    for miss in &scores.misses {
        println!("  miss: {miss}");
    }
    println!();
}

fn main() {
    let labelled = classify_corpus::corpus();
    let holdout = classify_corpus::holdout();
    print_scores("labelled corpus", &labelled);
    print_scores("held-out tasks", &holdout);
    print_scores("training examples v2 (issue 21)", &classify_corpus::training_v2());
    print_scores("held-out set v2 (issue 21)", &classify_corpus::heldout_v2());
    print_scores("the seed authors' 40 tasks", &classify_corpus::seed_tasks());
    let combined: Vec<classify_corpus::Example> = labelled.into_iter().chain(holdout).collect();
    print_scores("both", &combined);
    let tasks = corpus();
    let complex_count = tasks.iter().filter(|task| !classify_keywords(task).is_atomic()).count();
    let mut rates = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        let started = Instant::now();
        for task in &tasks {
            black_box(classify_keywords(black_box(task)));
        }
        rates.push(tasks.len() as f64 / started.elapsed().as_secs_f64());
    }
    rates.sort_by(f64::total_cmp);
    println!("classify_keywords over {} tasks ({} complex), {SAMPLES} samples", tasks.len(), complex_count);
    println!("{:<24} {:>12} {:>12} {:>12} {:>12} {:>12}", "metric", "min", "p10", "median", "p90", "max");
    println!(
        "{:<24} {:>12.0} {:>12.0} {:>12.0} {:>12.0} {:>12.0}",
        "classifications/s",
        rates[0],
        percentile(&rates, 0.1),
        percentile(&rates, 0.5),
        percentile(&rates, 0.9),
        rates[rates.len() - 1],
    );
}
