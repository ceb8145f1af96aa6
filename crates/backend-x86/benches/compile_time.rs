//! Compile time of each backend on the corpus (`benches/corpus/*.ir`: IR the runtime recorded
//! from the benchmark programs, with fake addresses; compiled, never run): per function and
//! for the whole corpus with criterion, then a summary per backend in microseconds per
//! function and nanoseconds per bytecode instruction (`corpus/instructions.txt` gives each
//! file's code object size), and the ratio of the backends.
//!
//! `cargo bench -p psyco-backend-x86 --features bench --bench compile_time`

use backend_x86::{backend_by_name, Backend, BACKEND_NAMES};
use criterion::{BenchmarkId, Criterion};
use ir::Function;
use std::collections::HashMap;
use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

/// One corpus function and the number of bytecode instructions of its code object.
struct Entry {
    name: String,
    function: Function,
    instructions: u64,
}

fn corpus() -> Vec<Entry> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/corpus");
    let counts = std::fs::read_to_string(dir.join("instructions.txt")).expect("corpus/instructions.txt");
    let counts: HashMap<&str, u64> = counts
        .lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(|line| {
            let (file, n) = line.split_once(' ').expect("`file count` lines");
            (file, n.trim().parse().expect("an instruction count"))
        })
        .collect();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("benches/corpus")
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "ir"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|path| {
            let file = path.file_name().and_then(|n| n.to_str()).expect("a file name");
            let text = std::fs::read_to_string(path).expect("readable IR");
            let function = ir::text::parse(&text).unwrap_or_else(|e| panic!("{file} does not parse: {e}"));
            ir::verify::verify(&function).unwrap_or_else(|e| panic!("{file} does not verify: {e}"));
            let instructions = *counts.get(file).unwrap_or_else(|| panic!("no instruction count for {file}"));
            Entry { name: file.trim_end_matches(".ir").to_string(), function, instructions }
        })
        .collect()
}

fn backends() -> Vec<&'static dyn Backend> {
    BACKEND_NAMES.iter().map(|name| backend_by_name(name).expect("a listed backend")).collect()
}

fn compile_all(backend: &dyn Backend, corpus: &[Entry]) {
    for entry in corpus {
        black_box(backend.compile(&entry.function).expect("compiles"));
    }
}

fn criterion_benches(c: &mut Criterion, corpus: &[Entry]) {
    for backend in backends() {
        let mut group = c.benchmark_group(format!("compile/{}", backend.name()));
        for entry in corpus {
            group.bench_with_input(BenchmarkId::from_parameter(&entry.name), &entry.function, |b, f| {
                b.iter(|| backend.compile(f).expect("compiles"))
            });
        }
        group.finish();
    }
    let mut group = c.benchmark_group("compile_corpus");
    for backend in backends() {
        group.bench_function(backend.name(), |b| b.iter(|| compile_all(backend, corpus)));
    }
    group.finish();
}

/// Times whole-corpus compiles per backend (at least half a second each) and prints the
/// per-function and per-instruction costs.
fn summary(corpus: &[Entry]) {
    let instructions: u64 = corpus.iter().map(|e| e.instructions).sum();
    println!(
        "\ncompile-time summary: {} functions, {instructions} bytecode instructions\n\
         backend, total µs, µs per function, ns per bytecode instruction",
        corpus.len()
    );
    let mut totals = Vec::new();
    for backend in backends() {
        compile_all(backend, corpus);
        let (mut rounds, start) = (0u32, Instant::now());
        while rounds < 3 || start.elapsed() < Duration::from_millis(500) {
            compile_all(backend, corpus);
            rounds += 1;
        }
        let total = start.elapsed() / rounds;
        let micros = total.as_secs_f64() * 1e6;
        println!(
            "{}, {micros:.0}, {:.1}, {:.0}",
            backend.name(),
            micros / corpus.len() as f64,
            total.as_nanos() as f64 / instructions as f64
        );
        totals.push((backend.name(), total));
    }
    if let [(first, a), (second, b)] = totals[..] {
        println!("{second}/{first}: {:.1}x", b.as_secs_f64() / a.as_secs_f64());
    }
}

fn main() {
    let corpus = corpus();
    let mut c = Criterion::default().configure_from_args();
    criterion_benches(&mut c, &corpus);
    c.final_summary();
    summary(&corpus);
}
