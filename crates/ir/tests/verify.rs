//! The verifier accepts well-formed functions and reports each broken invariant precisely.

mod common;

use common::sum_loop;
use ir::verify::{verify, User, VerifyError};
use ir::*;

/// A valid one-block function that runs `body` between an entry and a `return` of its result.
fn one_block(num_params: u32, body: impl FnOnce(&mut Builder) -> Value) -> Function {
    let mut b = Builder::new("f", num_params);
    let entry = b.create_block(&[]);
    b.switch_to(entry);
    let v = body(&mut b);
    b.ret(v);
    b.finish()
}

fn err(f: &Function) -> VerifyError {
    verify(f).expect_err("the function is broken")
}

const B0: Block = Block(0);
const B1: Block = Block(1);
const B2: Block = Block(2);
const B3: Block = Block(3);

#[test]
fn a_valid_loop_passes() {
    verify(&sum_loop()).unwrap();
}

#[test]
fn every_op_that_is_well_typed_passes() {
    let f = one_block(2, |b| {
        let p = b.param(0);
        let q = b.param(1);
        let x = b.fconst(1.5);
        let s = b.snapshot(
            ExitKind::Raise,
            4,
            2,
            "call_failed",
            vec![
                SnapshotEntry { slot: 0, kind: Kind::UnboxedFloat, values: vec![x] },
                SnapshotEntry { slot: 3, kind: Kind::IntConst(7), values: vec![] },
                SnapshotEntry { slot: 4, kind: Kind::VirtualRangeIter, values: vec![p, q, p] },
                SnapshotEntry { slot: 5, kind: Kind::Exact(TypeTag::List), values: vec![q] },
            ],
        );
        let w = b.load(Mem::U16, p, -8);
        let d = b.load(Mem::F64, p, 16);
        b.store(Mem::U8, p, 0, w);
        b.store(Mem::F64, p, 8, d);
        let a = b.checked(CheckedOp::FloorDiv, w, q, s);
        let n = b.neg_checked(a, s);
        let y = b.float(FloatOp::Div, x, d);
        let z = b.fneg(y);
        let k = b.int_to_float(n);
        let c = b.fcmp(Cond::Ne, z, k);
        let fsel = b.select(c, z, k);
        let isel = b.select(c, a, n);
        b.guard(c, false, s);
        b.call(HelperDecl::new("sink", Effect::MayRunPython).at(0x1000), &[isel, fsel], None);
        let r = b.call(HelperDecl::new("bits", Effect::Pure).at(0x2000), &[fsel], Some(Type::I64));
        b.int(IntOp::Sar, r, isel)
    });
    verify(&f).unwrap();
}

#[test]
fn no_blocks() {
    assert_eq!(err(&Function::default()), VerifyError::NoEntryBlock);
}

#[test]
fn entry_block_with_parameters() {
    let mut b = Builder::new("f", 0);
    let entry = b.create_block(&[Type::I64]);
    b.switch_to(entry);
    let x = b.block_params(entry)[0];
    b.ret(x);
    assert_eq!(err(&b.finish()), VerifyError::EntryParams);
}

#[test]
fn listed_value_that_is_not_an_instruction() {
    let mut f = sum_loop();
    f.blocks[2].insts.push(Value(99));
    assert_eq!(err(&f), VerifyError::UnknownValue { block: B2, value: Value(99) });
}

#[test]
fn value_listed_twice() {
    let mut f = sum_loop();
    let first = f.blocks[0].insts[0];
    f.blocks[3].insts.push(first);
    assert_eq!(err(&f), VerifyError::ListedTwice { block: B3, value: first });
}

#[test]
fn block_parameter_at_the_wrong_position() {
    let mut f = sum_loop();
    f.blocks[1].params.swap(0, 1);
    let value = f.blocks[1].params[0];
    assert_eq!(err(&f), VerifyError::BadBlockParam { block: B1, value });
}

#[test]
fn block_parameter_without_a_type() {
    let mut f = sum_loop();
    let value = f.blocks[1].params[1];
    f.insts[value.0 as usize].ty = None;
    assert_eq!(err(&f), VerifyError::BadBlockParam { block: B1, value });
}

