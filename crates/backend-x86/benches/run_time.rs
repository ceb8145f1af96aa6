//! Run time of the code each backend makes, on self-contained kernels built with
//! `ir::Builder` (no calls): an integer loop of checked operations with a guard, a
//! mandelbrot-like float escape loop over a grid, and an nbody-like float loop that loads and
//! stores bodies in a buffer. Every backend's result is checked against the others' first;
//! a summary prints each backend's time relative to the first backend's.
//!
//! `cargo bench -p psyco-backend-x86 --features bench --bench run_time`

use backend_x86::{backend_by_name, CompiledCode, BACKEND_NAMES};
use criterion::Criterion;
use ir::{Builder, CheckedOp, Cond, ExitKind, FloatOp, Function, IntOp, Kind, Mem, SnapshotEntry, Type, Value};
use std::time::{Duration, Instant};

use Type::{F64, I64};

/// A snapshot saving `values` as machine ints in slots 0, 1, ...
fn save(b: &mut Builder, values: &[Value]) -> ir::SnapshotId {
    let entries = values
        .iter()
        .enumerate()
        .map(|(slot, &v)| SnapshotEntry { slot: slot as u32, kind: Kind::MachineInt, values: vec![v] })
        .collect();
    b.snapshot(ExitKind::Resume, 0, 0, "bench", entries)
}

/// `(n, flag)`: `acc += 3 * i + (i & 7)` for `i` in `0..n`, the multiply and adds checked, and
/// a guard each turn that the word at `flag` is still 0 (as the eval-breaker check).
fn int_sum() -> Function {
    let mut b = Builder::new("int_sum", 2);
    let entry = b.create_block(&[]);
    let head = b.create_block(&[I64, I64]);
    let (body, done) = (b.create_block(&[]), b.create_block(&[]));
    b.switch_to(entry);
    let (n, flag) = (b.param(0), b.param(1));
    let zero = b.iconst(0);
    b.jump(head, &[zero, zero]);
    b.switch_to(head);
    let [i, acc] = [b.block_params(head)[0], b.block_params(head)[1]];
    let more = b.icmp(Cond::Lt, i, n);
    b.branch(more, body, &[], done, &[]);
    b.switch_to(body);
    let s = save(&mut b, &[i, acc]);
    let (three, seven, one) = (b.iconst(3), b.iconst(7), b.iconst(1));
    let tripled = b.checked(CheckedOp::Mul, i, three, s);
    let low = b.int(IntOp::And, i, seven);
    let term = b.checked(CheckedOp::Add, tripled, low, s);
    let sum = b.checked(CheckedOp::Add, acc, term, s);
    let set = b.load(Mem::I32, flag, 0);
    b.guard(set, false, s);
    let next = b.int(IntOp::Add, i, one);
    b.jump(head, &[next, sum]);
    b.switch_to(done);
    b.ret(acc);
    b.finish()
}

