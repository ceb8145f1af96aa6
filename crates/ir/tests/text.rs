//! The text form reads back exactly what it prints, and says where malformed text is wrong.

mod common;

use common::sum_loop;
use ir::text::{parse, print};
use ir::verify::verify;
use ir::*;

/// `parse(print(f)) == f`, and printing the result again gives the same text.
fn round_trip(f: &Function) {
    let text = print(f);
    let g = parse(&text).unwrap_or_else(|e| panic!("{e} in\n{text}"));
    assert_eq!(&g, f, "in\n{text}");
    assert_eq!(print(&g), text);
}

#[test]
fn loop_round_trips() {
    let f = sum_loop();
    verify(&f).unwrap();
    round_trip(&f);
}

#[test]
fn loop_text() {
    insta::assert_snapshot!(print(&sum_loop()));
}

/// Every op, condition, access width, terminator, exit kind and helper effect, and snapshots
/// with an entry of every kind.
fn every_op() -> Function {
    let mut b = Builder::new("every_op", 2);
    let entry = b.create_block(&[]);
    let floats = b.create_block(&[Type::F64, Type::I64]);
    let leave = b.create_block(&[]);
    let done = b.create_block(&[Type::I64]);

    b.switch_to(entry);
    let p = b.param(0);
    let q = b.param(1);
    let mut kinds = vec![
        Kind::IntConst(-7),
        Kind::MachineInt,
        Kind::float_const(-0.0),
        Kind::UnboxedFloat,
        Kind::BoolConst(true),
        Kind::BoolConst(false),
        Kind::MachineBool,
        Kind::VirtualRangeIter,
        Kind::Object,
    ];
    for t in TypeTag::ALL {
        kinds.push(Kind::Exact(t));
        kinds.push(Kind::ObjConst(t, 3));
    }
    let x = b.fconst(2.5);
    let entries = kinds
        .into_iter()
        .enumerate()
        .map(|(slot, kind)| {
            let values = match kind.repr() {
                Repr::Constant => vec![],
                Repr::Double => vec![x],
                Repr::Virtual(n) => vec![p; n as usize],
                _ => vec![q],
            };
            SnapshotEntry { slot: 2 * slot as u32, kind, values }
        })
        .collect();
    let resume = b.snapshot(ExitKind::Resume, 12, 3, "int_overflow", entries);
    let raise = b.snapshot(ExitKind::Raise, 20, 0, "call_failed", vec![]);
    let mut word = b.iconst(-42);
    for op in [IntOp::Add, IntOp::Sub, IntOp::Mul, IntOp::And, IntOp::Or, IntOp::Xor, IntOp::Shl, IntOp::Sar] {
        word = b.int(op, word, p);
    }
    for op in [CheckedOp::Add, CheckedOp::Sub, CheckedOp::Mul, CheckedOp::FloorDiv, CheckedOp::Mod, CheckedOp::Shl] {
        word = b.checked(op, word, q, resume);
    }
    word = b.neg_checked(word, resume);
    let mut double = b.int_to_float(word);
    for op in [FloatOp::Add, FloatOp::Sub, FloatOp::Mul, FloatOp::Div] {
        double = b.float(op, double, x);
    }
    double = b.fneg(double);
    for cond in [Cond::Eq, Cond::Ne, Cond::Lt, Cond::Le, Cond::Gt, Cond::Ge, Cond::ULt, Cond::ULe, Cond::UGt, Cond::UGe]
    {
        let i = b.icmp(cond, word, p);
        let f = b.fcmp(cond, double, x);
        word = b.select(i, word, f);
        double = b.select(f, double, x);
    }
    for mem in [Mem::I64, Mem::I32, Mem::U32, Mem::U16, Mem::U8, Mem::F64] {
        let v = b.load(mem, p, -16);
        b.store(mem, q, 8, v);
    }
    b.guard(word, true, resume);
    b.guard(word, false, resume);
    let unused = b.helper(HelperDecl::new("never_called", Effect::Pure).at(0x3000));
    assert_eq!(unused, HelperId(0));
    b.call(HelperDecl::new("sink", Effect::MayRunPython).at(0x1000), &[], None);
    let r = b.call(
        HelperDecl::new("Mixed_Case_9", Effect::MayRaise).at(0x7fff_0000_1234),
        &[word, double],
        Some(Type::I64),
    );
    let d = b.call(HelperDecl::new("double", Effect::Pure).at(0x2000), &[double], Some(Type::F64));
    b.branch(r, floats, &[d, word], leave, &[]);

    b.switch_to(leave);
    b.exit(raise);

    b.switch_to(floats);
    let (d, w) = (b.block_params(floats)[0], b.block_params(floats)[1]);
    let c = b.fcmp(Cond::Gt, d, x);
    b.branch(c, done, &[w], floats, &[d, w]);

    b.switch_to(done);
    let v = b.block_params(done)[0];
    b.ret(v);
    b.finish()
}