#[test]
fn block_parameter_listed_as_an_instruction() {
    let mut b = Builder::new("f", 0);
    let entry = b.create_block(&[]);
    b.switch_to(entry);
    let v = b.inst(Op::BlockParam(entry, 0), Some(Type::I64));
    b.ret(v);
    assert_eq!(err(&b.finish()), VerifyError::BadBlockParam { block: B0, value: v });
}

#[test]
fn unterminated_block() {
    let mut f = sum_loop();
    f.blocks[3].term = Terminator::Exit(SnapshotId(u32::MAX));
    assert_eq!(err(&f), VerifyError::Unterminated(B3));
}

#[test]
fn jump_to_a_missing_block() {
    let mut f = sum_loop();
    f.blocks[0].term = Terminator::Jump(BlockCall { block: Block(7), args: vec![] });
    assert_eq!(err(&f), VerifyError::UnknownBlock { block: B0, target: Block(7) });
}

#[test]
fn jump_with_too_few_arguments() {
    let mut f = sum_loop();
    let Terminator::Jump(call) = &mut f.blocks[2].term else { panic!("b2 jumps") };
    call.args.pop();
    assert_eq!(err(&f), VerifyError::ArgCount { block: B2, target: B1, expected: 2, found: 1 });
}

#[test]
fn reason_that_is_not_an_identifier() {
    let mut f = sum_loop();
    f.snapshots[0].reason = "int overflow".into();
    assert_eq!(err(&f), VerifyError::BadReason(SnapshotId(0)));
    f.snapshots[0].reason = "".into();
    assert_eq!(err(&f), VerifyError::BadReason(SnapshotId(0)));
}

#[test]
fn helper_name_that_is_not_an_identifier() {
    let mut f = sum_loop();
    f.helpers.push(HelperDecl::new("load-attr", Effect::MayRunPython).at(0x1000));
    assert_eq!(err(&f), VerifyError::BadHelperName(HelperId(0)));
    f.helpers[0].name = "".into();
    assert_eq!(err(&f), VerifyError::BadHelperName(HelperId(0)));
}

#[test]
fn two_helpers_with_one_name() {
    let mut f = sum_loop();
    let h = HelperDecl::new("box_int", Effect::MayRaise);
    f.helpers.extend([h.at(0x1000), HelperDecl::new("other", Effect::Pure).at(0x1008), h.at(0x1010)]);
    assert_eq!(err(&f), VerifyError::DuplicateHelper { first: HelperId(0), second: HelperId(2) });
    assert_eq!(err(&f).to_string(), "helper 2 has the name of helper 0");
}

#[test]
fn call_of_a_helper_beyond_the_table() {
    let f = one_block(1, |b| {
        let p = b.param(0);
        b.call(HelperDecl::new("h", Effect::Pure).at(0x1000), &[p], None);
        b.inst(Op::Call { helper: HelperId(1), args: vec![p], ret: Some(Type::I64) }, Some(Type::I64))
    });
    let e = VerifyError::UnknownHelper { block: B0, value: Value(2), helper: HelperId(1) };
    assert_eq!(err(&f), e);
    assert_eq!(e.to_string(), "b0: v2 calls helper 1, which is not in the table");
}

#[test]
fn unsorted_or_repeated_slots() {
    let mut f = sum_loop();
    f.snapshots[0].entries[1].slot = 1;
    assert_eq!(err(&f), VerifyError::UnsortedEntries { snapshot: SnapshotId(0), slot: 1 });
    f.snapshots[0].entries.swap(0, 1);
    f.snapshots[0].entries[0].slot = 2;
    assert_eq!(err(&f), VerifyError::UnsortedEntries { snapshot: SnapshotId(0), slot: 1 });
}