/// `(size)`: the total of the escape counts (at most 50) of a `size` x `size` grid over
/// `[-1.5, 0.5] x [-1, 1]`.
fn mandelbrot() -> Function {
    let mut b = Builder::new("mandelbrot", 1);
    let entry = b.create_block(&[]);
    let rows = b.create_block(&[I64, I64]);
    let row_body = b.create_block(&[]);
    let cols = b.create_block(&[I64, I64]);
    let (col_body, row_end) = (b.create_block(&[]), b.create_block(&[]));
    let iterate = b.create_block(&[F64, F64, I64]);
    let (step, col_end) = (b.create_block(&[]), b.create_block(&[]));
    let done = b.create_block(&[I64]);

    b.switch_to(entry);
    let size = b.param(0);
    let (zero, one) = (b.iconst(0), b.iconst(1));
    let (two, size_f) = (b.fconst(2.0), b.int_to_float(size));
    let scale = b.float(FloatOp::Div, two, size_f);
    b.jump(rows, &[zero, zero]);

    b.switch_to(rows);
    let [y, total] = [b.block_params(rows)[0], b.block_params(rows)[1]];
    let more = b.icmp(Cond::Lt, y, size);
    b.branch(more, row_body, &[], done, &[total]);

    b.switch_to(row_body);
    let (yf, one_f) = (b.int_to_float(y), b.fconst(1.0));
    let scaled = b.float(FloatOp::Mul, yf, scale);
    let ci = b.float(FloatOp::Sub, scaled, one_f);
    b.jump(cols, &[zero, total]);

    b.switch_to(cols);
    let [x, subtotal] = [b.block_params(cols)[0], b.block_params(cols)[1]];
    let more = b.icmp(Cond::Lt, x, size);
    b.branch(more, col_body, &[], row_end, &[]);

    b.switch_to(row_end);
    let next_y = b.int(IntOp::Add, y, one);
    b.jump(rows, &[next_y, subtotal]);

    b.switch_to(col_body);
    let (xf, offset) = (b.int_to_float(x), b.fconst(1.5));
    let scaled = b.float(FloatOp::Mul, xf, scale);
    let cr = b.float(FloatOp::Sub, scaled, offset);
    let origin = b.fconst(0.0);
    b.jump(iterate, &[origin, origin, zero]);

    b.switch_to(iterate);
    let [zr, zi, k] = [0, 1, 2].map(|i| b.block_params(iterate)[i]);
    let (zr2, zi2) = (b.float(FloatOp::Mul, zr, zr), b.float(FloatOp::Mul, zi, zi));
    let norm = b.float(FloatOp::Add, zr2, zi2);
    let (four, limit) = (b.fconst(4.0), b.iconst(50));
    let escaped = b.fcmp(Cond::Gt, norm, four);
    let exhausted = b.icmp(Cond::Ge, k, limit);
    let stop = b.int(IntOp::Or, escaped, exhausted);
    b.branch(stop, col_end, &[], step, &[]);

    b.switch_to(step);
    let diff = b.float(FloatOp::Sub, zr2, zi2);
    let new_zr = b.float(FloatOp::Add, diff, cr);
    let twice = b.float(FloatOp::Mul, two, zr);
    let product = b.float(FloatOp::Mul, twice, zi);
    let new_zi = b.float(FloatOp::Add, product, ci);
    let next_k = b.int(IntOp::Add, k, one);
    b.jump(iterate, &[new_zr, new_zi, next_k]);

    b.switch_to(col_end);
    let s = save(&mut b, &[subtotal, k]);
    let subtotal = b.checked(CheckedOp::Add, subtotal, k, s);
    let next_x = b.int(IntOp::Add, x, one);
    b.jump(cols, &[next_x, subtotal]);

    b.switch_to(done);
    let result = b.block_params(done)[0];
    b.ret(result);
    b.finish()
}

const BODIES: i64 = 5;
/// x, y, z, vx, vy, vz, mass: doubles.
const BODY_BYTES: i64 = 56;

