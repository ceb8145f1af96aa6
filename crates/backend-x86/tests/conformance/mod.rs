//! The backend conformance suite: IR in, results out, written once against the [`Backend`]
//! trait and run for every backend, in the spirit of PyPy's `runner_test.py`.
//!
//! `conformance_suite!(name, backend)` expands to `mod name` with one `#[test]` per check
//! below. Each check builds small IR functions (every one passes `ir::verify::verify`),
//! compiles them with the backend, runs them through `CompiledCode::call` and compares the
//! `Outcome`, the exit buffer and memory with the IR's documented semantics.

use backend_x86::{Backend, CompiledCode};
use ir::{
    Block, Builder, CheckedOp, Cond, ExitKind, FloatOp, Function, Helper, IntOp, Kind, Mem, Outcome, SnapshotEntry,
    SnapshotId, Type, Value,
};

/// Instantiates the suite for one backend: `conformance_suite!(dynasm, backend_x86::DynasmBackend);`.
macro_rules! conformance_suite {
    ($modname:ident, $backend:expr) => {
        conformance_suite!(@checks $modname, $backend;
            params, constants, int_ops, checked_ops, neg_checked, float_ops, fneg, int_to_float,
            icmp, fcmp, select, loads, stores, memory_increments, memory_compares, word_calls, double_calls, call_writes_memory,
            values_survive_calls, call_stack_alignment, guards, compare_conjunctions, exit_snapshot_layout,
            exit_numbers, returns, branches, loop_sum, loop_fib, parallel_copies, loop_exit,
            large_frame, repeated_calls, register_pressure, calls_in_loops, guards_in_loops,
            mixed_parallel_copies, random_programs,
        );
    };
    (@checks $modname:ident, $backend:expr; $($check:ident),* $(,)?) => {
        mod $modname {
            $(
                #[test]
                fn $check() {
                    crate::conformance::$check(&$backend);
                }
            )*
        }
    };
}

use Type::{F64, I64};

/// The test helper `f` (one of the `extern "sysv64" fn`s below), named after it. All are
/// `Pure`: they compute, or touch only memory the test owns, and no backend reads effects.
macro_rules! helper {
    ($f:ident) => {
        ir::HelperDecl::new(stringify!($f), ir::Effect::Pure).at($f as *const () as u64)
    };
}

// ---------------------------------------------------------------------------------------------
// Building and running code
// ---------------------------------------------------------------------------------------------

/// Fills exit-buffer words that compiled code must not write.
const POISON: u64 = 0xdead_beef_dead_beef;

/// Verifies `f`, then compiles it.
fn compile(backend: &dyn Backend, f: &Function) -> CompiledCode {
    ir::verify::verify(f).unwrap_or_else(|e| panic!("{} does not verify: {e}", f.name));
    let code =
        backend.compile(f).unwrap_or_else(|e| panic!("the {} backend cannot compile {}: {e}", backend.name(), f.name));
    assert_eq!(code.exit_buffer_len(), f.exit_buffer_len(), "exit buffer length of {}", f.name);
    code
}

/// Runs `code` on `args`; gives the outcome and the exit buffer (as long as the code says it
/// needs: the words past it are checked to be untouched).
fn run(code: &CompiledCode, args: &[u64]) -> (Outcome, Vec<u64>) {
    let len = code.exit_buffer_len();
    let mut exit_buffer = vec![POISON; len + 2];
    // SAFETY: every function of this suite touches only memory that its caller passes in and
    // keeps alive for the call, and calls only the helpers defined here.
    let outcome = unsafe { code.call(args, &mut exit_buffer) };
    assert_eq!(exit_buffer[len..], [POISON; 2], "wrote past the exit buffer");
    exit_buffer.truncate(len);
    (outcome, exit_buffer)
}

/// Runs `code`, which must return, and gives the returned word.
fn returned(code: &CompiledCode, args: &[u64]) -> u64 {
    let (outcome, _) = run(code, args);
    assert_eq!(outcome.exit, 0, "args {args:?}: left through snapshot {}", outcome.exit.wrapping_sub(1));
    outcome.value
}

/// Builds a function whose entry block `body` fills and terminates.
fn function(name: &str, num_params: u32, body: impl FnOnce(&mut Builder)) -> Function {
    let mut b = Builder::new(name, num_params);
    let entry = b.create_block(&[]);
    b.switch_to(entry);
    body(&mut b);
    b.finish()
}

/// Compiles a function of `arity` word parameters that returns what `body` computes from them.
fn word_fn(
    backend: &dyn Backend,
    name: &str,
    arity: u32,
    body: impl FnOnce(&mut Builder, &[Value]) -> Value,
) -> CompiledCode {
    let f = function(name, arity, |b| {
        let params: Vec<Value> = (0..arity).map(|i| b.param(i)).collect();
        let result = body(b, &params);
        b.ret(result);
    });
    compile(backend, &f)
}

/// The parameters of `block`, as an array.
fn block_params<const N: usize>(b: &Builder, block: Block) -> [Value; N] {
    b.block_params(block).try_into().expect("parameter count")
}

/// A snapshot that saves `values`, in slots 0, 1, ..., as machine ints or unboxed floats.
fn save(b: &mut Builder, values: &[Value]) -> SnapshotId {
    let entries = values
        .iter()
        .enumerate()
        .map(|(slot, &v)| {
            let kind = if b.value_type(v) == Some(F64) { Kind::UnboxedFloat } else { Kind::MachineInt };
            SnapshotEntry { slot: slot as u32, kind, values: vec![v] }
        })
        .collect();
    b.snapshot(ExitKind::Resume, 0, 0, "conformance", entries)
}

/// The full-word access of a type.
fn word_mem(ty: Type) -> Mem {
    match ty {
        I64 => Mem::I64,
        F64 => Mem::F64,
    }
}

/// A constant of type `ty` with these bits.
fn constant(b: &mut Builder, ty: Type, bits: u64) -> Value {
    match ty {
        I64 => b.iconst(bits as i64),
        F64 => b.fconst(f64::from_bits(bits)),
    }
}

/// Code whose operands come from memory, so that words and doubles alike can be passed in: it
/// loads them from the word array at `args[0]`, stores its result after them and returns 0,
/// or leaves through snapshot 0, which saves the operands.
struct Harness {
    code: CompiledCode,
    operands: usize,
    result: Type,
}

impl Harness {
    /// `body` computes the result from the loaded operands, and may leave through the snapshot.
    fn new(
        backend: &dyn Backend,
        name: &str,
        operands: &[Type],
        body: impl FnOnce(&mut Builder, &[Value], SnapshotId) -> Value,
    ) -> Harness {
        let mut result = I64;
        let f = function(name, 1, |b| {
            let base = b.param(0);
            let values: Vec<Value> =
                operands.iter().enumerate().map(|(i, &ty)| b.load(word_mem(ty), base, 8 * i as i32)).collect();
            let snapshot = save(b, &values);
            let r = body(b, &values, snapshot);
            result = b.value_type(r).expect("the result has a type");
            b.store(word_mem(result), base, 8 * operands.len() as i32, r);
            let zero = b.iconst(0);
            b.ret(zero);
        });
        Harness { code: compile(backend, &f), operands: operands.len(), result }
    }

