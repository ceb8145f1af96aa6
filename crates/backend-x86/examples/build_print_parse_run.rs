//! The IR as a library: build a function with `ir::Builder`, print it, parse the text back,
//! then compile and run it with every backend.
//!
//! `cargo run -p psyco-backend-x86 --example build_print_parse_run`; `tests/example.rs` runs
//! the same `main` under `cargo test`.

use backend_x86::{backend_by_name, BACKEND_NAMES};
use ir::{Builder, CheckedOp, Cond, ExitKind, Function, IntOp, Kind, Outcome, SnapshotEntry, Type};

/// `start + 0 + 1 + ... + (n - 1)` for the entry arguments `(n, start)`, the additions
/// checked: on overflow the code leaves through snapshot 0, saving the sum so far and `i`.
fn sum_below() -> Function {
    let mut b = Builder::new("sum_below", 2);
    let entry = b.create_block(&[]);
    let head = b.create_block(&[Type::I64, Type::I64]);
    let body = b.create_block(&[]);
    let done = b.create_block(&[]);

    b.switch_to(entry);
    let (n, start) = (b.param(0), b.param(1));
    let zero = b.iconst(0);
    b.jump(head, &[zero, start]);

    b.switch_to(head);
    let (i, acc) = (b.block_params(head)[0], b.block_params(head)[1]);
    let more = b.icmp(Cond::Lt, i, n);
    b.branch(more, body, &[], done, &[]);

    b.switch_to(body);
    let entries = vec![
        SnapshotEntry { slot: 0, kind: Kind::MachineInt, values: vec![acc] },
        SnapshotEntry { slot: 1, kind: Kind::MachineInt, values: vec![i] },
    ];
    let overflow = b.snapshot(ExitKind::Resume, 8, 0, "int_overflow", entries);
    let sum = b.checked(CheckedOp::Add, acc, i, overflow);
    let one = b.iconst(1);
    let next = b.int(IntOp::Add, i, one);
    b.jump(head, &[next, sum]);

    b.switch_to(done);
    b.ret(acc);
    b.finish()
}

pub fn main() {
    let f = sum_below();
    ir::verify::verify(&f).expect("the function verifies");
    let text = ir::text::print(&f);
    println!("{text}");
    let parsed = ir::text::parse(&text).expect("printed IR parses");
    assert_eq!(parsed, f, "the text form round-trips");

    for name in BACKEND_NAMES {
        let code = backend_by_name(name).expect("a listed backend").compile(&parsed).expect("compiles");
        println!("; {name}: {} bytes\n{}", code.code_size(), code.disassemble());
        let mut exit_buffer = Vec::new();
        for n in [0u64, 1, 10, 100_000] {
            // SAFETY: the code reads only its arguments and writes only the exit buffer.
            let outcome = unsafe { code.call(&[n, 0], &mut exit_buffer) };
            assert_eq!(outcome, Outcome { exit: 0, value: n * n.saturating_sub(1) / 2 }, "{name}: sum below {n}");
        }
        // Starting near the top, 0 + 1 + 2 + 3 overflows when adding 3: the code leaves
        // through snapshot 0 with the sum before it and i = 3.
        let start = i64::MAX - 4;
        // SAFETY: as above.
        let outcome = unsafe { code.call(&[10, start as u64], &mut exit_buffer) };
        assert_eq!(outcome, Outcome { exit: 1, value: 0 }, "{name}: overflow exit");
        assert_eq!(exit_buffer[..2], [(start + 3) as u64, 3], "{name}: saved values");
    }
    println!("round trip and runs agree on every backend: {BACKEND_NAMES:?}");
}