#[test]
fn every_op_round_trips() {
    let f = every_op();
    verify(&f).unwrap();
    round_trip(&f);
}

#[test]
fn blocks_filled_out_of_order_keep_their_value_numbers() {
    // b2 is filled before b1 and gains a parameter late, so ids interleave between blocks.
    let mut b = Builder::new("out_of_order", 1);
    let entry = b.create_block(&[]);
    let second = b.create_block(&[]);
    let third = b.create_block(&[Type::I64]);
    b.switch_to(entry);
    let p = b.param(0);
    b.jump(third, &[p]);
    b.switch_to(third);
    let t = b.block_params(third)[0];
    let extra = b.add_block_param(third, Type::F64);
    let one = b.iconst(1);
    let sum = b.int(IntOp::Add, t, one);
    b.jump(second, &[]);
    b.switch_to(second);
    let f = b.int_to_float(sum);
    let s = b.float(FloatOp::Add, f, extra);
    let w = b.call(HelperDecl::new("to_word", Effect::Pure).at(0x10), &[s], Some(Type::I64));
    b.ret(w);
    let mut f = b.finish();
    // The entry jump must pass the late parameter too.
    let z = Value(f.insts.len() as u32);
    f.insts.push(InstData { op: Op::FConst(0.0), ty: Some(Type::F64) });
    f.blocks[0].insts.push(z);
    f.blocks[0].term = Terminator::Jump(BlockCall { block: third, args: vec![p, z] });
    verify(&f).unwrap();
    round_trip(&f);
}

#[test]
fn extreme_constants_round_trip_bit_exactly() {
    let weird_nan = f64::from_bits(0x7ff8_0000_dead_beef);
    let doubles = [0.0, -0.0, f64::INFINITY, f64::NEG_INFINITY, f64::MIN_POSITIVE / 4.0, 0.1, -1e300];
    let mut b = Builder::new("a \"quoted\"; name\nwith\ttabs, ünïcödé and \u{7f}", 3);
    let entry = b.create_block(&[]);
    b.switch_to(entry);
    let p = b.param(2);
    b.iconst(i64::MIN);
    b.iconst(i64::MAX);
    b.load(Mem::U8, p, i32::MIN);
    b.store(Mem::I32, p, i32::MAX, p);
    b.load(Mem::I64, p, 0);
    b.call(HelperDecl::new("h", Effect::Pure).at(u64::MAX), &[p], None);
    for x in doubles {
        b.fconst(x);
    }
    let nan = b.fconst(weird_nan);
    let s = b.snapshot(
        ExitKind::Raise,
        u32::MAX,
        u32::MAX,
        "Reason_09",
        vec![SnapshotEntry { slot: u32::MAX, kind: Kind::FloatConst(weird_nan.to_bits()), values: vec![] }],
    );
    b.exit(s);
    let f = b.finish();
    verify(&f).unwrap();
    let text = print(&f);
    let g = parse(&text).unwrap_or_else(|e| panic!("{e} in\n{text}"));
    // NaN != NaN, so compare the NaN's bits and the rest of the function separately.
    let Op::FConst(back) = g.inst(nan).op else { panic!("{nan} is an fconst") };
    assert_eq!(back.to_bits(), weird_nan.to_bits());
    let without_nan = |mut f: Function| {
        f.insts[nan.0 as usize].op = Op::FConst(0.0);
        f
    };
    assert_eq!(without_nan(g.clone()), without_nan(f));
    assert_eq!(print(&g), text);
}