/// `(bodies, steps)`: `steps` rounds of pairwise velocity updates (an inverse-square-like
/// force without a square root, which the IR lacks) and position updates of the five bodies
/// at `bodies`, all through loads and stores.
fn nbody() -> Function {
    let mut b = Builder::new("nbody", 2);
    let entry = b.create_block(&[]);
    let steps_head = b.create_block(&[I64]);
    let (step_body, done) = (b.create_block(&[]), b.create_block(&[]));
    let i_head = b.create_block(&[I64]);
    let i_body = b.create_block(&[]);
    let j_head = b.create_block(&[I64]);
    let (j_body, i_end) = (b.create_block(&[]), b.create_block(&[]));
    let k_head = b.create_block(&[I64]);
    let (k_body, step_end) = (b.create_block(&[]), b.create_block(&[]));

    b.switch_to(entry);
    let (base, steps) = (b.param(0), b.param(1));
    let (zero, one, count, size) = (b.iconst(0), b.iconst(1), b.iconst(BODIES), b.iconst(BODY_BYTES));
    let (dt, softening) = (b.fconst(0.01), b.fconst(0.01));
    b.jump(steps_head, &[zero]);

    b.switch_to(steps_head);
    let s = b.block_params(steps_head)[0];
    let more = b.icmp(Cond::Lt, s, steps);
    b.branch(more, step_body, &[], done, &[]);

    b.switch_to(step_body);
    b.jump(i_head, &[zero]);

    b.switch_to(i_head);
    let i = b.block_params(i_head)[0];
    let more = b.icmp(Cond::Lt, i, count);
    b.branch(more, i_body, &[], k_head, &[zero]);

    b.switch_to(i_body);
    let offset = b.int(IntOp::Mul, i, size);
    let pi = b.int(IntOp::Add, base, offset);
    let [xi, yi, zi, mi] = [0, 8, 16, 48].map(|off| b.load(Mem::F64, pi, off));
    let j0 = b.int(IntOp::Add, i, one);
    b.jump(j_head, &[j0]);

    b.switch_to(j_head);
    let j = b.block_params(j_head)[0];
    let more = b.icmp(Cond::Lt, j, count);
    b.branch(more, j_body, &[], i_end, &[]);

    b.switch_to(j_body);
    let offset = b.int(IntOp::Mul, j, size);
    let pj = b.int(IntOp::Add, base, offset);
    let [xj, yj, zj, mj] = [0, 8, 16, 48].map(|off| b.load(Mem::F64, pj, off));
    let d = [(xi, xj), (yi, yj), (zi, zj)].map(|(a, c)| b.float(FloatOp::Sub, a, c));
    let squares = d.map(|x| b.float(FloatOp::Mul, x, x));
    let d2 = b.float(FloatOp::Add, squares[0], squares[1]);
    let d2 = b.float(FloatOp::Add, d2, squares[2]);
    let d2 = b.float(FloatOp::Add, d2, softening);
    let d4 = b.float(FloatOp::Mul, d2, d2);
    let mag = b.float(FloatOp::Div, dt, d4);
    let (pull_i, pull_j) = (b.float(FloatOp::Mul, mj, mag), b.float(FloatOp::Mul, mi, mag));
    for (axis, &dx) in d.iter().enumerate() {
        let off = 24 + 8 * axis as i32;
        let vi = b.load(Mem::F64, pi, off);
        let change = b.float(FloatOp::Mul, dx, pull_i);
        let vi = b.float(FloatOp::Sub, vi, change);
        b.store(Mem::F64, pi, off, vi);
        let vj = b.load(Mem::F64, pj, off);
        let change = b.float(FloatOp::Mul, dx, pull_j);
        let vj = b.float(FloatOp::Add, vj, change);
        b.store(Mem::F64, pj, off, vj);
    }
    let next_j = b.int(IntOp::Add, j, one);
    b.jump(j_head, &[next_j]);

    b.switch_to(i_end);
    let next_i = b.int(IntOp::Add, i, one);
    b.jump(i_head, &[next_i]);

    b.switch_to(k_head);
    let k = b.block_params(k_head)[0];
    let more = b.icmp(Cond::Lt, k, count);
    b.branch(more, k_body, &[], step_end, &[]);

    b.switch_to(k_body);
    let offset = b.int(IntOp::Mul, k, size);
    let pk = b.int(IntOp::Add, base, offset);
    for axis in 0..3 {
        let (position, velocity) = (b.load(Mem::F64, pk, 8 * axis), b.load(Mem::F64, pk, 24 + 8 * axis));
        let moved = b.float(FloatOp::Mul, dt, velocity);
        let position = b.float(FloatOp::Add, position, moved);
        b.store(Mem::F64, pk, 8 * axis, position);
    }
    let next_k = b.int(IntOp::Add, k, one);
    b.jump(k_head, &[next_k]);

    b.switch_to(step_end);
    let next_s = b.int(IntOp::Add, s, one);
    b.jump(steps_head, &[next_s]);

    b.switch_to(done);
    b.ret(steps);
    b.finish()
}

