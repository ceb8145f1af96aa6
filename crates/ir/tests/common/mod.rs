//! Functions shared by the IR tests.

use ir::*;

/// `def sum(n): s = 0; for i in range(n): s += i; return s`, with an overflow exit that
/// carries the loop state. It is valid; the verifier tests break it in many ways.
pub fn sum_loop() -> Function {
    let mut b = Builder::new("sum", 1);
    let entry = b.create_block(&[]);
    let head = b.create_block(&[Type::I64, Type::I64]);
    let body = b.create_block(&[]);
    let done = b.create_block(&[]);
    b.switch_to(entry);
    let n = b.param(0);
    let zero = b.iconst(0);
    b.jump(head, &[zero, zero]);
    b.switch_to(head);
    let (i, s) = (b.block_params(head)[0], b.block_params(head)[1]);
    let more = b.icmp(Cond::Lt, i, n);
    b.branch(more, body, &[], done, &[]);
    b.switch_to(body);
    let state = vec![
        SnapshotEntry { slot: 1, kind: Kind::MachineInt, values: vec![i] },
        SnapshotEntry { slot: 2, kind: Kind::MachineInt, values: vec![s] },
    ];
    let overflow = b.snapshot(ExitKind::Resume, 10, 0, "int_overflow", state);
    let s2 = b.checked(CheckedOp::Add, s, i, overflow);
    let one = b.iconst(1);
    let i2 = b.int(IntOp::Add, i, one);
    b.jump(head, &[i2, s2]);
    b.switch_to(done);
    b.ret(s);
    b.finish()
}