#[test]
fn broken_functions_round_trip_too() {
    // Result types that differ from what the op implies, a block parameter listed as an
    // instruction, a typeless select, a detached instruction, an unterminated block.
    let mut b = Builder::new("broken", 0);
    let entry = b.create_block(&[]);
    let other = b.create_block(&[Type::I64]);
    b.switch_to(entry);
    let c = b.inst(Op::IConst(1), Some(Type::F64));
    b.inst(Op::IConst(2), None);
    b.inst(Op::Store(Mem::I64, c, 0, c), Some(Type::I64));
    b.inst(Op::BlockParam(other, 0), Some(Type::I64));
    b.inst(Op::Select(c, c, c), None);
    let helper = b.helper(HelperDecl::new("h", Effect::Pure).at(1));
    b.inst(Op::Call { helper, args: vec![], ret: Some(Type::F64) }, Some(Type::I64));
    b.jump(other, &[c, c]);
    b.switch_to(other);
    b.ret(Value(77));
    let mut f = b.finish();
    f.insts.push(InstData { op: Op::Guard { cond: c, expect: true, snapshot: SnapshotId(9) }, ty: None });
    f.insts.push(InstData { op: Op::IConst(3), ty: Some(Type::I64) });
    f.blocks.push(BlockData { params: vec![], insts: vec![], term: Terminator::Exit(SnapshotId(u32::MAX)) });
    assert!(verify(&f).is_err());
    round_trip(&f);
    let text = print(&f);
    assert!(text.contains("detached:\n  v7: guard v1 nonzero -> s9\n  v8 = iconst 3\n}"), "{text}");
}

#[test]
fn calls_name_their_helper_and_share_its_entry() {
    const LOAD_ATTR: HelperDecl = HelperDecl::new("load_attr", Effect::MayRunPython);
    const UNBOX: HelperDecl = HelperDecl::new("unbox_int", Effect::Pure);
    let mut b = Builder::new("calls", 1);
    let entry = b.create_block(&[]);
    b.switch_to(entry);
    let p = b.param(0);
    let a = b.call(LOAD_ATTR.at(0x7f00_1234_5678), &[p], Some(Type::I64));
    let n = b.call(UNBOX.at(0x7f00_1234_0000), &[a], Some(Type::I64));
    let m = b.call(UNBOX.at(0x7f00_1234_0000), &[n], Some(Type::I64));
    b.ret(m);
    let f = b.finish();
    verify(&f).unwrap();
    round_trip(&f);
    let text = print(&f);
    assert!(
        text.starts_with(
            "function \"calls\"(params=1) {\n  helper @load_attr = 0x7f0012345678 may_run_python\n  \
             helper @unbox_int = 0x7f0012340000 pure\nb0():\n"
        ),
        "{text}"
    );
    assert!(text.contains("  v1 = call @load_attr(v0) -> i64\n  v2 = call @unbox_int(v1) -> i64\n"), "{text}");
    assert!(text.contains("  v3 = call @unbox_int(v2) -> i64\n"), "{text}");
}

#[test]
fn a_call_of_a_missing_helper_prints_its_id() {
    let mut b = Builder::new("f", 0);
    let entry = b.create_block(&[]);
    b.switch_to(entry);
    let v = b.inst(Op::Call { helper: HelperId(7), args: vec![], ret: Some(Type::I64) }, Some(Type::I64));
    b.ret(v);
    let text = print(&b.finish());
    assert!(text.contains("  v0 = call @?7() -> i64\n"), "{text}");
    assert_eq!(error(&text), (3, "expected a helper name, found `?7()`".to_string()));
}

#[test]
fn empty_function_round_trips() {
    round_trip(&Function { name: String::new(), ..Function::default() });
}

#[test]
fn comments_and_spacing_are_free() {
    let text = "
        ; a hand-written function
        function \"f\" ( params=1 ) {   ; trailing comment
          s0 = raise pc=4 depth=1 reason=type_guard [ 1 : int64 v1 ,2:object v0 ]
        b0( ):
          v1=param 0
          v0 = param 0 ; ids in any order
          v2:guard v1 zero->s0
          v3 : f64 = select v1,v1 , v1
          jump b1 ( v1 )

        b1(v4:i64):
          return v4
        }
        ; after the end, comments only
    ";
    let f = parse(text).unwrap();
    assert_eq!(f.inst(Value(2)).op, Op::Guard { cond: Value(1), expect: false, snapshot: SnapshotId(0) });
    assert_eq!(f.inst(Value(3)).ty, Some(Type::F64));
    assert_eq!(f.blocks[0].insts, [Value(1), Value(0), Value(2), Value(3)]);
    assert_eq!(f.snapshot(SnapshotId(0)).entries[1].kind, Kind::Object);
    round_trip(&f);
}