/// The five bodies' starting state: spread out, slowly moving, unequal masses.
fn initial_bodies() -> Vec<f64> {
    (0..BODIES)
        .flat_map(|n| {
            let n = n as f64;
            [n, 0.5 * n - 1.0, 0.25 * n * n, 0.01 * n, -0.02, 0.005 * n, 1.0 + n]
        })
        .collect()
}

/// A kernel: its IR, and how to run compiled code of it once, giving a checksum.
struct Kernel {
    name: &'static str,
    function: Function,
    run: fn(&CompiledCode) -> u64,
}

fn kernels() -> Vec<Kernel> {
    vec![
        Kernel {
            name: "int_sum",
            function: int_sum(),
            run: |code| {
                let flag = 0u32;
                // SAFETY: the kernel reads only the flag word, which outlives the call.
                let outcome = unsafe { code.call(&[100_000, &flag as *const u32 as u64], &mut Vec::new()) };
                assert_eq!(outcome.exit, 0, "int_sum left");
                outcome.value
            },
        },
        Kernel {
            name: "mandelbrot",
            function: mandelbrot(),
            run: |code| {
                // SAFETY: the kernel touches no memory.
                let outcome = unsafe { code.call(&[64], &mut Vec::new()) };
                assert_eq!(outcome.exit, 0, "mandelbrot left");
                outcome.value
            },
        },
        Kernel {
            name: "nbody",
            function: nbody(),
            run: |code| {
                let mut bodies = initial_bodies();
                // SAFETY: the kernel reads and writes the five bodies of the live buffer.
                let outcome = unsafe { code.call(&[bodies.as_mut_ptr() as u64, 2_000], &mut Vec::new()) };
                assert_eq!(outcome.exit, 0, "nbody left");
                bodies.iter().fold(0u64, |acc, x| acc.rotate_left(7) ^ x.to_bits())
            },
        },
    ]
}

/// Each kernel compiled by each backend, checked to agree with the first backend.
fn compiled(kernels: &[Kernel]) -> Vec<Vec<(&'static str, CompiledCode)>> {
    kernels
        .iter()
        .map(|kernel| {
            ir::verify::verify(&kernel.function).unwrap_or_else(|e| panic!("{} does not verify: {e}", kernel.name));
            let codes: Vec<_> = BACKEND_NAMES
                .iter()
                .map(|&name| {
                    let backend = backend_by_name(name).expect("a listed backend");
                    (name, backend.compile(&kernel.function).expect("compiles"))
                })
                .collect();
            let reference = (kernel.run)(&codes[0].1);
            for (name, code) in &codes[1..] {
                assert_eq!((kernel.run)(code), reference, "{name} disagrees with {} on {}", codes[0].0, kernel.name);
            }
            codes
        })
        .collect()
}

/// Times each kernel on each backend (at least a quarter second each) and prints the ratios.
fn summary(kernels: &[Kernel], codes: &[Vec<(&'static str, CompiledCode)>]) {
    println!("\nrun-time summary: kernel, backend, µs per run, time relative to {}", BACKEND_NAMES[0]);
    for (kernel, codes) in kernels.iter().zip(codes) {
        let mut first = None;
        for (name, code) in codes {
            let (mut runs, start) = (0u32, Instant::now());
            while runs < 3 || start.elapsed() < Duration::from_millis(250) {
                std::hint::black_box((kernel.run)(code));
                runs += 1;
            }
            let per_run = start.elapsed().as_secs_f64() / runs as f64;
            let base = *first.get_or_insert(per_run);
            println!("{}, {name}, {:.1}, {:.2}", kernel.name, per_run * 1e6, per_run / base);
        }
    }
}

fn main() {
    let kernels = kernels();
    let codes = compiled(&kernels);
    let mut c = Criterion::default().configure_from_args();
    for (kernel, codes) in kernels.iter().zip(&codes) {
        let mut group = c.benchmark_group(format!("run/{}", kernel.name));
        for (name, code) in codes {
            group.bench_function(*name, |b| b.iter(|| (kernel.run)(code)));
        }
        group.finish();
    }
    c.final_summary();
    summary(&kernels, &codes);
}