#[test]
fn entry_of_a_kind_without_representation() {
    let mut f = sum_loop();
    f.snapshots[0].entries[0] = SnapshotEntry { slot: 1, kind: Kind::Bottom, values: vec![] };
    assert_eq!(err(&f), VerifyError::NoRepr { snapshot: SnapshotId(0), slot: 1, kind: Kind::Bottom });
}

#[test]
fn entry_with_the_wrong_number_of_values() {
    let base = sum_loop();
    let i = base.blocks[1].params[0];
    for (kind, values, expected) in [
        (Kind::IntConst(3), vec![i], 0),
        (Kind::MachineInt, vec![], 1),
        (Kind::Object, vec![i, i], 1),
        (Kind::VirtualRangeIter, vec![i, i], 3),
    ] {
        let mut f = base.clone();
        let found = values.len();
        f.snapshots[0].entries[0] = SnapshotEntry { slot: 1, kind, values };
        assert_eq!(err(&f), VerifyError::EntryValueCount { snapshot: SnapshotId(0), slot: 1, kind, expected, found });
    }
}

#[test]
fn entry_values_of_the_wrong_type() {
    let mut f = sum_loop();
    let i = f.blocks[1].params[0];
    f.snapshots[0].entries[0].kind = Kind::UnboxedFloat;
    let e = VerifyError::EntryValueType { snapshot: SnapshotId(0), slot: 1, value: i, expected: Type::F64 };
    assert_eq!(err(&f), e);
    f.snapshots[0].entries[0] = SnapshotEntry { slot: 1, kind: Kind::MachineInt, values: vec![Value(99)] };
    let e = VerifyError::EntryValueType { snapshot: SnapshotId(0), slot: 1, value: Value(99), expected: Type::I64 };
    assert_eq!(err(&f), e);
}

#[test]
fn missing_snapshots() {
    let f = one_block(1, |b| {
        let x = b.param(0);
        b.guard(x, true, SnapshotId(3));
        x
    });
    let guard = f.blocks[0].insts[1];
    assert_eq!(err(&f), VerifyError::UnknownSnapshot { block: B0, user: User::Inst(guard), snapshot: SnapshotId(3) });
    let mut f = sum_loop();
    f.blocks[3].term = Terminator::Exit(SnapshotId(1));
    assert_eq!(err(&f), VerifyError::UnknownSnapshot { block: B3, user: User::Term, snapshot: SnapshotId(1) });
}

#[test]
fn param_index_out_of_range() {
    let f = one_block(1, |b| b.param(1));
    assert_eq!(err(&f), VerifyError::ParamIndex { block: B0, value: Value(0), index: 1, num_params: 1 });
}

#[test]
fn use_before_definition_in_one_block() {
    let mut f = one_block(0, |b| {
        let x = b.iconst(1);
        let y = b.iconst(2);
        b.int(IntOp::Add, x, y)
    });
    f.blocks[0].insts.swap(1, 2);
    assert_eq!(err(&f), VerifyError::NotDefined { block: B0, user: User::Inst(Value(2)), value: Value(1) });
}

#[test]
fn use_of_a_value_from_a_block_that_does_not_dominate() {
    // The loop body does not dominate the exit block, which uses the body's sum.
    let mut f = sum_loop();
    let s2 = f.blocks[2].insts[0];
    f.blocks[3].term = Terminator::Return(s2);
    assert_eq!(err(&f), VerifyError::NotDefined { block: B3, user: User::Term, value: s2 });
}

#[test]
fn use_of_a_value_that_only_some_paths_define() {
    // b0 branches to b1 and b2, both of which jump to b3; b3 uses b1's value.
    let mut b = Builder::new("f", 1);
    let blocks: Vec<Block> = (0..4).map(|_| b.create_block(&[])).collect();
    b.switch_to(blocks[0]);
    let p = b.param(0);
    b.branch(p, blocks[1], &[], blocks[2], &[]);
    b.switch_to(blocks[1]);
    let one = b.iconst(1);
    b.jump(blocks[3], &[]);
    b.switch_to(blocks[2]);
    b.jump(blocks[3], &[]);
    b.switch_to(blocks[3]);
    let r = b.int(IntOp::Add, p, one);
    b.ret(r);
    assert_eq!(err(&b.finish()), VerifyError::NotDefined { block: B3, user: User::Inst(r), value: one });
}