    /// `Some(result bits)` if the code returned, `None` if it left (having saved the operands).
    fn run(&self, operands: &[u64]) -> Option<u64> {
        assert_eq!(operands.len(), self.operands);
        let mut memory = operands.to_vec();
        memory.push(POISON);
        let (outcome, exit_buffer) = run(&self.code, &[memory.as_mut_ptr() as u64]);
        assert_eq!(outcome.value, 0);
        match outcome.exit {
            0 => Some(memory[self.operands]),
            1 => {
                assert_eq!(exit_buffer, operands, "the exit saved the wrong values");
                None
            }
            n => panic!("left through snapshot {}, which does not exist", n - 1),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Operands and expected results
// ---------------------------------------------------------------------------------------------

/// Integer operands: small, shift counts around 64, and the edges of 32 and 64 bits.
#[rustfmt::skip]
const INTS: [i64; 23] = [
    0, 1, -1, 2, -2, 3, 7, -7, 62, 63, 64, 65, 1000,
    i32::MAX as i64, i32::MIN as i64, u32::MAX as i64, 1 << 32, -(1 << 32), 1 << 62,
    i64::MAX, i64::MIN, i64::MIN + 1, 0x1234_5678_9abc_def0,
];

/// Double operands: signed zeros, subnormals, extremes, infinities and NaNs of both signs.
#[rustfmt::skip]
const FLOATS: [f64; 16] = [
    0.0, -0.0, 1.0, -1.0, 2.5, -3.75, 0.1, 1e300, -1e300,
    f64::MIN_POSITIVE, 5e-324, f64::MAX, f64::INFINITY, f64::NEG_INFINITY, f64::NAN, -f64::NAN,
];

/// The ordered float conditions (unsigned ones apply to integers only).
const FLOAT_CONDS: [Cond; 6] = [Cond::Eq, Cond::Ne, Cond::Lt, Cond::Le, Cond::Gt, Cond::Ge];
const INT_CONDS: [Cond; 10] =
    [Cond::Eq, Cond::Ne, Cond::Lt, Cond::Le, Cond::Gt, Cond::Ge, Cond::ULt, Cond::ULe, Cond::UGt, Cond::UGe];

fn int_bits(xs: &[i64]) -> Vec<u64> {
    xs.iter().map(|&x| x as u64).collect()
}

fn float_bits(xs: &[f64]) -> Vec<u64> {
    xs.iter().map(|x| x.to_bits()).collect()
}

/// Whether two results agree: words exactly, doubles bit for bit except that any NaN matches
/// any NaN (the IR leaves the sign and payload of a computed NaN open).
fn same(ty: Type, a: Option<u64>, b: Option<u64>) -> bool {
    let nan = |x: Option<u64>| x.is_some_and(|x| f64::from_bits(x).is_nan());
    a == b || (ty == F64 && nan(a) && nan(b))
}

/// A value of type `ty` for messages.
fn show(ty: Type, bits: u64) -> String {
    match ty {
        I64 => (bits as i64).to_string(),
        F64 => format!("{:?} ({bits:#018x})", f64::from_bits(bits)),
    }
}

fn show_result(ty: Type, r: Option<u64>) -> String {
    r.map_or("an exit".to_string(), |bits| show(ty, bits))
}

/// Checks a two-operand operation on `ty` operands against `reference` (`None`: the code must
/// leave through its snapshot) on every pair of `values` and on `cases`, whose results also
/// check the reference. Operands come loaded, either one as a constant, and both as one value.
fn check_binary(
    backend: &dyn Backend,
    what: &str,
    ty: Type,
    values: &[u64],
    cases: &[(u64, u64, Option<u64>)],
    op: impl Fn(&mut Builder, Value, Value, SnapshotId) -> Value,
    reference: impl Fn(u64, u64) -> Option<u64>,
) {
    let loaded = Harness::new(backend, what, &[ty, ty], |b, v, s| op(b, v[0], v[1], s));
    let rty = loaded.result;
    let check = |got: Option<u64>, x: u64, y: u64, form: &str| {
        let want = reference(x, y);
        assert!(
            same(rty, got, want),
            "{what}({}, {}) with {form}: got {}, want {}",
            show(ty, x),
            show(ty, y),
            show_result(rty, got),
            show_result(rty, want)
        );
    };
    let mut pairs: Vec<(u64, u64)> = values.iter().flat_map(|&x| values.iter().map(move |&y| (x, y))).collect();
    for &(x, y, want) in cases {
        let got = reference(x, y);
        assert!(same(rty, got, want), "the reference for {what}({}, {}) is wrong", show(ty, x), show(ty, y));
        pairs.push((x, y));
    }
    for &(x, y) in &pairs {
        check(loaded.run(&[x, y]), x, y, "loaded operands");
    }
    let twice = Harness::new(backend, what, &[ty], |b, v, s| op(b, v[0], v[0], s));
    for &x in values {
        check(twice.run(&[x]), x, x, "one operand twice");
    }
    // With a constant operand: each constant against every value, then the cases.
    let with_constant = |k: u64, others: &[u64], right: bool| {
        let code = Harness::new(backend, what, &[ty], |b, v, s| {
            let c = constant(b, ty, k);
            if right {
                op(b, v[0], c, s)
            } else {
                op(b, c, v[0], s)
            }
        });
        for &x in others {
            let (a, b) = if right { (x, k) } else { (k, x) };
            check(code.run(&[x]), a, b, if right { "a constant right operand" } else { "a constant left operand" });
        }
    };
    for &k in values {
        with_constant(k, values, true);
        with_constant(k, values, false);
    }
    for &(x, y, _) in cases {
        with_constant(y, &[x], true);
        with_constant(x, &[y], false);
    }
}

/// Checks a one-operand operation against `reference`, on every value, loaded and constant.
fn check_unary(
    backend: &dyn Backend,
    what: &str,
    ty: Type,
    values: &[u64],
    op: impl Fn(&mut Builder, Value, SnapshotId) -> Value,
    reference: impl Fn(u64) -> Option<u64>,
) {
    let loaded = Harness::new(backend, what, &[ty], |b, v, s| op(b, v[0], s));
    let rty = loaded.result;
    for &x in values {
        // The operand is still loaded, for the snapshot to save, but the operation reads a constant.
        let constant_form = Harness::new(backend, what, &[ty], |b, _, s| {
            let c = constant(b, ty, x);
            op(b, c, s)
        });
        let want = reference(x);
        for (got, form) in [(loaded.run(&[x]), "loaded"), (constant_form.run(&[x]), "constant")] {
            assert!(
                same(rty, got, want),
                "{what}({}) {form}: got {}, want {}",
                show(ty, x),
                show_result(rty, got),
                show_result(rty, want)
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Entry arguments and constants
// ---------------------------------------------------------------------------------------------

pub fn params(backend: &dyn Backend) {
    const ARITY: u32 = 12;
    let args: Vec<u64> =
        (0..ARITY as u64).map(|i| 0x0101_0101_0101_0101u64.wrapping_mul(i + 1) ^ ((i % 2) << 63)).collect();
    for i in 0..ARITY {
        let code = word_fn(backend, "param", ARITY, |_, p| p[i as usize]);
        assert_eq!(returned(&code, &args), args[i as usize], "param {i}");
    }
}

pub fn constants(backend: &dyn Backend) {
    for k in INTS {
        let code = word_fn(backend, "iconst", 0, |b, _| b.iconst(k));
        assert_eq!(returned(&code, &[]) as i64, k);
    }
    let nan_payloads = [0x7ff8_0000_dead_beef, 0xfff8_0000_0000_0000, 0x7ff0_0000_0000_0001];
    for bits in float_bits(&FLOATS).into_iter().chain(nan_payloads) {
        let code = Harness::new(backend, "fconst", &[], |b, _, _| b.fconst(f64::from_bits(bits)));
        assert_eq!(code.run(&[]), Some(bits), "fconst {}", show(F64, bits));
    }
}

// ---------------------------------------------------------------------------------------------
// Integer operations
// ---------------------------------------------------------------------------------------------

const INT_OPS: [IntOp; 8] =
    [IntOp::Add, IntOp::Sub, IntOp::Mul, IntOp::And, IntOp::Or, IntOp::Xor, IntOp::Shl, IntOp::Sar];

fn int_op_reference(op: IntOp, a: i64, b: i64) -> i64 {
    let shift = (b & 63) as u32;
    match op {
        IntOp::Add => a.wrapping_add(b),
        IntOp::Sub => a.wrapping_sub(b),
        IntOp::Mul => a.wrapping_mul(b),
        IntOp::And => a & b,
        IntOp::Or => a | b,
        IntOp::Xor => a ^ b,
        IntOp::Shl => a << shift,
        IntOp::Sar => a >> shift,
    }
}

pub fn int_ops(backend: &dyn Backend) {
    use IntOp::*;
    const M: i64 = i64::MIN;
    let cases: [(IntOp, i64, i64, i64); 16] = [
        (Add, i64::MAX, 1, M),
        (Sub, M, 1, i64::MAX),
        (Mul, M, -1, M),
        (Mul, 1 << 32, 1 << 32, 0),
        (And, -1, 0x0f0f, 0x0f0f),
        (Or, M, 1, M + 1),
        (Xor, -1, 5, -6),
        (Shl, 5, 0, 5),
        (Shl, 1, 63, M),
        (Shl, 3, 64, 3),
        (Shl, 3, 65, 6),
        (Shl, 1, -1, M),
        (Sar, M, 63, -1),
        (Sar, -8, 1, -4),
        (Sar, 8, 0, 8),
        (Sar, 1 << 40, 64 + 39, 2),
    ];
    for op in INT_OPS {
        let cases: Vec<_> =
            cases.iter().filter(|c| c.0 == op).map(|&(_, a, b, r)| (a as u64, b as u64, Some(r as u64))).collect();
        check_binary(
            backend,
            &format!("{op:?}"),
            I64,
            &int_bits(&INTS),
            &cases,
            |b, x, y, _| b.int(op, x, y),
            |x, y| Some(int_op_reference(op, x as i64, y as i64) as u64),
        );
    }
}

const CHECKED_OPS: [CheckedOp; 6] =
    [CheckedOp::Add, CheckedOp::Sub, CheckedOp::Mul, CheckedOp::FloorDiv, CheckedOp::Mod, CheckedOp::Shl];

/// Python's result, or `None` where compiled code must leave.
fn checked_reference(op: CheckedOp, a: i64, b: i64) -> Option<i64> {
    match op {
        CheckedOp::Add => a.checked_add(b),
        CheckedOp::Sub => a.checked_sub(b),
        CheckedOp::Mul => a.checked_mul(b),
        CheckedOp::FloorDiv => {
            let q = a.checked_div(b)?;
            let r = a % b;
            Some(if r != 0 && (r < 0) != (b < 0) { q - 1 } else { q })
        }
        CheckedOp::Mod => {
            if b == 0 {
                return None;
            }
            let r = a.wrapping_rem(b); // 0 for i64::MIN % -1
            Some(if r != 0 && (r < 0) != (b < 0) { r + b } else { r })
        }
        CheckedOp::Shl => {
            let r = a.checked_shl(u32::try_from(b).ok()?)?;
            (r >> b == a).then_some(r)
        }
    }
}

pub fn checked_ops(backend: &dyn Backend) {
    use CheckedOp::*;
    const M: i64 = i64::MIN;
    let cases: [(CheckedOp, i64, i64, Option<i64>); 43] = [
        (Add, i64::MAX, 1, None),
        (Add, M, -1, None),
        (Add, i64::MAX, M, Some(-1)),
        (Sub, M, 1, None),
        (Sub, 0, M, None),
        (Sub, -1, M, Some(i64::MAX)),
        (Mul, M, -1, None),
        (Mul, -1, M, None),
        (Mul, 1 << 32, 1 << 31, None),
        (Mul, 1 << 31, 1 << 31, Some(1 << 62)),
        (Mul, -(1 << 32), 1 << 31, Some(M)),
        (FloorDiv, 7, 2, Some(3)),
        (FloorDiv, -7, 2, Some(-4)),
        (FloorDiv, 7, -2, Some(-4)),
        (FloorDiv, -7, -2, Some(3)),
        (FloorDiv, 6, -2, Some(-3)),
        (FloorDiv, 6, -1, Some(-6)),
        (FloorDiv, M, 1, Some(M)),
        (FloorDiv, M, 2, Some(M / 2)),
        (FloorDiv, M, -1, None),
        (FloorDiv, 5, 0, None),
        (FloorDiv, 0, 0, None),
        (FloorDiv, M, 0, None),
        (Mod, 7, 2, Some(1)),
        (Mod, 7, -2, Some(-1)),
        (Mod, -7, 2, Some(1)),
        (Mod, -7, -2, Some(-1)),
        (Mod, 6, -1, Some(0)),
        (Mod, M, -1, Some(0)),
        (Mod, M, i64::MAX, Some(i64::MAX - 1)),
        (Mod, 5, 0, None),
        (Mod, 0, 0, None),
        (Shl, 1, 62, Some(1 << 62)),
        (Shl, 1, 63, None),
        (Shl, -1, 63, Some(M)),
        (Shl, 3, 61, Some(3 << 61)),
        (Shl, 3, 62, None),
        (Shl, 1, 64, None),
        (Shl, 1, -1, None),
        (Shl, 1, M, None),
        (Shl, M, 0, Some(M)),
        (Shl, M, 1, None),
        (Shl, -5, 3, Some(-40)),
    ];
    // Divisors that take other paths to a quotient (multiplying by a magic number, shifting).
    let divisors = [5, 6, 10, 100, 641, 1 << 40, 1_000_000_007, i64::MAX / 3, -3, -10, -(1 << 40)];
    for op in CHECKED_OPS {
        let mut values = INTS.to_vec();
        if matches!(op, FloorDiv | Mod) {
            values.extend(divisors);
        }
        let cases: Vec<_> =
            cases.iter().filter(|c| c.0 == op).map(|&(_, a, b, r)| (a as u64, b as u64, r.map(|r| r as u64))).collect();
        check_binary(
            backend,
            &format!("checked {op:?}"),
            I64,
            &int_bits(&values),
            &cases,
            |b, x, y, s| b.checked(op, x, y, s),
            |x, y| checked_reference(op, x as i64, y as i64).map(|r| r as u64),
        );
    }
}

pub fn neg_checked(backend: &dyn Backend) {
    check_unary(
        backend,
        "neg_checked",
        I64,
        &int_bits(&INTS),
        |b, x, s| b.neg_checked(x, s),
        |x| (x as i64).checked_neg().map(|r| r as u64),
    );
}

/// How a compare's result is consumed: as a value, or by a branch or a guard right after it
/// (which backends may fuse with the compare).
#[derive(Clone, Copy, Debug)]
enum CompareUse {
    Value,
    Branch,
    Guard { expect: bool },
}

const COMPARE_USES: [CompareUse; 4] =
    [CompareUse::Value, CompareUse::Branch, CompareUse::Guard { expect: true }, CompareUse::Guard { expect: false }];

impl CompareUse {
    /// Consumes `c`: the result is `c` itself, `c` recovered from the branch taken, or 1 after
    /// a guard that passed.
    fn build(self, b: &mut Builder, c: Value, s: SnapshotId) -> Value {
        match self {
            CompareUse::Value => c,
            CompareUse::Branch => {
                let (yes, no, join) = (b.create_block(&[]), b.create_block(&[]), b.create_block(&[I64]));
                b.branch(c, yes, &[], no, &[]);
                for (block, r) in [(yes, 1), (no, 0)] {
                    b.switch_to(block);
                    let r = b.iconst(r);
                    b.jump(join, &[r]);
                }
                b.switch_to(join);
                let [r] = block_params(b, join);
                r
            }
            CompareUse::Guard { expect } => {
                b.guard(c, expect, s);
                b.iconst(1)
            }
        }
    }

    /// The result [`CompareUse::build`] gives when the compare is `holds` (`None`: an exit).
    fn expected(self, holds: bool) -> Option<u64> {
        match self {
            CompareUse::Value | CompareUse::Branch => Some(holds as u64),
            CompareUse::Guard { expect } => (holds == expect).then_some(1),
        }
    }
}

fn icmp_reference(cond: Cond, x: u64, y: u64) -> bool {
    let (sx, sy) = (x as i64, y as i64);
    match cond {
        Cond::Eq => x == y,
        Cond::Ne => x != y,
        Cond::Lt => sx < sy,
        Cond::Le => sx <= sy,
        Cond::Gt => sx > sy,
        Cond::Ge => sx >= sy,
        Cond::ULt => x < y,
        Cond::ULe => x <= y,
        Cond::UGt => x > y,
        Cond::UGe => x >= y,
    }
}

pub fn icmp(backend: &dyn Backend) {
    use Cond::*;
    let cases: [(Cond, i64, i64, bool); 10] = [
        (Lt, -1, 1, true),
        (ULt, -1, 1, false),
        (UGt, -1, 1, true),
        (UGe, -1, -1, true),
        (ULe, 0, -1, true),
        (Lt, i64::MIN, i64::MAX, true),
        (ULt, i64::MIN, i64::MAX, false),
        (Ge, 0, i64::MIN, true),
        (Le, 5, 5, true),
        (Ne, 5, 5, false),
    ];
    for cond in INT_CONDS {
        for how in COMPARE_USES {
            let cases: Vec<_> = cases
                .iter()
                .filter(|c| c.0 == cond)
                .map(|&(_, a, b, holds)| (a as u64, b as u64, how.expected(holds)))
                .collect();
            check_binary(
                backend,
                &format!("icmp {cond:?} used as {how:?}"),
                I64,
                &int_bits(&INTS),
                &cases,
                |b, x, y, s| {
                    let c = b.icmp(cond, x, y);
                    how.build(b, c, s)
                },
                |x, y| how.expected(icmp_reference(cond, x, y)),
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Float operations
// ---------------------------------------------------------------------------------------------

const FLOAT_OPS: [FloatOp; 4] = [FloatOp::Add, FloatOp::Sub, FloatOp::Mul, FloatOp::Div];

pub fn float_ops(backend: &dyn Backend) {
    use FloatOp::*;
    let inf = f64::INFINITY;
    let cases: [(FloatOp, f64, f64, f64); 14] = [
        (Add, 0.1, 0.2, 0.30000000000000004),
        (Add, -0.0, -0.0, -0.0),
        (Add, 0.0, -0.0, 0.0),
        (Add, 1e308, 1e308, inf),
        (Add, inf, -inf, f64::NAN),
        (Sub, 0.0, 0.0, 0.0),
        (Sub, -0.0, 0.0, -0.0),
        (Sub, 1.0, 3.0, -2.0),
        (Mul, -0.0, 5.0, -0.0),
        (Mul, inf, 0.0, f64::NAN),
        (Div, 1.0, 0.0, inf),
        (Div, -1.0, 0.0, -inf),
        (Div, 1.0, -0.0, -inf),
        (Div, 0.0, 0.0, f64::NAN),
    ];
    for op in FLOAT_OPS {
        let cases: Vec<_> = cases
            .iter()
            .filter(|c| c.0 == op)
            .map(|&(_, a, b, r)| (a.to_bits(), b.to_bits(), Some(r.to_bits())))
            .collect();
        check_binary(
            backend,
            &format!("float {op:?}"),
            F64,
            &float_bits(&FLOATS),
            &cases,
            |b, x, y, _| b.float(op, x, y),
            |x, y| {
                let (x, y) = (f64::from_bits(x), f64::from_bits(y));
                let r = match op {
                    Add => x + y,
                    Sub => x - y,
                    Mul => x * y,
                    Div => x / y,
                };
                Some(r.to_bits())
            },
        );
    }
}

pub fn fneg(backend: &dyn Backend) {
    assert_eq!((-0.0f64).to_bits(), 1 << 63);
    check_unary(backend, "fneg", F64, &float_bits(&FLOATS), |b, x, _| b.fneg(x), |x| Some(x ^ (1 << 63)));
}

pub fn int_to_float(backend: &dyn Backend) {
    let mut values = INTS.to_vec();
    values.extend([1 << 53, (1 << 53) + 1, (1 << 53) + 3, -(1 << 53) - 1, i64::MAX - 511]);
    check_unary(
        backend,
        "int_to_float",
        I64,
        &int_bits(&values),
        |b, x, _| b.int_to_float(x),
        |x| Some((x as i64 as f64).to_bits()),
    );
}

pub fn fcmp(backend: &dyn Backend) {
    use Cond::*;
    let nan = f64::NAN;
    // Every ordered condition is false with a NaN operand; `Ne` is true.
    let mut cases: Vec<(Cond, f64, f64, bool)> = FLOAT_CONDS
        .iter()
        .flat_map(|&c| {
            [(c, nan, 1.0, c == Ne), (c, 1.0, nan, c == Ne), (c, nan, nan, c == Ne), (c, -nan, nan, c == Ne)]
        })
        .collect();
    cases.extend([
        (Eq, 0.0, -0.0, true),
        (Le, -0.0, 0.0, true),
        (Lt, -0.0, 0.0, false),
        (Lt, f64::NEG_INFINITY, -1e300, true),
        (Gt, 5e-324, 0.0, true),
    ]);
    for cond in FLOAT_CONDS {
        for how in COMPARE_USES {
            let cases: Vec<_> = cases
                .iter()
                .filter(|c| c.0 == cond)
                .map(|&(_, a, b, holds)| (a.to_bits(), b.to_bits(), how.expected(holds)))
                .collect();
            check_binary(
                backend,
                &format!("fcmp {cond:?} used as {how:?}"),
                F64,
                &float_bits(&FLOATS),
                &cases,
                |b, x, y, s| {
                    let c = b.fcmp(cond, x, y);
                    how.build(b, c, s)
                },
                |x, y| how.expected(fcmp_reference(cond, f64::from_bits(x), f64::from_bits(y))),
            );
        }
    }
}

fn fcmp_reference(cond: Cond, x: f64, y: f64) -> bool {
    match cond {
        Cond::Eq => x == y,
        Cond::Ne => x != y,
        Cond::Lt => x < y,
        Cond::Le => x <= y,
        Cond::Gt => x > y,
        Cond::Ge => x >= y,
        _ => unreachable!("unsigned float compare"),
    }
}

pub fn select(backend: &dyn Backend) {
    let conditions: [i64; 5] = [0, 1, 2, -1, i64::MIN];
    let arms: [(Type, u64, u64); 3] = [
        (I64, 11, (-22i64) as u64),
        (F64, (-0.0f64).to_bits(), 0.0f64.to_bits()),
        (F64, 0x7ff8_0000_dead_beef, 1.5f64.to_bits()),
    ];
    for (ty, yes, no) in arms {
        let direct = Harness::new(backend, "select", &[I64, ty, ty], |b, v, _| b.select(v[0], v[1], v[2]));
        let compared = Harness::new(backend, "select_compare", &[I64, ty, ty], |b, v, _| {
            let zero = b.iconst(0);
            let c = b.icmp(Cond::Ne, v[0], zero);
            b.select(c, v[1], v[2])
        });
        for c in conditions {
            let want = Some(if c != 0 { yes } else { no });
            assert_eq!(direct.run(&[c as u64, yes, no]), want, "select({c}, ...) of {ty:?}");
            assert_eq!(compared.run(&[c as u64, yes, no]), want, "select({c} != 0, ...) of {ty:?}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Memory
// ---------------------------------------------------------------------------------------------

const MEMS: [Mem; 6] = [Mem::I64, Mem::I32, Mem::U32, Mem::U16, Mem::U8, Mem::F64];
/// Offsets from a base in the middle of a 1 KiB buffer: short and long displacements.
const OFFSETS: [i32; 8] = [-512, -129, -1, 0, 1, 127, 128, 500];
const MIDDLE: usize = 512;

fn width(mem: Mem) -> usize {
    match mem {
        Mem::I64 | Mem::F64 => 8,
        Mem::I32 | Mem::U32 => 4,
        Mem::U16 => 2,
        Mem::U8 => 1,
    }
}

/// What a load of `mem` from the start of `bytes` gives, as a word.
fn load_reference(mem: Mem, bytes: &[u8]) -> u64 {
    let le = |n: usize| {
        let mut word = [0; 8];
        word[..n].copy_from_slice(&bytes[..n]);
        u64::from_le_bytes(word)
    };
    match mem {
        Mem::I64 | Mem::F64 | Mem::U32 | Mem::U16 | Mem::U8 => le(width(mem)),
        Mem::I32 => le(4) as u32 as i32 as i64 as u64,
    }
}

/// A load or store of `mem` at `base + offset` between a word array and a full-width copy.
fn memory_fn(backend: &dyn Backend, mem: Mem, offset: i32, store: bool) -> CompiledCode {
    let full = word_mem(mem.value_type());
    let f = function(if store { "store" } else { "load" }, 2, |b| {
        let (base, word) = (b.param(0), b.param(1));
        if store {
            let v = b.load(full, word, 0);
            b.store(mem, base, offset, v);
        } else {
            let v = b.load(mem, base, offset);
            b.store(full, word, 0, v);
        }
        let zero = b.iconst(0);
        b.ret(zero);
    });
    compile(backend, &f)
}

pub fn loads(backend: &dyn Backend) {
    // Two buffers: every byte's top bit set, every byte's top bit clear (sign extension).
    let buffers: Vec<Vec<u8>> =
        [0x80u8, 0].iter().map(|&top| (0..1024).map(|i| (i * 37 % 128) as u8 | top).collect()).collect();
    for mem in MEMS {
        for offset in OFFSETS {
            let code = memory_fn(backend, mem, offset, false);
            for buffer in &buffers {
                let mut word = POISON;
                let base = buffer[MIDDLE..].as_ptr() as u64;
                assert_eq!(returned(&code, &[base, &mut word as *mut u64 as u64]), 0);
                let at = (MIDDLE as i64 + offset as i64) as usize;
                let want = load_reference(mem, &buffer[at..]);
                assert_eq!(word, want, "load {mem:?} at {offset}: got {word:#x}, want {want:#x}");
            }
        }
    }
}

pub fn stores(backend: &dyn Backend) {
    let value: u64 = 0xf1e2_d3c4_b5a6_9788;
    for mem in MEMS {
        for offset in OFFSETS {
            let code = memory_fn(backend, mem, offset, true);
            let mut buffer = vec![0x5au8; 1024];
            let mut want = buffer.clone();
            let at = (MIDDLE as i64 + offset as i64) as usize;
            want[at..at + width(mem)].copy_from_slice(&value.to_le_bytes()[..width(mem)]);
            let mut word = value;
            let base = buffer[MIDDLE..].as_mut_ptr() as u64;
            assert_eq!(returned(&code, &[base, &mut word as *mut u64 as u64]), 0);
            let changed: Vec<usize> = (0..buffer.len()).filter(|&i| buffer[i] != want[i]).collect();
            assert!(changed.is_empty(), "store {mem:?} at {offset}: bytes {changed:?} differ");
        }
    }
}

/// Words changed in place by a constant (`store p+k, (load p+k) + c`, as reference counts
/// are: a backend may add to memory), next to shapes that must not be taken for one: the sum
/// read again, a store between the load and the store back, another word written.
pub fn memory_increments(backend: &dyn Backend) {
    let f = function("increments", 1, |b| {
        let base = b.param(0);
        let one = b.iconst(1);
        let minus_three = b.iconst(-3);
        let big = b.iconst(1 << 40);
        // w[0] += 1; w[1] = (1 + w[1]); w[2] -= -3; w[3] += 2^40 (too wide for an immediate).
        for (slot, c, sub, flipped) in [(0, one, false, false), (1, one, false, true), (2, minus_three, true, false), (3, big, false, false)] {
            let l = b.load(Mem::I64, base, 8 * slot);
            let s = match (sub, flipped) {
                (true, _) => b.int(IntOp::Sub, l, c),
                (false, true) => b.int(IntOp::Add, c, l),
                (false, false) => b.int(IntOp::Add, l, c),
            };
            b.store(Mem::I64, base, 8 * slot, s);
        }
        // w[4] += 1, the sum also stored to w[5].
        let l = b.load(Mem::I64, base, 32);
        let s = b.int(IntOp::Add, l, one);
        b.store(Mem::I64, base, 32, s);
        b.store(Mem::I64, base, 40, s);
        // w[6] = w[6] + 1 with w[6] = 100 stored in between: the sum is of the old word.
        let l = b.load(Mem::I64, base, 48);
        let hundred = b.iconst(100);
        b.store(Mem::I64, base, 48, hundred);
        let s = b.int(IntOp::Add, l, one);
        b.store(Mem::I64, base, 48, s);
        // w[7] = w[8] + 1: another word.
        let l = b.load(Mem::I64, base, 64);
        let s = b.int(IntOp::Add, l, one);
        b.store(Mem::I64, base, 56, s);
        let zero = b.iconst(0);
        b.ret(zero);
    });
    let code = compile(backend, &f);
    // A decrement then tested for zero by the branch ending its block: 1 if it reached zero.
    let decrement = function("decrement", 1, |b| {
        let base = b.param(0);
        let l = b.load(Mem::I64, base, 8);
        let one = b.iconst(1);
        let s = b.int(IntOp::Sub, l, one);
        b.store(Mem::I64, base, 8, s);
        let zero = b.iconst(0);
        let dead = b.icmp(Cond::Eq, s, zero);
        let (last, live) = (b.create_block(&[]), b.create_block(&[]));
        b.branch(dead, last, &[], live, &[]);
        for (block, r) in [(last, 1), (live, 2)] {
            b.switch_to(block);
            let r = b.iconst(r);
            b.ret(r);
        }
    });
    let decrement = compile(backend, &decrement);
    for (count, want) in [(1i64, 1u64), (2, 2), (0, 2), (i64::MIN, 2)] {
        let mut words = [7i64, count];
        assert_eq!(returned(&decrement, &[words.as_mut_ptr() as u64]), want, "decrement of {count}");
        assert_eq!(words, [7, count.wrapping_sub(1)], "decrement of {count}");
    }
    let start: [i64; 9] = [5, -1, 10, 7, 41, 0, 6, 0, 20];
    let mut words = start;
    assert_eq!(returned(&code, &[words.as_mut_ptr() as u64]), 0);
    let want = [6, 0, 13, 7 + (1 << 40), 42, 42, 7, 21, 20];
    assert_eq!(words, want, "from {start:?}");
}

/// `acc | 1 << bit` if `holds` (by a branch on it, which a backend may fuse with its compare),
/// else `acc`; emission goes on in the join block.
fn set_bit_if(b: &mut Builder, holds: Value, acc: Value, bit: usize) -> Value {
    let (yes, join) = (b.create_block(&[]), b.create_block(&[I64]));
    b.branch(holds, yes, &[], join, &[acc]);
    b.switch_to(yes);
    let mask = b.iconst(1 << bit);
    let set = b.int(IntOp::Or, acc, mask);
    b.jump(join, &[set]);
    b.switch_to(join);
    let [acc] = block_params(b, join);
    acc
}

/// Loads compared with a constant, which a backend may compare in memory: every width, with
/// constants in and out of the loaded width's range, a word with a constant wider than an
/// immediate, and a load whose word is stored to before the compare (the old value counts).
pub fn memory_compares(backend: &dyn Backend) {
    const BIG: i64 = 0x1234_5678_9abc;
    // (width, offset, condition, constant), each setting one bit of the result when it holds.
    let cases: [(Mem, i32, Cond, i64); 12] = [
        (Mem::U8, 0, Cond::Eq, 0xf0),
        (Mem::U8, 0, Cond::Eq, -16),
        (Mem::U8, 0, Cond::Ne, 0x1f0),
        (Mem::U16, 8, Cond::Eq, 0xfff0),
        (Mem::U32, 16, Cond::Eq, 0xffff_fff0),
        (Mem::U32, 16, Cond::Eq, -16),
        (Mem::I32, 16, Cond::Eq, -16),
        (Mem::I32, 16, Cond::Eq, 0xffff_fff0),
        (Mem::I64, 24, Cond::Eq, BIG),
        (Mem::I64, 24, Cond::Gt, BIG - 1),
        (Mem::I64, 24, Cond::ULt, 5),
        (Mem::I64, 32, Cond::Eq, 3),
    ];
    let f = function("memory_compares", 1, |b| {
        let base = b.param(0);
        let mut acc = b.iconst(0);
        for (bit, &(mem, off, cond, k)) in cases.iter().enumerate() {
            let l = b.load(mem, base, off);
            if bit == cases.len() - 1 {
                // The word becomes 3 before the compare of its old value (7).
                let three = b.iconst(3);
                b.store(Mem::I64, base, off, three);
            }
            let k = b.iconst(k);
            let holds = b.icmp(cond, l, k);
            acc = set_bit_if(b, holds, acc, bit);
        }
        b.ret(acc);
    });
    // A word compared with a value in a register, on either side, ordered and not.
    let conds = [Cond::Eq, Cond::Lt, Cond::UGt, Cond::Ge];
    let against = function("memory_compares_registers", 2, |b| {
        let (base, x) = (b.param(0), b.param(1));
        let mut acc = b.iconst(0);
        for (bit, &cond) in conds.iter().chain(&conds).enumerate() {
            let l = b.load(Mem::I64, base, 0);
            let holds = if bit < conds.len() { b.icmp(cond, l, x) } else { b.icmp(cond, x, l) };
            acc = set_bit_if(b, holds, acc, bit);
        }
        b.ret(acc);
    });
    let against = compile(backend, &against);
    for (word, x) in [(5i64, 5i64), (-1, 3), (3, -1), (i64::MIN, i64::MAX)] {
        let mut memory = [word as u64];
        let want = conds.iter().chain(&conds).enumerate().fold(0u64, |acc, (bit, &cond)| {
            let (l, r) = if bit < conds.len() { (word, x) } else { (x, word) };
            if icmp_reference(cond, l as u64, r as u64) { acc | 1 << bit } else { acc }
        });
        assert_eq!(returned(&against, &[memory.as_mut_ptr() as u64, x as u64]), want, "word {word} against {x}");
    }
    let code = compile(backend, &f);
    let mut words: [u64; 5] = [0xf0, 0xfff0, 0xffff_fff0, BIG as u64, 7];
    let want = cases.iter().enumerate().fold(0u64, |acc, (bit, &(mem, off, cond, k))| {
        let at = off as usize / 8;
        let raw = words[at];
        let loaded = match mem {
            Mem::U8 => raw as u8 as u64,
            Mem::U16 => raw as u16 as u64,
            Mem::U32 => raw as u32 as u64,
            Mem::I32 => raw as u32 as i32 as i64 as u64,
            _ => raw,
        };
        if icmp_reference(cond, loaded, k as u64) { acc | 1 << bit } else { acc }
    });
    assert_eq!(returned(&code, &[words.as_mut_ptr() as u64]), want);
    assert_eq!(words[4], 3);
}

// ---------------------------------------------------------------------------------------------
// Calls
// ---------------------------------------------------------------------------------------------

/// A checksum that depends on the order of its arguments.
fn weigh(words: &[u64]) -> u64 {
    words.iter().fold(7, |acc, &w| acc.wrapping_mul(31).wrapping_add(w))
}

fn weigh_doubles(xs: &[f64]) -> f64 {
    xs.iter().fold(0.5, |acc, &x| acc * 3.0 + x)
}

extern "sysv64" fn words0() -> u64 {
    weigh(&[])
}
extern "sysv64" fn words1(a: u64) -> u64 {
    weigh(&[a])
}
extern "sysv64" fn words2(a: u64, b: u64) -> u64 {
    weigh(&[a, b])
}
extern "sysv64" fn words3(a: u64, b: u64, c: u64) -> u64 {
    weigh(&[a, b, c])
}
extern "sysv64" fn words4(a: u64, b: u64, c: u64, d: u64) -> u64 {
    weigh(&[a, b, c, d])
}
extern "sysv64" fn words5(a: u64, b: u64, c: u64, d: u64, e: u64) -> u64 {
    weigh(&[a, b, c, d, e])
}
extern "sysv64" fn words6(a: u64, b: u64, c: u64, d: u64, e: u64, f: u64) -> u64 {
    weigh(&[a, b, c, d, e, f])
}

extern "sysv64" fn mix2(x: f64, y: f64) -> f64 {
    x * 3.0 - y
}

#[allow(clippy::too_many_arguments)]
extern "sysv64" fn doubles8(a: f64, b: f64, c: f64, d: f64, e: f64, f: f64, g: f64, h: f64) -> f64 {
    weigh_doubles(&[a, b, c, d, e, f, g, h])
}

/// Six words and eight doubles, interleaved: every argument register of both classes.
#[allow(clippy::too_many_arguments)]
extern "sysv64" fn interleaved(
    a: u64,
    x0: f64,
    b: u64,
    x1: f64,
    c: u64,
    x2: f64,
    d: u64,
    x3: f64,
    e: u64,
    x4: f64,
    f: u64,
    x5: f64,
    x6: f64,
    x7: f64,
) -> f64 {
    weigh_doubles(&[x0, x1, x2, x3, x4, x5, x6, x7]) + (weigh(&[a, b, c, d, e, f]) >> 12) as f64
}

extern "sysv64" fn pick(x: f64, a: u64, y: f64, b: u64) -> u64 {
    if x < y {
        a
    } else {
        b
    }
}

extern "sysv64" fn write_word(p: *mut u64, v: u64) {
    // SAFETY: the IR passes a pointer to a live word.
    unsafe { p.write(v) }
}

/// Overwrites every caller-saved register, as any C helper may.
#[rustfmt::skip]
extern "sysv64" fn clobber_caller_saved() {
    // SAFETY: writes only registers that the System V ABI lets a callee clobber.
    unsafe {
        std::arch::asm!(
            "mov rax, -1", "mov rcx, rax", "mov rdx, rax", "mov rsi, rax", "mov rdi, rax",
            "mov r8, rax", "mov r9, rax", "mov r10, rax", "mov r11, rax",
            "pcmpeqd xmm0, xmm0", "pcmpeqd xmm1, xmm1", "pcmpeqd xmm2, xmm2", "pcmpeqd xmm3, xmm3",
            "pcmpeqd xmm4, xmm4", "pcmpeqd xmm5, xmm5", "pcmpeqd xmm6, xmm6", "pcmpeqd xmm7, xmm7",
            "pcmpeqd xmm8, xmm8", "pcmpeqd xmm9, xmm9", "pcmpeqd xmm10, xmm10", "pcmpeqd xmm11, xmm11",
            "pcmpeqd xmm12, xmm12", "pcmpeqd xmm13, xmm13", "pcmpeqd xmm14, xmm14", "pcmpeqd xmm15, xmm15",
            clobber_abi("sysv64"),
        );
    }
}

/// 0 if the caller kept the stack 16-byte aligned at the call (so `rsp + 8` is aligned on
/// entry), 8 if not. Naked, so that it reads the stack pointer the call left.
#[unsafe(naked)]
extern "sysv64" fn stack_misalignment() -> u64 {
    std::arch::naked_asm!("lea rax, [rsp + 8]", "and rax, 15", "ret")
}

pub fn word_calls(backend: &dyn Backend) {
    let helpers = [
        helper!(words0),
        helper!(words1),
        helper!(words2),
        helper!(words3),
        helper!(words4),
        helper!(words5),
        helper!(words6),
    ];
    let args: [u64; 6] = [1, u64::MAX, 1 << 63, 0x1234_5678, 42, 0xfeed_f00d_0000_0001];
    for (n, target) in helpers.into_iter().enumerate() {
        let code = word_fn(backend, "call_words", 6, |b, p| b.call(target, &p[..n], Some(I64)));
        assert_eq!(returned(&code, &args), weigh(&args[..n]), "call with {n} word arguments");
    }
}

pub fn double_calls(backend: &dyn Backend) {
    type Reference = fn(&[u64]) -> u64;
    let cases: [(Helper, Vec<Type>, Type, Reference); 4] = [
        (helper!(mix2), vec![F64; 2], F64, |v| mix2(f64::from_bits(v[0]), f64::from_bits(v[1])).to_bits()),
        (helper!(doubles8), vec![F64; 8], F64, |v| {
            let x: Vec<f64> = v.iter().map(|&b| f64::from_bits(b)).collect();
            doubles8(x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7]).to_bits()
        }),
        (helper!(interleaved), [[I64, F64]; 6].concat().into_iter().chain([F64, F64]).collect(), F64, |v| {
            let x = |i: usize| f64::from_bits(v[i]);
            interleaved(v[0], x(1), v[2], x(3), v[4], x(5), v[6], x(7), v[8], x(9), v[10], x(11), x(12), x(13))
                .to_bits()
        }),
        (helper!(pick), vec![F64, I64, F64, I64], I64, |v| {
            pick(f64::from_bits(v[0]), v[1], f64::from_bits(v[2]), v[3])
        }),
    ];
    for (target, operands, ret, reference) in cases {
        let name = target.name.clone();
        let code = Harness::new(backend, &name, &operands, |b, v, _| b.call(target, v, Some(ret)));
        for seed in 0..4u64 {
            // Doubles ±(i + 1.5) and words that differ per argument and per run.
            let args: Vec<u64> = operands
                .iter()
                .enumerate()
                .map(|(i, ty)| {
                    let sign = if (i as u64 + seed).is_multiple_of(2) { 1.0 } else { -1.0 };
                    match ty {
                        F64 => ((i as f64 + 1.5) * sign).to_bits(),
                        I64 => weigh(&[i as u64, seed]),
                    }
                })
                .collect();
            let (got, want) = (code.run(&args), Some(reference(&args)));
            let shown: Vec<String> = operands.iter().zip(&args).map(|(&ty, &a)| show(ty, a)).collect();
            assert_eq!(got, want, "{name}({})", shown.join(", "));
        }
    }
}

pub fn call_writes_memory(backend: &dyn Backend) {
    let code = word_fn(backend, "call_writes", 2, |b, p| {
        let before = b.load(Mem::I64, p[0], 0);
        b.call(helper!(write_word), &[p[0], p[1]], None);
        let after = b.load(Mem::I64, p[0], 0);
        b.int(IntOp::Sub, after, before)
    });
    let mut cell: u64 = 5;
    assert_eq!(returned(&code, &[&mut cell as *mut u64 as u64, 12]), 7, "the load after the call must see the write");
    assert_eq!(cell, 12);
}

pub fn values_survive_calls(backend: &dyn Backend) {
    // Words and doubles computed before a call that clobbers every caller-saved register are
    // stored after it: memory = [a, b, c, d] in, [a + b, a * b, c + d, c * d, a, d] out.
    let f = function("survive_call", 1, |b| {
        let base = b.param(0);
        let [x, y] = [0, 8].map(|off| b.load(Mem::I64, base, off));
        let [u, w] = [16, 24].map(|off| b.load(Mem::F64, base, off));
        let results = [
            b.int(IntOp::Add, x, y),
            b.int(IntOp::Mul, x, y),
            b.float(FloatOp::Add, u, w),
            b.float(FloatOp::Mul, u, w),
            x,
            w,
        ];
        b.call(helper!(clobber_caller_saved), &[], None);
        for (i, &r) in results.iter().enumerate() {
            let mem = word_mem(b.value_type(r).expect("typed"));
            b.store(mem, base, 32 + 8 * i as i32, r);
        }
        b.ret(base);
    });
    let code = compile(backend, &f);
    let (a, bb, c, d) = (3u64, 5u64, 1.25f64, -4.0f64);
    let mut memory = [a, bb, c.to_bits(), d.to_bits(), 0, 0, 0, 0, 0, 0];
    let base = memory.as_mut_ptr() as u64;
    assert_eq!(returned(&code, &[base]), base, "the parameter must survive the call");
    let want = [a + bb, a * bb, (c + d).to_bits(), (c * d).to_bits(), a, d.to_bits()];
    assert_eq!(memory[4..], want);
}

pub fn call_stack_alignment(backend: &dyn Backend) {
    // Frames of several sizes; the call also sits in a loop body, after block-argument copies.
    for extra in 0..4 {
        let f = function("aligned_call", 1, |b| {
            let n = b.param(0);
            for k in 0..extra {
                b.iconst(k);
            }
            let zero = b.iconst(0);
            let head = b.create_block(&[I64, I64]);
            b.jump(head, &[zero, zero]);
            b.switch_to(head);
            let [i, acc] = block_params(b, head);
            let misalignment = b.call(helper!(stack_misalignment), &[], Some(I64));
            let acc = b.int(IntOp::Or, acc, misalignment);
            let one = b.iconst(1);
            let i = b.int(IntOp::Add, i, one);
            let more = b.icmp(Cond::Lt, i, n);
            let done = b.create_block(&[]);
            b.branch(more, head, &[i, acc], done, &[]);
            b.switch_to(done);
            b.ret(acc);
        });
        let code = compile(backend, &f);
        assert_eq!(returned(&code, &[3]), 0, "misaligned stack at a call ({extra} extra values)");
    }
}

// ---------------------------------------------------------------------------------------------
// Leaving compiled code
// ---------------------------------------------------------------------------------------------

pub fn guards(backend: &dyn Backend) {
    for expect in [true, false] {
        let code = Harness::new(backend, "guard", &[I64], |b, v, s| {
            b.guard(v[0], expect, s);
            b.iconst(7)
        });
        for c in [0, 1, 2, -1, i64::MIN] {
            let leaves = (c != 0) != expect;
            assert_eq!(code.run(&[c as u64]), (!leaves).then_some(7), "guard {c} expecting {expect}");
        }
    }
}

/// Guards and branches on the `and` of two compares (which a backend may evaluate as two
/// compare-and-jumps): integer and float compares, one seen through `icmp.eq c, 0`.
pub fn compare_conjunctions(backend: &dyn Backend) {
    // (x < y) & !(a == b), as int compares, and (fx > fy) & (a == b) with a float compare.
    fn both(b: &mut Builder, v: &[Value], float: bool) -> Value {
        let zero = b.iconst(0);
        let first = if float { b.fcmp(Cond::Gt, v[4], v[5]) } else { b.icmp(Cond::Lt, v[0], v[1]) };
        let eq = b.icmp(Cond::Eq, v[2], v[3]);
        let second = if float { eq } else { b.icmp(Cond::Eq, eq, zero) };
        b.int(IntOp::And, first, second)
    }
    let reference = |w: &[u64], float: bool| {
        let (x, y, a, b) = (w[0] as i64, w[1] as i64, w[2], w[3]);
        let (fx, fy) = (f64::from_bits(w[4]), f64::from_bits(w[5]));
        if float { fx > fy && a == b } else { x < y && a != b }
    };
    let operands = [I64, I64, I64, I64, F64, F64];
    let mut cases = Vec::new();
    for (x, y) in [(1i64, 2i64), (2, 1), (-5, -5), (i64::MIN, i64::MAX)] {
        for (a, b) in [(7u64, 7u64), (7, 8)] {
            for (fx, fy) in [(2.5f64, 1.0f64), (1.0, 2.5), (f64::NAN, 1.0), (0.0, -0.0)] {
                cases.push([x as u64, y as u64, a, b, fx.to_bits(), fy.to_bits()]);
            }
        }
    }
    for float in [false, true] {
        for expect in [true, false] {
            let guarded = Harness::new(backend, "guard_and", &operands, |b, v, s| {
                let c = both(b, v, float);
                b.guard(c, expect, s);
                b.iconst(7)
            });
            for w in &cases {
                let leaves = reference(w, float) != expect;
                assert_eq!(guarded.run(w), (!leaves).then_some(7), "guard on {w:?} (float {float}) expecting {expect}");
            }
        }
        let branched = Harness::new(backend, "branch_and", &operands, |b, v, _| {
            let c = both(b, v, float);
            let (then, otherwise, join) = (b.create_block(&[]), b.create_block(&[]), b.create_block(&[I64]));
            b.branch(c, then, &[], otherwise, &[]);
            for (block, r) in [(then, 1), (otherwise, 2)] {
                b.switch_to(block);
                let r = b.iconst(r);
                b.jump(join, &[r]);
            }
            b.switch_to(join);
            let [r] = block_params(b, join);
            r
        });
        for w in &cases {
            assert_eq!(branched.run(w), Some(if reference(w, float) { 1 } else { 2 }), "branch on {w:?} (float {float})");
        }
    }
}

pub fn exit_snapshot_layout(backend: &dyn Backend) {
    // Snapshot 0 is a decoy; the exit through snapshot 1 stores its values in entry order.
    let f = function("exit_layout", 4, |b| {
        let [a, x, c, d] = [0, 1, 2, 3].map(|i| b.param(i));
        save(b, &[d]);
        let xf = b.int_to_float(x);
        let less = b.icmp(Cond::Lt, a, x);
        let entries = vec![
            SnapshotEntry { slot: 0, kind: Kind::MachineInt, values: vec![a] },
            SnapshotEntry { slot: 2, kind: Kind::UnboxedFloat, values: vec![xf] },
            SnapshotEntry { slot: 3, kind: Kind::VirtualRangeIter, values: vec![c, d, a] },
            SnapshotEntry { slot: 4, kind: Kind::IntConst(5), values: vec![] },
            SnapshotEntry { slot: 7, kind: Kind::MachineBool, values: vec![less] },
        ];
        let s = b.snapshot(ExitKind::Raise, 12, 1, "conformance", entries);
        b.exit(s);
    });
    let code = compile(backend, &f);
    for args in [[1u64, 2, 3, 4], [u64::MAX, 0, 1 << 63, 9]] {
        let (outcome, exit_buffer) = run(&code, &args);
        assert_eq!(outcome, Outcome { exit: 2, value: 0 });
        let less = ((args[0] as i64) < (args[1] as i64)) as u64;
        let xf = (args[1] as i64 as f64).to_bits();
        assert_eq!(exit_buffer, [args[0], xf, args[2], args[3], args[0], less]);
    }
}

pub fn exit_numbers(backend: &dyn Backend) {
    // Guard i leaves through snapshot i, saving [100 + i, selector], when selector == i; a last
    // guard reuses snapshot 0.
    let code = word_fn(backend, "exit_numbers", 1, |b, p| {
        let mut first = None;
        for i in 0..3 {
            let tag = b.iconst(100 + i);
            let s = save(b, &[tag, p[0]]);
            first.get_or_insert(s);
            let k = b.iconst(i);
            let differs = b.icmp(Cond::Ne, p[0], k);
            b.guard(differs, true, s);
        }
        let four = b.iconst(4);
        let is_four = b.icmp(Cond::Eq, p[0], four);
        b.guard(is_four, false, first.expect("a snapshot"));
        p[0]
    });
    for selector in 0..6u64 {
        let (outcome, exit_buffer) = run(&code, &[selector]);
        let want = match selector {
            0..=2 => Some((selector + 1, [100 + selector, selector])),
            4 => Some((1, [100, 4])),
            _ => None,
        };
        match want {
            Some((exit, saved)) => {
                assert_eq!(outcome, Outcome { exit, value: 0 }, "selector {selector}");
                assert_eq!(exit_buffer, saved, "selector {selector}");
            }
            None => assert_eq!(outcome, Outcome { exit: 0, value: selector }),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Control flow
// ---------------------------------------------------------------------------------------------

pub fn returns(backend: &dyn Backend) {
    let code = word_fn(backend, "identity", 1, |_, p| p[0]);
    for v in [0, 1, u64::MAX, 1 << 63, 0x8000_0000] {
        assert_eq!(run(&code, &[v]).0, Outcome { exit: 0, value: v });
    }
}

pub fn branches(backend: &dyn Backend) {
    // To two blocks with a parameter each: c ? x + 1 : y - 1.
    let two_targets = function("branch", 3, |b| {
        let [c, x, y] = [0, 1, 2].map(|i| b.param(i));
        let then = b.create_block(&[I64]);
        let otherwise = b.create_block(&[I64]);
        b.branch(c, then, &[x], otherwise, &[y]);
        for (block, op) in [(then, IntOp::Add), (otherwise, IntOp::Sub)] {
            b.switch_to(block);
            let [v] = block_params(b, block);
            let one = b.iconst(1);
            let r = b.int(op, v, one);
            b.ret(r);
        }
    });
    // Both edges to one block, arguments crossed: c ? x - y : y - x.
    let one_target = function("branch_crossed", 3, |b| {
        let [c, x, y] = [0, 1, 2].map(|i| b.param(i));
        let join = b.create_block(&[I64, I64]);
        b.branch(c, join, &[x, y], join, &[y, x]);
        b.switch_to(join);
        let [p, q] = block_params(b, join);
        let r = b.int(IntOp::Sub, p, q);
        b.ret(r);
    });
    let (two_targets, one_target) = (compile(backend, &two_targets), compile(backend, &one_target));
    let (x, y) = (10i64, 25i64);
    for c in [0, 1, 2, -1, i64::MIN] {
        let args = [c as u64, x as u64, y as u64];
        let taken = c != 0;
        assert_eq!(returned(&two_targets, &args) as i64, if taken { x + 1 } else { y - 1 }, "branch on {c}");
        assert_eq!(returned(&one_target, &args) as i64, if taken { x - y } else { y - x }, "branch on {c}");
    }
}

pub fn loop_sum(backend: &dyn Backend) {
    // i = 1, acc = 0; while i <= n { acc += i; i += 1 }; return acc
    let f = function("sum_to_n", 1, |b| {
        let n = b.param(0);
        let (one, zero) = (b.iconst(1), b.iconst(0));
        let head = b.create_block(&[I64, I64]);
        let body = b.create_block(&[]);
        let done = b.create_block(&[]);
        b.jump(head, &[one, zero]);
        b.switch_to(head);
        let [i, acc] = block_params(b, head);
        let more = b.icmp(Cond::Le, i, n);
        b.branch(more, body, &[], done, &[]);
        b.switch_to(body);
        let acc2 = b.int(IntOp::Add, acc, i);
        let i2 = b.int(IntOp::Add, i, one);
        b.jump(head, &[i2, acc2]);
        b.switch_to(done);
        b.ret(acc);
    });
    let code = compile(backend, &f);
    for n in [-5i64, 0, 1, 2, 10, 1000, 100_000] {
        let want = if n > 0 { n * (n + 1) / 2 } else { 0 };
        assert_eq!(returned(&code, &[n as u64]) as i64, want, "sum to {n}");
    }
}

pub fn loop_fib(backend: &dyn Backend) {
    // (a, b, k) = (0, 1, n); while k != 0 { (a, b, k) = (b, a + b, k - 1) }; return a
    let f = function("fib", 1, |b| {
        let n = b.param(0);
        let (zero, one) = (b.iconst(0), b.iconst(1));
        let head = b.create_block(&[I64, I64, I64]);
        let done = b.create_block(&[I64]);
        b.jump(head, &[zero, one, n]);
        b.switch_to(head);
        let [x, y, k] = block_params(b, head);
        let finished = b.icmp(Cond::Eq, k, zero);
        let sum = b.int(IntOp::Add, x, y);
        let k1 = b.int(IntOp::Sub, k, one);
        b.branch(finished, done, &[x], head, &[y, sum, k1]);
        b.switch_to(done);
        let [r] = block_params(b, done);
        b.ret(r);
    });
    let code = compile(backend, &f);
    for n in [0u64, 1, 2, 3, 10, 50, 92] {
        let (mut x, mut y) = (0u64, 1u64);
        for _ in 0..n {
            (x, y) = (y, x.wrapping_add(y));
        }
        assert_eq!(returned(&code, &[n]), x, "fib({n})");
    }
}

pub fn parallel_copies(backend: &dyn Backend) {
    // head(v.., n) jumps to head(v[perm[0]], v[perm[1]], .., n - 1) n times, then returns the
    // v as base-16 digits: the block arguments are one parallel copy (swaps, cycles,
    // duplications; wide ones too).
    let rotate12: Vec<usize> = (1..12).chain([0]).collect();
    let reverse12: Vec<usize> = (0..12).rev().collect();
    let permutations: [&[usize]; 8] =
        [&[0, 1, 2], &[1, 0, 2], &[1, 2, 0], &[2, 0, 1], &[1, 1, 0], &[0, 0, 0], &rotate12, &reverse12];
    for perm in permutations {
        let width = perm.len();
        let f = function("permute", width as u32 + 1, |b| {
            let params: Vec<Value> = (0..=width as u32).map(|i| b.param(i)).collect();
            let head = b.create_block(&vec![I64; width + 1]);
            let done = b.create_block(&[]);
            b.jump(head, &params);
            b.switch_to(head);
            let (v, k) = {
                let p = b.block_params(head);
                (p[..width].to_vec(), p[width])
            };
            let (zero, one, sixteen) = (b.iconst(0), b.iconst(1), b.iconst(16));
            let finished = b.icmp(Cond::Eq, k, zero);
            let k1 = b.int(IntOp::Sub, k, one);
            let args: Vec<Value> = perm.iter().map(|&i| v[i]).chain([k1]).collect();
            b.branch(finished, done, &[], head, &args);
            b.switch_to(done);
            let digits = v.iter().skip(1).fold(v[0], |acc, &d| {
                let shifted = b.int(IntOp::Mul, acc, sixteen);
                b.int(IntOp::Add, shifted, d)
            });
            b.ret(digits);
        });
        let code = compile(backend, &f);
        for n in 0..14u64 {
            let start: Vec<u64> = (1..=width as u64).collect();
            let mut v = start.clone();
            for _ in 0..n {
                v = perm.iter().map(|&i| v[i]).collect();
            }
            let want = v.iter().fold(0, |acc, &d| acc * 16 + d);
            let args: Vec<u64> = start.into_iter().chain([n]).collect();
            assert_eq!(returned(&code, &args), want, "permutation {perm:?} {n} times");
        }
    }
}

/// `acc = x; for i in 0..limit { acc = acc * 3 }` with a checked multiply: returns `acc`, or
/// leaves through snapshot 0 with `[acc, i]` when it overflows.
fn triple_loop(backend: &dyn Backend) -> CompiledCode {
    let f = function("triple_loop", 2, |b| {
        let (x, limit) = (b.param(0), b.param(1));
        let (zero, one, three) = (b.iconst(0), b.iconst(1), b.iconst(3));
        let head = b.create_block(&[I64, I64]);
        let body = b.create_block(&[]);
        let done = b.create_block(&[]);
        b.jump(head, &[x, zero]);
        b.switch_to(head);
        let [acc, i] = block_params(b, head);
        let more = b.icmp(Cond::Lt, i, limit);
        b.branch(more, body, &[], done, &[]);
        b.switch_to(body);
        let s = save(b, &[acc, i]);
        let acc2 = b.checked(CheckedOp::Mul, acc, three, s);
        let i2 = b.int(IntOp::Add, i, one);
        b.jump(head, &[acc2, i2]);
        b.switch_to(done);
        b.ret(acc);
    });
    compile(backend, &f)
}

/// What [`triple_loop`] must do: `Ok(result)` or `Err(saved values)`.
fn triple_loop_reference(x: i64, limit: i64) -> Result<u64, Vec<u64>> {
    let mut acc = x;
    for i in 0..limit {
        acc = acc.checked_mul(3).ok_or_else(|| vec![acc as u64, i as u64])?;
    }
    Ok(acc as u64)
}

fn check_triple_loop(code: &CompiledCode, x: i64, limit: i64) {
    let (outcome, exit_buffer) = run(code, &[x as u64, limit as u64]);
    match triple_loop_reference(x, limit) {
        Ok(value) => assert_eq!(outcome, Outcome { exit: 0, value }, "triple_loop({x}, {limit})"),
        Err(saved) => {
            assert_eq!(outcome, Outcome { exit: 1, value: 0 }, "triple_loop({x}, {limit})");
            assert_eq!(exit_buffer, saved, "triple_loop({x}, {limit})");
        }
    }
}

pub fn loop_exit(backend: &dyn Backend) {
    let code = triple_loop(backend);
    for (x, limit) in [(1, 0), (1, 10), (1, 39), (1, 40), (1, 100), (-1, 100), (0, 1000), (i64::MAX, 1)] {
        check_triple_loop(&code, x, limit);
    }
}

pub fn large_frame(backend: &dyn Backend) {
    // 300 words w_i = x * i + y and 40 doubles, all live until a guard that can save them all.
    const WORDS: usize = 300;
    const DOUBLES: usize = 40;
    const LEAVE: i64 = -1;
    let f = function("large_frame", 2, |b| {
        let (x, y) = (b.param(0), b.param(1));
        let words: Vec<Value> = (0..WORDS)
            .map(|i| {
                let k = b.iconst(i as i64);
                let m = b.int(IntOp::Mul, x, k);
                b.int(IntOp::Add, m, y)
            })
            .collect();
        let doubles: Vec<Value> = words[..DOUBLES].iter().map(|&w| b.int_to_float(w)).collect();
        let all: Vec<Value> = words.iter().chain(&doubles).copied().collect();
        let s = save(b, &all);
        let leave = b.iconst(LEAVE);
        let leaving = b.icmp(Cond::Eq, y, leave);
        b.guard(leaving, false, s);
        let sum = words.iter().skip(1).fold(words[0], |acc, &w| b.int(IntOp::Add, acc, w));
        b.ret(sum);
    });
    let code = compile(backend, &f);
    for (x, y) in [(3i64, 4i64), (-7, 1 << 40), (5, LEAVE), (i64::MAX, LEAVE)] {
        let words: Vec<i64> = (0..WORDS as i64).map(|i| x.wrapping_mul(i).wrapping_add(y)).collect();
        let (outcome, exit_buffer) = run(&code, &[x as u64, y as u64]);
        if y == LEAVE {
            let doubles = words[..DOUBLES].iter().map(|&w| (w as f64).to_bits());
            let saved: Vec<u64> = words.iter().map(|&w| w as u64).chain(doubles).collect();
            assert_eq!(outcome, Outcome { exit: 1, value: 0 });
            assert_eq!(exit_buffer, saved, "large_frame({x}, {y})");
        } else {
            let sum = words.iter().fold(0i64, |a, &w| a.wrapping_add(w));
            assert_eq!(outcome, Outcome { exit: 0, value: sum as u64 }, "large_frame({x}, {y})");
        }
    }
}

pub fn repeated_calls(backend: &dyn Backend) {
    // One compiled function run many times, returning and leaving in turn.
    let code = triple_loop(backend);
    for n in 0..10_000i64 {
        check_triple_loop(&code, n % 100 - 50, n % 64);
    }
    // Many functions compiled and dropped while the first stays usable.
    for k in 0..200 {
        let other = word_fn(backend, "add_k", 1, |b, p| {
            let c = b.iconst(k);
            b.int(IntOp::Add, p[0], c)
        });
        assert_eq!(returned(&other, &[1]), (k + 1) as u64);
        check_triple_loop(&code, k, 50);
    }
}

// ---------------------------------------------------------------------------------------------
// Many live values: loops, calls and exits under register pressure
// ---------------------------------------------------------------------------------------------

/// `n` rounds of a loop that carries `W` words and `D` doubles, each updated from its
/// neighbours: more values than registers, so some live in registers and some on the stack.
/// Returns a checksum of the words; the doubles end up in memory at `args[1]`.
pub fn register_pressure(backend: &dyn Backend) {
    const W: usize = 24;
    const D: usize = 18;
    let f = function("pressure", 3, |b| {
        let (n, seed, out) = (b.param(0), b.param(1), b.param(2));
        let words: Vec<Value> = (0..W)
            .map(|k| {
                let (m, c) = (b.iconst(k as i64 + 1), b.iconst(k as i64));
                let x = b.int(IntOp::Mul, seed, m);
                b.int(IntOp::Add, x, c)
            })
            .collect();
        let half = b.fconst(0.5);
        let three = b.iconst(3);
        let doubles: Vec<Value> = words[..D]
            .iter()
            .map(|&w| {
                let x = b.int_to_float(w);
                b.float(FloatOp::Mul, x, half)
            })
            .collect();
        let types: Vec<Type> = [I64].into_iter().chain([I64; W]).chain([F64; D]).collect();
        let head = b.create_block(&types);
        let body = b.create_block(&[]);
        let done = b.create_block(&[]);
        let start: Vec<Value> = [n].into_iter().chain(words).chain(doubles).collect();
        b.jump(head, &start);
        b.switch_to(head);
        let params = b.block_params(head).to_vec();
        let (i, w, d) = (params[0], params[1..=W].to_vec(), params[W + 1..].to_vec());
        let zero = b.iconst(0);
        let more = b.icmp(Cond::Gt, i, zero);
        b.branch(more, body, &[], done, &[]);
        b.switch_to(body);
        let quarter = b.fconst(0.25);
        let w2: Vec<Value> = (0..W)
            .map(|k| {
                let t = b.int(IntOp::Mul, w[(k + 1) % W], three);
                b.int(IntOp::Add, w[k], t)
            })
            .collect();
        let d2: Vec<Value> = (0..D)
            .map(|k| {
                let t = b.float(FloatOp::Mul, d[k], quarter);
                b.float(FloatOp::Add, t, d[(k + 3) % D])
            })
            .collect();
        let one = b.iconst(1);
        let i2 = b.int(IntOp::Sub, i, one);
        let next: Vec<Value> = [i2].into_iter().chain(w2).chain(d2).collect();
        b.jump(head, &next);
        b.switch_to(done);
        for (k, &x) in d.iter().enumerate() {
            b.store(Mem::F64, out, 8 * k as i32, x);
        }
        let sum = w[1..].iter().fold(w[0], |acc, &x| {
            let t = b.int(IntOp::Mul, acc, three);
            b.int(IntOp::Xor, t, x)
        });
        b.ret(sum);
    });
    let code = compile(backend, &f);
    for (n, seed) in [(0i64, 1i64), (1, 7), (5, -3), (40, 0x1234_5678_9abc)] {
        let mut w: Vec<i64> = (0..W as i64).map(|k| seed.wrapping_mul(k + 1).wrapping_add(k)).collect();
        let mut d: Vec<f64> = w[..D].iter().map(|&x| x as f64 * 0.5).collect();
        for _ in 0..n {
            w = (0..W).map(|k| w[k].wrapping_add(w[(k + 1) % W].wrapping_mul(3))).collect();
            d = (0..D).map(|k| d[k] * 0.25 + d[(k + 3) % D]).collect();
        }
        let sum = w[1..].iter().fold(w[0], |acc, &x| acc.wrapping_mul(3) ^ x);
        let mut out = vec![POISON; D];
        let got = returned(&code, &[n as u64, seed as u64, out.as_mut_ptr() as u64]);
        assert_eq!(got as i64, sum, "pressure({n}, {seed})");
        assert_eq!(out, float_bits(&d), "pressure({n}, {seed}) doubles");
    }
}

/// A loop whose body calls helpers that clobber every caller-saved register, with more words
/// live across the calls than there are callee-saved registers, doubles live across them,
/// and arguments that sit in each other's argument registers.
pub fn calls_in_loops(backend: &dyn Backend) {
    const E: usize = 8;
    let f = function("calls_in_loops", 3, |b| {
        let (n, x0, out) = (b.param(0), b.param(1), b.param(2));
        let seven = b.iconst(7);
        let kept = b.int(IntOp::Mul, x0, seven);
        let extra: Vec<Value> = (0..E as i64)
            .map(|k| {
                let c = b.iconst(k * 1000);
                b.int(IntOp::Add, x0, c)
            })
            .collect();
        let y0 = b.int_to_float(x0);
        let z0 = b.fconst(-1.5);
        let zero = b.iconst(0);
        let types: Vec<Type> = [I64, I64, I64, F64, F64].into_iter().chain([I64; E]).collect();
        let head = b.create_block(&types);
        let body = b.create_block(&[]);
        let done = b.create_block(&[]);
        let start: Vec<Value> = [n, zero, x0, y0, z0].into_iter().chain(extra).collect();
        b.jump(head, &start);
        b.switch_to(head);
        let p = b.block_params(head).to_vec();
        let (i, acc, x, y, z, e) = (p[0], p[1], p[2], p[3], p[4], p[5..].to_vec());
        let more = b.icmp(Cond::Gt, i, zero);
        b.branch(more, body, &[], done, &[]);
        b.switch_to(body);
        // The arguments in a rotated order: each wants the register another one is in.
        let u = b.call(helper!(words3), &[x, acc, i], Some(I64));
        let u2 = b.call(helper!(words3), &[i, x, acc], Some(I64));
        b.call(helper!(clobber_caller_saved), &[], None);
        let v = b.call(helper!(mix2), &[z, y], Some(F64));
        let w = b.call(helper!(pick), &[z, x, y, i], Some(I64));
        let t = b.int(IntOp::Xor, u, w);
        let t = b.int(IntOp::Add, t, u2);
        let acc2 = b.int(IntOp::Add, acc, t);
        let five = b.iconst(5);
        let x5 = b.int(IntOp::Mul, x, five);
        let x2 = b.int(IntOp::Add, x5, i);
        let quarter = b.fconst(0.25);
        let y2 = b.float(FloatOp::Mul, v, quarter);
        let one_f = b.fconst(1.0);
        let z2 = b.float(FloatOp::Add, z, one_f);
        let e2: Vec<Value> = e.iter().map(|&ek| b.int(IntOp::Add, ek, i)).collect();
        let one = b.iconst(1);
        let i2 = b.int(IntOp::Sub, i, one);
        let next: Vec<Value> = [i2, acc2, x2, y2, z2].into_iter().chain(e2).collect();
        b.jump(head, &next);
        b.switch_to(done);
        b.store(Mem::F64, out, 0, y);
        b.store(Mem::F64, out, 8, z);
        let r = e.iter().fold(acc, |r, &ek| {
            let t = b.int(IntOp::Mul, r, seven);
            b.int(IntOp::Add, t, ek)
        });
        let r = b.int(IntOp::Xor, r, kept);
        let r = b.int(IntOp::Add, r, x);
        b.ret(r);
    });
    let code = compile(backend, &f);
    for (n, x0) in [(0u64, 3u64), (1, 5), (6, u64::MAX - 2), (25, 1 << 40)] {
        let (mut i, mut acc, mut x) = (n, 0u64, x0);
        let (mut y, mut z) = (x0 as i64 as f64, -1.5f64);
        let mut e: Vec<u64> = (0..E as u64).map(|k| x0.wrapping_add(k * 1000)).collect();
        while i as i64 > 0 {
            let (u, u2) = (words3(x, acc, i), words3(i, x, acc));
            let (v, w) = (mix2(z, y), pick(z, x, y, i));
            acc = acc.wrapping_add((u ^ w).wrapping_add(u2));
            x = x.wrapping_mul(5).wrapping_add(i);
            (y, z) = (v * 0.25, z + 1.0);
            e.iter_mut().for_each(|ek| *ek = ek.wrapping_add(i));
            i -= 1;
        }
        let r = e.iter().fold(acc, |r, &ek| r.wrapping_mul(7).wrapping_add(ek));
        let want = (r ^ x0.wrapping_mul(7)).wrapping_add(x);
        let mut out = [POISON; 2];
        assert_eq!(returned(&code, &[n, x0, out.as_mut_ptr() as u64]), want, "calls_in_loops({n}, {x0})");
        assert_eq!(out, [y.to_bits(), z.to_bits()], "calls_in_loops({n}, {x0}) doubles");
    }
}

/// Exits from inside a loop under register pressure: a checked multiply and a guard whose
/// snapshots carry loop words, doubles (from registers and from the stack) and constants, in
/// different orders.
pub fn guards_in_loops(backend: &dyn Backend) {
    const W: usize = 14;
    const D: usize = 16;
    let f = function("guards_in_loops", 3, |b| {
        let (n, stop, x0) = (b.param(0), b.param(1), b.param(2));
        let words: Vec<Value> = (0..W as i64)
            .map(|k| {
                let c = b.iconst(k);
                b.int(IntOp::Add, x0, c)
            })
            .collect();
        let doubles: Vec<Value> =
            words[..D.min(W)].iter().chain(&words[..D - D.min(W)]).map(|&w| b.int_to_float(w)).collect();
        let (zero, one) = (b.iconst(0), b.iconst(1));
        let types: Vec<Type> = [I64, I64].into_iter().chain([I64; W]).chain([F64; D]).collect();
        let head = b.create_block(&types);
        let body = b.create_block(&[]);
        let done = b.create_block(&[]);
        let start: Vec<Value> = [zero, one].into_iter().chain(words).chain(doubles).collect();
        b.jump(head, &start);
        b.switch_to(head);
        let p = b.block_params(head).to_vec();
        let (i, acc, w, d) = (p[0], p[1], p[2..2 + W].to_vec(), p[2 + W..].to_vec());
        let more = b.icmp(Cond::Lt, i, n);
        b.branch(more, body, &[], done, &[]);
        b.switch_to(body);
        let big = b.iconst(1 << 40);
        let overflow_saves: Vec<Value> = [i, acc].iter().chain(&w).chain(&d).copied().chain([big]).collect();
        let overflow = save(b, &overflow_saves);
        let three = b.iconst(3);
        let acc2 = b.checked(CheckedOp::Mul, acc, three, overflow);
        let stop_saves: Vec<Value> = d.iter().rev().chain(w.iter().rev()).copied().chain([acc2, i]).collect();
        let stopped = save(b, &stop_saves);
        let at_stop = b.icmp(Cond::Eq, i, stop);
        b.guard(at_stop, false, stopped);
        let w2: Vec<Value> = (0..W).map(|k| b.int(IntOp::Add, w[k], w[(k + 5) % W])).collect();
        let d2: Vec<Value> = (0..D).map(|k| b.float(FloatOp::Sub, d[k], d[(k + 1) % D])).collect();
        let i2 = b.int(IntOp::Add, i, one);
        let next: Vec<Value> = [i2, acc2].into_iter().chain(w2).chain(d2).collect();
        b.jump(head, &next);
        b.switch_to(done);
        b.ret(acc);
    });
    let code = compile(backend, &f);
    // acc = 3^i overflows at i = 39 (3^40 > 2^63).
    for (n, stop, x0) in [(10i64, -1i64, 5i64), (10, 0, 5), (10, 7, -9), (60, -1, 1), (60, 38, 2), (60, 39, 3)] {
        let mut w: Vec<i64> = (0..W as i64).map(|k| x0 + k).collect();
        let mut d: Vec<f64> = (0..D).map(|k| w[k % W] as f64).collect();
        let mut acc = 1i64;
        let mut want: Option<(u64, Vec<u64>)> = None;
        for i in 0..n {
            let Some(acc2) = acc.checked_mul(3) else {
                let saved = [i, acc]
                    .into_iter()
                    .chain(w.iter().copied())
                    .map(|x| x as u64)
                    .chain(float_bits(&d))
                    .chain([1 << 40]);
                want = Some((1, saved.collect()));
                break;
            };
            if i == stop {
                let saved = float_bits(&d).into_iter().rev().chain(w.iter().rev().map(|&x| x as u64));
                want = Some((2, saved.chain([acc2 as u64, i as u64]).collect()));
                break;
            }
            acc = acc2;
            w = (0..W).map(|k| w[k].wrapping_add(w[(k + 5) % W])).collect();
            d = (0..D).map(|k| d[k] - d[(k + 1) % D]).collect();
        }
        let (outcome, exit_buffer) = run(&code, &[n as u64, stop as u64, x0 as u64]);
        match want {
            None => assert_eq!(outcome, Outcome { exit: 0, value: acc as u64 }, "guards_in_loops({n}, {stop}, {x0})"),
            Some((exit, saved)) => {
                assert_eq!(outcome, Outcome { exit, value: 0 }, "guards_in_loops({n}, {stop}, {x0})");
                assert_eq!(exit_buffer[..saved.len()], saved, "guards_in_loops({n}, {stop}, {x0}) saved");
            }
        }
    }
}

/// Like [`parallel_copies`], with words and doubles mixed, wider than the registers, and a
/// constant and a loop-invariant value among the arguments.
pub fn mixed_parallel_copies(backend: &dyn Backend) {
    const WIDTH: usize = 32;
    // Words at even positions, doubles at odd ones; every permutation maps a type to itself.
    let types: Vec<Type> = (0..WIDTH).map(|k| if k % 2 == 0 { I64 } else { F64 }).collect();
    let rotate: Vec<usize> = (0..WIDTH).map(|k| (k + 2) % WIDTH).collect();
    let reverse: Vec<usize> = (0..WIDTH).map(|k| if k % 2 == 0 { WIDTH - 2 - k } else { WIDTH - k }).collect();
    let swaps: Vec<usize> = (0..WIDTH).map(|k| if k % 4 < 2 { k + 2 } else { k - 2 }).collect();
    let spread: Vec<usize> = (0..WIDTH).map(|k| (k * 7) % WIDTH).collect();
    let fan: Vec<usize> = (0..WIDTH).map(|k| k % 4).collect();
    for perm in [&rotate, &reverse, &swaps, &spread, &fan] {
        assert!(perm.iter().enumerate().all(|(k, &p)| types[k] == types[p]), "{perm:?} mixes types");
        let f = function("permute_mixed", 3, |b| {
            let (n, x, out) = (b.param(0), b.param(1), b.param(2));
            let start: Vec<Value> = (0..WIDTH as i64)
                .map(|k| {
                    let c = b.iconst(k + 1);
                    let w = b.int(IntOp::Add, x, c);
                    if k % 2 == 0 {
                        w
                    } else {
                        b.int_to_float(w)
                    }
                })
                .collect();
            let all_types: Vec<Type> = types.iter().copied().chain([I64, I64]).collect();
            let head = b.create_block(&all_types);
            let done = b.create_block(&[]);
            let seed = b.iconst(-77);
            let args: Vec<Value> = start.into_iter().chain([n, seed]).collect();
            b.jump(head, &args);
            b.switch_to(head);
            let p = b.block_params(head).to_vec();
            let (v, k, last) = (p[..WIDTH].to_vec(), p[WIDTH], p[WIDTH + 1]);
            let (zero, one) = (b.iconst(0), b.iconst(1));
            let finished = b.icmp(Cond::Eq, k, zero);
            let k1 = b.int(IntOp::Sub, k, one);
            // The last word takes turns between a constant and a value from before the loop.
            let two = b.iconst(2);
            let bit = b.int(IntOp::And, k, two);
            let minus_one = b.iconst(-1);
            let next_last = b.select(bit, minus_one, x);
            let args: Vec<Value> = perm.iter().map(|&i| v[i]).chain([k1, next_last]).collect();
            b.branch(finished, done, &[], head, &args);
            b.switch_to(done);
            for (i, &val) in v.iter().enumerate() {
                let mem = word_mem(types[i]);
                b.store(mem, out, 8 * i as i32, val);
            }
            b.ret(last);
        });
        let code = compile(backend, &f);
        for n in [0u64, 1, 2, 7, 16] {
            let x = 1000u64;
            let mut v: Vec<u64> = (0..WIDTH as u64)
                .map(|k| if k % 2 == 0 { x + k + 1 } else { ((x + k + 1) as f64).to_bits() })
                .collect();
            let mut last = -77i64 as u64;
            for k in (1..=n).rev() {
                v = perm.iter().map(|&i| v[i]).collect();
                last = if k & 2 != 0 { u64::MAX } else { x };
            }
            let mut out = vec![POISON; WIDTH];
            assert_eq!(returned(&code, &[n, x, out.as_mut_ptr() as u64]), last, "{perm:?} {n} times");
            assert_eq!(out, v, "{perm:?} {n} times");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Random programs against a reference interpreter
// ---------------------------------------------------------------------------------------------

/// A xorshift generator: random programs that are the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())]
    }
}

/// The word a double stands for in results: its bits, with every NaN the same (the IR leaves
/// a computed NaN's sign and payload open).
fn canonical_bits(x: f64) -> u64 {
    if x.is_nan() {
        f64::NAN.to_bits()
    } else {
        x.to_bits()
    }
}

extern "sysv64" fn double_bits(x: f64) -> u64 {
    canonical_bits(x)
}

/// Builds one random function of 3 word parameters: an entry block, a loop (a head whose
/// parameters carry words and doubles, a body with a diamond, a latch that counts down) and
/// an exit block that folds what it is passed into the returned word. Operations of every
/// kind, calls, and guards and checked operations with random snapshots are spread over it;
/// many of them leave for some inputs.
fn random_program(rng: &mut Rng) -> Function {
    let mut b = Builder::new("random", 3);
    let entry = b.create_block(&[]);
    b.switch_to(entry);
    let params: Vec<Value> = (0..3).map(|i| b.param(i)).collect();
    let mut global = params.clone();
    let fifteen = b.iconst(15);
    let count = b.int(IntOp::And, params[0], fifteen);
    let half = b.fconst(0.5);
    global.extend([count, half]);
    random_ops(&mut b, rng, &mut global, 4..5);

    let carried_words = 1 + rng.below(16);
    let carried_doubles = rng.below(14);
    let types: Vec<Type> =
        [I64].into_iter().chain(vec![I64; carried_words]).chain(vec![F64; carried_doubles]).collect();
    let head = b.create_block(&types);
    let body = b.create_block(&[]);
    let join_types: Vec<Type> = (0..1 + rng.below(6)).map(|_| if rng.chance(60) { I64 } else { F64 }).collect();
    let (yes, no, join) = (b.create_block(&[]), b.create_block(&[]), b.create_block(&join_types));
    let exit_types: Vec<Type> = (0..1 + rng.below(8)).map(|_| if rng.chance(60) { I64 } else { F64 }).collect();
    let exit = b.create_block(&exit_types);

    let start: Vec<Value> =
        [count].into_iter().chain(types[1..].iter().map(|&ty| pick_typed(&b, rng, &global, ty))).collect();
    b.jump(head, &start);

    b.switch_to(head);
    let head_params = b.block_params(head).to_vec();
    let mut pool: Vec<Value> = global.iter().chain(&head_params).copied().collect();
    random_ops(&mut b, rng, &mut pool, 1..6);
    let zero = b.iconst(0);
    let more = b.icmp(Cond::Gt, head_params[0], zero);
    let exit_args: Vec<Value> = exit_types.iter().map(|&ty| pick_typed(&b, rng, &pool, ty)).collect();
    b.branch(more, body, &[], exit, &exit_args);

    b.switch_to(body);
    random_ops(&mut b, rng, &mut pool, 2..10);
    let c = random_condition(&mut b, rng, &pool);
    b.branch(c, yes, &[], no, &[]);
    for arm in [yes, no] {
        b.switch_to(arm);
        let mut arm_pool = pool.clone();
        random_ops(&mut b, rng, &mut arm_pool, 0..6);
        let args: Vec<Value> = join_types.iter().map(|&ty| pick_typed(&b, rng, &arm_pool, ty)).collect();
        b.jump(join, &args);
    }

    b.switch_to(join);
    pool.extend(b.block_params(join).to_vec());
    random_ops(&mut b, rng, &mut pool, 0..8);
    let one = b.iconst(1);
    let counter = b.int(IntOp::Sub, head_params[0], one);
    let next: Vec<Value> =
        [counter].into_iter().chain(types[1..].iter().map(|&ty| pick_typed(&b, rng, &pool, ty))).collect();
    b.jump(head, &next);

    b.switch_to(exit);
    let mut pool: Vec<Value> = global.iter().copied().chain(b.block_params(exit).to_vec()).collect();
    random_ops(&mut b, rng, &mut pool, 0..6);
    let seven = b.iconst(7);
    let folded = pool.iter().copied().fold(seven, |acc, v| {
        let word = match b.value_type(v) {
            Some(F64) => b.call(helper!(double_bits), &[v], Some(I64)),
            _ => v,
        };
        let t = b.int(IntOp::Mul, acc, seven);
        b.int(IntOp::Xor, t, word)
    });
    b.ret(folded);
    b.finish()
}

/// A value of type `ty` from `pool` (which always holds both types).
fn pick_typed(b: &Builder, rng: &mut Rng, pool: &[Value], ty: Type) -> Value {
    let typed: Vec<Value> = pool.iter().copied().filter(|&v| b.value_type(v) == Some(ty)).collect();
    rng.pick(&typed)
}

/// A snapshot saving a random selection of `pool`.
fn random_snapshot(b: &mut Builder, rng: &mut Rng, pool: &[Value]) -> SnapshotId {
    let values: Vec<Value> = (0..rng.below(12)).map(|_| rng.pick(pool)).collect();
    save(b, &values)
}

/// A random word that is 0 or not: a compare (fusable with its consumer) or any word.
fn random_condition(b: &mut Builder, rng: &mut Rng, pool: &[Value]) -> Value {
    match rng.below(4) {
        0 => pick_typed(b, rng, pool, I64),
        1 => {
            let (x, y) = (pick_typed(b, rng, pool, F64), pick_typed(b, rng, pool, F64));
            b.fcmp(rng.pick(&FLOAT_CONDS), x, y)
        }
        _ => {
            let x = pick_typed(b, rng, pool, I64);
            let y = if rng.chance(50) { b.iconst(rng.below(8) as i64 - 2) } else { pick_typed(b, rng, pool, I64) };
            let c = b.icmp(rng.pick(&INT_CONDS), x, y);
            if rng.chance(20) {
                let zero = b.iconst(0);
                b.icmp(rng.pick(&[Cond::Eq, Cond::Ne]), c, zero)
            } else {
                c
            }
        }
    }
}

/// Appends a number in `count` of random instructions that read `pool` to the current
/// block, and their results to `pool`.
fn random_ops(b: &mut Builder, rng: &mut Rng, pool: &mut Vec<Value>, count: std::ops::Range<usize>) {
    for _ in 0..count.start + rng.below(count.len()) {
        let word = |b: &Builder, rng: &mut Rng, pool: &[Value]| pick_typed(b, rng, pool, I64);
        let double = |b: &Builder, rng: &mut Rng, pool: &[Value]| pick_typed(b, rng, pool, F64);
        let v = match rng.below(20) {
            0 => b.iconst(rng.pick(&INTS)),
            1 => b.fconst(rng.pick(&[0.0, -0.0, 1.5, -2.25, 1e300, 0.1])),
            2..=5 => {
                let (x, y) = (word(b, rng, pool), word(b, rng, pool));
                b.int(rng.pick(&INT_OPS), x, y)
            }
            6 | 7 => {
                let x = word(b, rng, pool);
                let y = if rng.chance(40) {
                    b.iconst(rng.pick(&[2, 3, 7, 10, -3, 0, 1, 1 << 33]))
                } else {
                    word(b, rng, pool)
                };
                let s = random_snapshot(b, rng, pool);
                b.checked(rng.pick(&CHECKED_OPS), x, y, s)
            }
            8 => {
                let x = word(b, rng, pool);
                let s = random_snapshot(b, rng, pool);
                b.neg_checked(x, s)
            }
            9 | 10 => {
                let (x, y) = (double(b, rng, pool), double(b, rng, pool));
                b.float(rng.pick(&FLOAT_OPS), x, y)
            }
            11 => {
                let x = double(b, rng, pool);
                b.fneg(x)
            }
            12 => {
                let x = word(b, rng, pool);
                b.int_to_float(x)
            }
            13 => random_condition(b, rng, pool),
            14 => {
                let c = random_condition(b, rng, pool);
                let ty = if rng.chance(50) { I64 } else { F64 };
                let (x, y) = (pick_typed(b, rng, pool, ty), pick_typed(b, rng, pool, ty));
                b.select(c, x, y)
            }
            15 => {
                let c = random_condition(b, rng, pool);
                let s = random_snapshot(b, rng, pool);
                b.guard(c, rng.chance(50), s);
                continue;
            }
            16 => {
                let args = [word(b, rng, pool), word(b, rng, pool), word(b, rng, pool)];
                b.call(helper!(words3), &args, Some(I64))
            }
            17 => {
                let args = [double(b, rng, pool), double(b, rng, pool)];
                b.call(helper!(mix2), &args, Some(F64))
            }
            18 => {
                let args = [double(b, rng, pool), word(b, rng, pool), double(b, rng, pool), word(b, rng, pool)];
                b.call(helper!(pick), &args, Some(I64))
            }
            _ => {
                b.call(helper!(clobber_caller_saved), &[], None);
                continue;
            }
        };
        pool.push(v);
    }
}

/// Runs `f` as the IR specifies: the outcome and the words an exit saves (doubles as
/// [`canonical_bits`]). Knows the helpers [`random_program`] calls.
fn interpret(f: &Function, args: &[u64]) -> (Outcome, Vec<u64>) {
    use ir::{Op, Terminator};
    let mut values = vec![0u64; f.insts.len()];
    let float = |bits: u64| f64::from_bits(bits);
    let leave = |values: &[u64], s: SnapshotId| {
        let saved = f.snapshot(s).exit_values().map(|v| match f.value_type(v) {
            Some(F64) => canonical_bits(float(values[v.0 as usize])),
            _ => values[v.0 as usize],
        });
        (Outcome { exit: s.0 as u64 + 1, value: 0 }, saved.collect())
    };
    let mut block = Block(0);
    for _ in 0..10_000 {
        let data = f.block(block);
        for &v in &data.insts {
            let get = |x: Value| values[x.0 as usize];
            let result = match f.inst(v).op {
                Op::Param(i) => args[i as usize],
                Op::IConst(c) => c as u64,
                Op::FConst(c) => c.to_bits(),
                Op::Int(op, x, y) => int_op_reference(op, get(x) as i64, get(y) as i64) as u64,
                Op::Checked(op, x, y, s) => match checked_reference(op, get(x) as i64, get(y) as i64) {
                    Some(r) => r as u64,
                    None => return leave(&values, s),
                },
                Op::NegChecked(x, s) => match (get(x) as i64).checked_neg() {
                    Some(r) => r as u64,
                    None => return leave(&values, s),
                },
                Op::Float(op, x, y) => {
                    let (x, y) = (float(get(x)), float(get(y)));
                    let r = match op {
                        FloatOp::Add => x + y,
                        FloatOp::Sub => x - y,
                        FloatOp::Mul => x * y,
                        FloatOp::Div => x / y,
                    };
                    r.to_bits()
                }
                Op::FNeg(x) => get(x) ^ (1 << 63),
                Op::IntToFloat(x) => (get(x) as i64 as f64).to_bits(),
                Op::ICmp(cond, x, y) => icmp_reference(cond, get(x), get(y)) as u64,
                Op::FCmp(cond, x, y) => fcmp_reference(cond, float(get(x)), float(get(y))) as u64,
                Op::Select(c, x, y) => get(if get(c) != 0 { x } else { y }),
                Op::Call { helper, ref args, .. } => {
                    let a: Vec<u64> = args.iter().map(|&x| get(x)).collect();
                    match f.helper(helper).name.as_ref() {
                        "words3" => words3(a[0], a[1], a[2]),
                        "mix2" => mix2(float(a[0]), float(a[1])).to_bits(),
                        "pick" => pick(float(a[0]), a[1], float(a[2]), a[3]),
                        "double_bits" => double_bits(float(a[0])),
                        "clobber_caller_saved" => 0,
                        name => panic!("the interpreter does not know the helper @{name}"),
                    }
                }
                Op::Guard { cond, expect, snapshot } => {
                    if (get(cond) != 0) != expect {
                        return leave(&values, snapshot);
                    }
                    0
                }
                ref op => panic!("the interpreter does not run {op:?}"),
            };
            values[v.0 as usize] = result;
        }
        let call = match &data.term {
            Terminator::Jump(call) => call,
            Terminator::Branch { cond, then, otherwise } => {
                if values[cond.0 as usize] != 0 {
                    then
                } else {
                    otherwise
                }
            }
            Terminator::Return(v) => return (Outcome { exit: 0, value: values[v.0 as usize] }, vec![]),
            Terminator::Exit(s) => return leave(&values, *s),
        };
        let passed: Vec<u64> = call.args.iter().map(|a| values[a.0 as usize]).collect();
        for (&p, x) in f.block(call.block).params.iter().zip(passed) {
            values[p.0 as usize] = x;
        }
        block = call.block;
    }
    panic!("{} does not terminate", f.name)
}

/// Random programs (loops carrying many words and doubles, calls, exits from everywhere)
/// compiled and run on several inputs agree with the reference interpreter.
pub fn random_programs(backend: &dyn Backend) {
    let mut rng = Rng(0x5eed_0fc0_ffee);
    let inputs: [[u64; 3]; 5] = [[0, 1, 2], [3, 7, u64::MAX], [9, 1 << 40, 5], [15, 3, 1 << 63], [6, 12345, 99]];
    for program in 0..1000 {
        let f = random_program(&mut rng);
        let code = compile(backend, &f);
        for args in inputs {
            let (want, want_saved) = interpret(&f, &args);
            let (got, buffer) = run(&code, &args);
            let saved: Vec<u64> = match got.exit {
                0 => vec![],
                n => {
                    let s = f.snapshot(SnapshotId(n as u32 - 1));
                    s.exit_values()
                        .zip(&buffer)
                        .map(|(v, &bits)| if b_is_double(&f, v) { canonical_bits(f64::from_bits(bits)) } else { bits })
                        .collect()
                }
            };
            assert!(
                got == want && saved == want_saved,
                "random program {program} on {args:?}: got {got:?} saving {saved:?}, want {want:?} saving {want_saved:?}\n{}",
                ir::text::print(&f)
            );
        }
    }
}

fn b_is_double(f: &Function, v: Value) -> bool {
    f.value_type(v) == Some(F64)
}