/// The error `parse` reports for `text`, as `(line, message)`.
fn error(text: &str) -> (usize, String) {
    let e = parse(text).expect_err("the text is malformed");
    (e.line, e.message)
}

#[test]
fn parse_errors_name_the_line() {
    let ok = "function \"f\"(params=0) {\nb0():\n  v0 = iconst 1\n  return v0\n}\n";
    parse(ok).unwrap();
    let cases = [
        ("", 1, "expected `function`, found no text"),
        ("fn f() {\n}", 1, "expected `function`, found `fn`"),
        ("function \"f(params=0) {\n}", 1, "unterminated string"),
        ("function \"f\"(params=0) {\nb0():\n  v0 = iconst 1\n", 3, "missing `}` at the end of the function"),
        ("function \"f\"(params=0) {\nb0():\n  v0 = iconst x\n  return v0\n}", 3, "expected an integer, found `x`"),
        ("function \"f\"(params=0) {\nb0():\n  v0 = frob v1\n  return v0\n}", 3, "unknown instruction `frob`"),
        ("function \"f\"(params=0) {\nb0():\n  v0 = load.i8 v1+0\n  return v0\n}", 3, "unknown name `i8`"),
        (
            "function \"f\"(params=0) {\nb0():\n  v0 = store.i64 v1+0, v1\n  return v0\n}",
            3,
            "`store.i64` implies no result type: write `v0: store.i64 ...` or `v0: TYPE = store.i64 ...`",
        ),
        ("function \"f\"(params=0) {\nb0():\n  v0 = iconst 1 2\n  return v0\n}", 3, "unexpected `2`"),
        ("function \"f\"(params=0) {\nb0():\n  v0 = iconst 1\n\n  v1 = iconst 2\n}", 6, "b0 has no terminator"),
        (
            "function \"f\"(params=0) {\nb0():\n  return v0\n  v0 = iconst 1\n}",
            4,
            "instruction after the terminator of b0",
        ),
        (
            "function \"f\"(params=0) {\nb1():\n  return v0\n}",
            2,
            "expected block b0 here (blocks are written in order)",
        ),
        (
            "function \"f\"(params=0) {\nb0():\n  v0 = iconst 1\n  v0 = iconst 2\n  return v0\n}",
            4,
            "v0 is defined twice",
        ),
        (
            "function \"f\"(params=0) {\nb0():\n  v0 = iconst 1\n  v2 = iconst 2\n  return v0\n}",
            4,
            "v2 is out of range: 2 values are defined, so they must be v0 to v1",
        ),
        (
            "function \"f\"(params=0) {\n  s0 = resume pc=0 depth=0 reason=x [1: int65 v0]\n}",
            2,
            "not a kind: \"int65\"",
        ),
        ("function \"f\"(params=0) {\n  s0 = resume pc=0 depth=0 reason=a-b []\n}", 2, "expected `[`, found `-b`"),
        (
            "function \"f\"(params=0) {\nb0():\n  v0 = load.i64 v0+2147483648\n  return v0\n}",
            3,
            "the offset does not fit in 32 bits",
        ),
        ("function \"f\"(params=0) {\nb0():\n  return v0\n}\nb1():", 5, "text after the end of the function"),
        (
            "function \"f\"(params=0) {\nb0():\n  v0 = call @nowhere() -> i64\n  return v0\n}",
            3,
            "unknown helper `@nowhere`: helpers are declared before the snapshots",
        ),
        (
            "function \"f\"(params=0) {\n  helper @h = 0x10 pure\n  helper @h = 0x20 pure\n}",
            3,
            "helper @h is declared twice",
        ),
        (
            "function \"f\"(params=0) {\n  s0 = raise pc=0 depth=0 reason=x []\n  helper @h = 0x10 pure\n}",
            3,
            "helpers must come before the snapshots and blocks",
        ),
        ("function \"f\"(params=0) {\n  helper @h = 0x10 impure\n}", 2, "unknown name `impure`"),
        ("function \"f\"(params=0) {\n  helper h = 0x10 pure\n}", 2, "expected `@`, found `h`"),
        ("function \"f\"(params=0) {\n  helper @ = 0x10 pure\n}", 2, "expected a helper name, found `=`"),
    ];
    for (text, line, message) in cases {
        assert_eq!(error(text), (line, message.to_string()), "for\n{text}");
    }
}