#[test]
fn detached_values_may_exist_but_not_be_used() {
    let mut f = one_block(0, |b| b.iconst(1));
    f.insts.push(InstData { op: Op::IConst(2), ty: Some(Type::I64) });
    verify(&f).unwrap();
    f.blocks[0].term = Terminator::Return(Value(1));
    assert_eq!(err(&f), VerifyError::NotDefined { block: B0, user: User::Term, value: Value(1) });
}

#[test]
fn unreachable_blocks_are_checked_for_their_own_order_only() {
    let mut b = Builder::new("f", 1);
    let entry = b.create_block(&[]);
    let dead = b.create_block(&[]);
    b.switch_to(entry);
    let p = b.param(0);
    b.ret(p);
    b.switch_to(dead);
    let q = b.int(IntOp::Add, p, p);
    b.ret(q);
    let mut f = b.finish();
    verify(&f).unwrap();
    f.blocks[1].term = Terminator::Return(Value(99));
    assert_eq!(err(&f), VerifyError::NotDefined { block: B1, user: User::Term, value: Value(99) });
}

#[test]
fn snapshot_value_defined_after_the_guard() {
    let mut b = Builder::new("f", 1);
    let entry = b.create_block(&[]);
    b.switch_to(entry);
    let p = b.param(0);
    let entries = vec![SnapshotEntry { slot: 0, kind: Kind::MachineInt, values: vec![Value(2)] }];
    let s = b.snapshot(ExitKind::Resume, 0, 0, "type_guard", entries);
    b.guard(p, true, s);
    let late = b.iconst(5);
    b.ret(late);
    assert_eq!(
        err(&b.finish()),
        VerifyError::SnapshotValueNotDefined { block: B0, user: User::Inst(Value(1)), snapshot: s, value: late }
    );
}

#[test]
fn snapshot_value_that_does_not_dominate_an_exit() {
    // The overflow snapshot carries the body's new sum; the exit block leaves through it.
    let mut f = sum_loop();
    let s2 = f.blocks[2].insts[0];
    f.snapshots[0].entries[1].values = vec![s2];
    f.blocks[2].insts.remove(0);
    f.blocks[2].insts.insert(1, s2);
    // In b2 the checked add now comes after the constant; it still names the snapshot that
    // carries its own result, which is not defined before it.
    assert_eq!(
        err(&f),
        VerifyError::SnapshotValueNotDefined { block: B2, user: User::Inst(s2), snapshot: SnapshotId(0), value: s2 }
    );
    f.snapshots[0].entries[1].values = vec![f.blocks[2].insts[0]];
    verify(&f).unwrap();
    f.blocks[3].term = Terminator::Exit(SnapshotId(0));
    let one = f.blocks[2].insts[0];
    assert_eq!(
        err(&f),
        VerifyError::SnapshotValueNotDefined { block: B3, user: User::Term, snapshot: SnapshotId(0), value: one }
    );
}

#[test]
fn operand_without_a_result() {
    let f = one_block(1, |b| {
        let p = b.param(0);
        b.store(Mem::I64, p, 0, p);
        b.int(IntOp::Add, p, Value(1))
    });
    assert_eq!(err(&f), VerifyError::NoResult { block: B0, user: User::Inst(Value(2)), value: Value(1) });
}

#[test]
fn operands_of_the_wrong_type() {
    use Type::{F64, I64};
    let cases: Vec<(Function, Value, Type, Type)> = vec![
        // Integer op on a double.
        (
            one_block(0, |b| {
                let x = b.fconst(1.0);
                let y = b.iconst(1);
                b.int(IntOp::Add, y, x)
            }),
            Value(0),
            I64,
            F64,
        ),
        // Float op on a word.
        (
            one_block(0, |b| {
                let x = b.fconst(1.0);
                let y = b.iconst(1);
                let z = b.float(FloatOp::Mul, x, y);
                b.fcmp(Cond::Lt, z, z)
            }),
            Value(1),
            F64,
            I64,
        ),
        // Conversion of a double.
        (
            one_block(0, |b| {
                let x = b.fconst(1.0);
                let y = b.int_to_float(x);
                b.fcmp(Cond::Eq, y, y)
            }),
            Value(0),
            I64,
            F64,
        ),
        // Load from a double base.
        (
            one_block(0, |b| {
                let x = b.fconst(1.0);
                b.load(Mem::I64, x, 0)
            }),
            Value(0),
            I64,
            F64,
        ),
        // Word stored as a double.
        (
            one_block(1, |b| {
                let p = b.param(0);
                b.store(Mem::F64, p, 0, p);
                p
            }),
            Value(0),
            F64,
            I64,
        ),
        // Guard on a double.
        (
            one_block(0, |b| {
                let s = b.snapshot(ExitKind::Resume, 0, 0, "g", vec![]);
                let x = b.fconst(0.0);
                b.guard(x, true, s);
                b.iconst(0)
            }),
            Value(0),
            I64,
            F64,
        ),
        // Select arms of different types.
        (
            one_block(0, |b| {
                let c = b.iconst(1);
                let x = b.fconst(0.0);
                b.select(c, c, x)
            }),
            Value(1),
            I64,
            F64,
        ),
    ];
    for (f, value, expected, found) in cases {
        let VerifyError::OperandType { value: v, expected: e, found: fd, .. } = err(&f) else {
            panic!("expected an operand type error in\n{f}");
        };
        assert_eq!((v, e, fd), (value, expected, found), "in\n{f}");
    }
}

#[test]
fn terminator_operands_of_the_wrong_type() {
    let f = one_block(0, |b| b.fconst(1.0));
    assert_eq!(
        err(&f),
        VerifyError::OperandType {
            block: B0,
            user: User::Term,
            value: Value(0),
            expected: Type::I64,
            found: Type::F64
        }
    );
    let mut b = Builder::new("f", 0);
    let entry = b.create_block(&[]);
    let next = b.create_block(&[Type::F64]);
    b.switch_to(entry);
    let x = b.iconst(1);
    b.branch(x, next, &[x], next, &[x]);
    b.switch_to(next);
    b.ret(x);
    assert_eq!(
        err(&b.finish()),
        VerifyError::OperandType { block: B0, user: User::Term, value: x, expected: Type::F64, found: Type::I64 }
    );
}

#[test]
fn result_of_the_wrong_type() {
    let f = one_block(0, |b| b.inst(Op::IConst(1), Some(Type::F64)));
    assert_eq!(
        err(&f),
        VerifyError::ResultType { block: B0, value: Value(0), expected: Some(Type::I64), found: Some(Type::F64) }
    );
    let f = one_block(1, |b| {
        let p = b.param(0);
        let helper = b.helper(HelperDecl::new("h", Effect::Pure).at(8));
        b.inst(Op::Call { helper, args: vec![p], ret: None }, Some(Type::I64))
    });
    assert_eq!(err(&f), VerifyError::ResultType { block: B0, value: Value(1), expected: None, found: Some(Type::I64) });
    let f = one_block(1, |b| {
        let p = b.param(0);
        b.inst(Op::Store(Mem::I64, p, 0, p), Some(Type::I64));
        p
    });
    assert_eq!(err(&f), VerifyError::ResultType { block: B0, value: Value(1), expected: None, found: Some(Type::I64) });
    let f = one_block(1, |b| {
        let p = b.param(0);
        b.inst(Op::Select(p, p, p), None);
        p
    });
    assert_eq!(err(&f), VerifyError::ResultType { block: B0, value: Value(1), expected: Some(Type::I64), found: None });
}

#[test]
fn messages_name_the_block_and_value() {
    let mut f = sum_loop();
    let s2 = f.blocks[2].insts[0];
    f.blocks[3].term = Terminator::Return(s2);
    assert_eq!(err(&f).to_string(), "b3: the terminator uses v5, which is not defined before it on every path");
}
