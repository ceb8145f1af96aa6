//! The IR verifier: checks the invariants that passes may assume and backends rely on.
//!
//! [`verify`] reports the first violation it finds. It checks, in this order:
//!
//! - the function has an entry block, `b0`, and `b0` takes no parameters (nothing would
//!   define them on entry: entry arguments come in through [`Op::Param`]);
//! - every value a block lists, as a parameter or an instruction, is an instruction of the
//!   function, and no value is listed twice (in one block or in two);
//! - a block's `i`-th parameter is `Op::BlockParam(block, i)` with a type, and no
//!   `BlockParam` is listed as an instruction;
//! - every block has a real terminator, not the builder's unterminated placeholder
//!   (`Terminator::Exit(SnapshotId(u32::MAX))`);
//! - every jump names an existing block and passes as many arguments as it has parameters;
//! - every snapshot's reason is an identifier (`[A-Za-z0-9_]+`, so the text form can print
//!   it bare), its entries have strictly increasing slots, each entry's kind has a
//!   representation ([`Repr::None`] has none) and carries exactly the values that needs
//!   (none for [`Repr::Constant`], one for `Word`, `Double` and `Object`, `n` for
//!   `Virtual(n)`), and those values are `F64` for `Double` and `I64` otherwise;
//! - every helper's name is an identifier (`[A-Za-z0-9_]+`, printed bare after `@`) and no
//!   two helpers share a name (the text form names a call's helper by its name); nothing is
//!   checked of addresses and effects, which only the front end knows;
//! - every snapshot that an instruction or terminator names exists;
//! - every [`Op::Param`] index is below `num_params`;
//! - every [`Op::Call`] names an entry of the function's helper table (its arguments and
//!   result are checked with the other types below; the table holds no signatures);
//! - every operand is defined before its use: earlier in the same block (parameters come
//!   first), or in a block that dominates the user's block (dominators of the CFG from `b0`);
//!   the values of a snapshot must be defined the same way before every instruction or
//!   terminator that names it. In blocks unreachable from `b0` there is no dominance, so
//!   there a value from another block must only be listed in some block;
//! - every operand has a result, of the type its op reads: `I64` for integer, compare,
//!   select-condition, guard and branch conditions, returns, load and store bases and
//!   `IntToFloat`; `F64` for float ops, `FNeg` and `FCmp`; the access type for a stored
//!   value; the select's own type for both select arms; the parameter's type for a block
//!   argument; any type for call arguments;
//! - every instruction's result type is the one its op produces (`None` for `Store` and
//!   `Guard`, `ret` for `Call`, the arms' type for `Select`).
//!
//! Instructions that no block lists ("detached", e.g. left behind by a pass that deleted
//! them from their block) are allowed, but nothing may use them.

use crate::*;
use std::fmt;

/// What reads a value: an instruction or a block's terminator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum User {
    Inst(Value),
    Term,
}

impl fmt::Display for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            User::Inst(v) => write!(f, "{v}"),
            User::Term => write!(f, "the terminator"),
        }
    }
}

/// A broken invariant (see the module documentation), with where it is broken.
#[derive(Clone, Debug, PartialEq)]
pub enum VerifyError {
    NoEntryBlock,
    EntryParams,
    /// A block lists a value that is not an instruction of the function.
    UnknownValue {
        block: Block,
        value: Value,
    },
    ListedTwice {
        block: Block,
        value: Value,
    },
    /// A parameter that is not `BlockParam(block, position)` with a type, or a `BlockParam`
    /// listed as an instruction.
    BadBlockParam {
        block: Block,
        value: Value,
    },
    Unterminated(Block),
    UnknownBlock {
        block: Block,
        target: Block,
    },
    ArgCount {
        block: Block,
        target: Block,
        expected: usize,
        found: usize,
    },
    BadReason(SnapshotId),
    BadHelperName(HelperId),
    /// `second` has the name of `first`.
    DuplicateHelper {
        first: HelperId,
        second: HelperId,
    },
    /// `slot` is not above the slot of the entry before it.
    UnsortedEntries {
        snapshot: SnapshotId,
        slot: u32,
    },
    /// The entry's kind has no run-time representation.
    NoRepr {
        snapshot: SnapshotId,
        slot: u32,
        kind: Kind,
    },
    EntryValueCount {
        snapshot: SnapshotId,
        slot: u32,
        kind: Kind,
        expected: usize,
        found: usize,
    },
    /// `value` is not a value of type `expected` (or not a value at all).
    EntryValueType {
        snapshot: SnapshotId,
        slot: u32,
        value: Value,
        expected: Type,
    },
    UnknownSnapshot {
        block: Block,
        user: User,
        snapshot: SnapshotId,
    },
    ParamIndex {
        block: Block,
        value: Value,
        index: u32,
        num_params: u32,
    },
    /// The call `value` names a helper beyond the end of the table.
    UnknownHelper {
        block: Block,
        value: Value,
        helper: HelperId,
    },
    /// `value` is not defined before `user` on every path to it.
    NotDefined {
        block: Block,
        user: User,
        value: Value,
    },
    /// `value`, carried by `snapshot`, is not defined before `user`, which names the snapshot.
    SnapshotValueNotDefined {
        block: Block,
        user: User,
        snapshot: SnapshotId,
        value: Value,
    },
    /// `user` reads `value`, an instruction without a result.
    NoResult {
        block: Block,
        user: User,
        value: Value,
    },
    OperandType {
        block: Block,
        user: User,
        value: Value,
        expected: Type,
        found: Type,
    },
    ResultType {
        block: Block,
        value: Value,
        expected: Option<Type>,
        found: Option<Type>,
    },
}

/// A type for messages, `none` for no result.
fn ty(t: Option<Type>) -> &'static str {
    match t {
        Some(Type::I64) => "i64",
        Some(Type::F64) => "f64",
        None => "none",
    }
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use VerifyError::*;
        match self {
            NoEntryBlock => write!(f, "the function has no blocks"),
            EntryParams => write!(f, "the entry block b0 has parameters"),
            UnknownValue { block, value } => {
                write!(f, "{block} lists {value}, which is not an instruction of the function")
            }
            ListedTwice { block, value } => write!(f, "{block} lists {value}, which is listed before"),
            BadBlockParam { block, value } => {
                write!(f, "{block}: {value} is not a typed BlockParam of {block} at its position in the parameters")
            }
            Unterminated(block) => write!(f, "{block} has no terminator"),
            UnknownBlock { block, target } => write!(f, "{block} jumps to {target}, which does not exist"),
            ArgCount { block, target, expected, found } => {
                write!(f, "{block} passes {found} arguments to {target}, which has {expected} parameters")
            }
            BadReason(s) => write!(f, "{s}: the reason is not an identifier"),
            BadHelperName(h) => write!(f, "helper {}: the name is not an identifier", h.0),
            DuplicateHelper { first, second } => {
                write!(f, "helper {} has the name of helper {}", second.0, first.0)
            }
            UnsortedEntries { snapshot, slot } => {
                write!(f, "{snapshot}: the entry for slot {slot} is not above the slot before it")
            }
            NoRepr { snapshot, slot, kind } => {
                write!(f, "{snapshot}: slot {slot} has kind {kind}, which has no representation")
            }
            EntryValueCount { snapshot, slot, kind, expected, found } => {
                write!(f, "{snapshot}: slot {slot} of kind {kind} carries {found} values instead of {expected}")
            }
            EntryValueType { snapshot, slot, value, expected } => {
                write!(
                    f,
                    "{snapshot}: slot {slot} carries {value}, which is not a value of type {}",
                    ty(Some(*expected))
                )
            }
            UnknownSnapshot { block, user, snapshot } => {
                write!(f, "{block}: {user} names {snapshot}, which does not exist")
            }
            ParamIndex { block, value, index, num_params } => {
                write!(f, "{block}: {value} reads parameter {index} of a function with {num_params} parameters")
            }
            UnknownHelper { block, value, helper } => {
                write!(f, "{block}: {value} calls helper {}, which is not in the table", helper.0)
            }
            NotDefined { block, user, value } => {
                write!(f, "{block}: {user} uses {value}, which is not defined before it on every path")
            }
            SnapshotValueNotDefined { block, user, snapshot, value } => write!(
                f,
                "{block}: {user} names {snapshot}, whose value {value} is not defined before it on every path"
            ),
            NoResult { block, user, value } => write!(f, "{block}: {user} uses {value}, which has no result"),
            OperandType { block, user, value, expected, found } => write!(
                f,
                "{block}: {user} needs an {} operand but {value} is {}",
                ty(Some(*expected)),
                ty(Some(*found))
            ),
            ResultType { block, value, expected, found } => {
                write!(f, "{block}: {value} has type {} but its op produces {}", ty(*found), ty(*expected))
            }
        }
    }
}

impl std::error::Error for VerifyError {}

/// Checks every invariant listed in the module documentation.
pub fn verify(f: &Function) -> Result<(), VerifyError> {
    if f.blocks.is_empty() {
        return Err(VerifyError::NoEntryBlock);
    }
    if !f.blocks[0].params.is_empty() {
        return Err(VerifyError::EntryParams);
    }
    let sites = def_sites(f)?;
    check_terminators(f)?;
    for (i, s) in f.snapshots.iter().enumerate() {
        check_snapshot(f, SnapshotId(i as u32), s)?;
    }
    check_helpers(f)?;
    let idom = immediate_dominators(f);
    let defined_before = |v: Value, block: Block, pos: usize| -> bool {
        let Some(&Some((d, p))) = sites.get(v.0 as usize) else { return false };
        let b = block.0 as usize;
        if d == b {
            p < pos
        } else if idom[b].is_some() {
            idom[d].is_some() && dominates(&idom, d, b)
        } else {
            true
        }
    };
    for block in f.block_ids() {
        let data = f.block(block);
        // Positions within the block: parameters at 0, instructions from 1, terminator last.
        let uses = data
            .insts
            .iter()
            .enumerate()
            .map(|(i, &v)| (User::Inst(v), i + 1))
            .chain(std::iter::once((User::Term, data.insts.len() + 1)));
        for (user, pos) in uses {
            let (operands, snapshot) = match user {
                User::Inst(v) => (f.inst(v).op.operands(), f.inst(v).op.snapshot()),
                User::Term => match data.term {
                    Terminator::Exit(s) => (data.term.operands(), Some(s)),
                    _ => (data.term.operands(), None),
                },
            };
            let snap = match snapshot {
                Some(s) => match f.snapshots.get(s.0 as usize) {
                    Some(snap) => Some((s, snap)),
                    None => return Err(VerifyError::UnknownSnapshot { block, user, snapshot: s }),
                },
                None => None,
            };
            if let User::Inst(value) = user {
                match f.inst(value).op {
                    Op::Param(index) if index >= f.num_params => {
                        return Err(VerifyError::ParamIndex { block, value, index, num_params: f.num_params });
                    }
                    Op::Call { helper, .. } if helper.0 as usize >= f.helpers.len() => {
                        return Err(VerifyError::UnknownHelper { block, value, helper });
                    }
                    _ => {}
                }
            }
            if let Some(&value) = operands.iter().find(|&&v| !defined_before(v, block, pos)) {
                return Err(VerifyError::NotDefined { block, user, value });
            }
            if let Some((s, snap)) = snap {
                if let Some(value) = snap.exit_values().find(|&v| !defined_before(v, block, pos)) {
                    return Err(VerifyError::SnapshotValueNotDefined { block, user, snapshot: s, value });
                }
            }
            check_types(f, block, user)?;
        }
    }
    Ok(())
}

/// Where each listed value is defined: its block and position (parameters at 0,
/// instructions from 1), after checking that values are listed once and parameters are
/// proper `BlockParam`s.
fn def_sites(f: &Function) -> Result<Vec<Option<(usize, usize)>>, VerifyError> {
    let mut sites = vec![None; f.insts.len()];
    for block in f.block_ids() {
        let data = f.block(block);
        let listed = data.params.iter().map(|&v| (v, 0)).chain(data.insts.iter().enumerate().map(|(i, &v)| (v, i + 1)));
        for (value, pos) in listed {
            let Some(site) = sites.get_mut(value.0 as usize) else {
                return Err(VerifyError::UnknownValue { block, value });
            };
            if site.is_some() {
                return Err(VerifyError::ListedTwice { block, value });
            }
            *site = Some((block.0 as usize, pos));
        }
        for (i, &value) in data.params.iter().enumerate() {
            let inst = f.inst(value);
            if inst.op != Op::BlockParam(block, i as u32) || inst.ty.is_none() {
                return Err(VerifyError::BadBlockParam { block, value });
            }
        }
        if let Some(&value) = data.insts.iter().find(|&&v| matches!(f.inst(v).op, Op::BlockParam(..))) {
            return Err(VerifyError::BadBlockParam { block, value });
        }
    }
    Ok(sites)
}

/// Terminators are real and their jumps fit their targets (argument types come later, with
/// the other operand types).
fn check_terminators(f: &Function) -> Result<(), VerifyError> {
    for block in f.block_ids() {
        let term = &f.block(block).term;
        if *term == Terminator::Exit(SnapshotId(u32::MAX)) {
            return Err(VerifyError::Unterminated(block));
        }
        for call in term.successors() {
            let Some(target) = f.blocks.get(call.block.0 as usize) else {
                return Err(VerifyError::UnknownBlock { block, target: call.block });
            };
            if call.args.len() != target.params.len() {
                return Err(VerifyError::ArgCount {
                    block,
                    target: call.block,
                    expected: target.params.len(),
                    found: call.args.len(),
                });
            }
        }
    }
    Ok(())
}

/// Whether `s` is `[A-Za-z0-9_]+`, which the text form prints bare.
fn is_identifier(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn check_snapshot(f: &Function, snapshot: SnapshotId, s: &Snapshot) -> Result<(), VerifyError> {
    if !is_identifier(&s.reason) {
        return Err(VerifyError::BadReason(snapshot));
    }
    let mut previous = None;
    for e in &s.entries {
        let slot = e.slot;
        if previous.is_some_and(|p| p >= slot) {
            return Err(VerifyError::UnsortedEntries { snapshot, slot });
        }
        previous = Some(slot);
        let (expected, ty) = match e.kind.repr() {
            Repr::None => return Err(VerifyError::NoRepr { snapshot, slot, kind: e.kind }),
            Repr::Constant => (0, Type::I64),
            Repr::Word | Repr::Object => (1, Type::I64),
            Repr::Double => (1, Type::F64),
            Repr::Virtual(n) => (n as usize, Type::I64),
        };
        if e.values.len() != expected {
            return Err(VerifyError::EntryValueCount { snapshot, slot, kind: e.kind, expected, found: e.values.len() });
        }
        if let Some(&value) = e.values.iter().find(|&&v| f.insts.get(v.0 as usize).map(|d| d.ty) != Some(Some(ty))) {
            return Err(VerifyError::EntryValueType { snapshot, slot, value, expected: ty });
        }
    }
    Ok(())
}

fn check_helpers(f: &Function) -> Result<(), VerifyError> {
    for (i, h) in f.helpers.iter().enumerate() {
        let id = HelperId(i as u32);
        if !is_identifier(&h.name) {
            return Err(VerifyError::BadHelperName(id));
        }
        if let Some(first) = f.helpers[..i].iter().position(|g| g.name == h.name) {
            return Err(VerifyError::DuplicateHelper { first: HelperId(first as u32), second: id });
        }
    }
    Ok(())
}

/// Operand and result types of one instruction or terminator, whose operands are known to be
/// defined.
fn check_types(f: &Function, block: Block, user: User) -> Result<(), VerifyError> {
    let (operands, result) = match user {
        User::Inst(v) => {
            let (operands, expected) = signature(f, &f.inst(v).op, f.inst(v).ty);
            (operands, Some((v, expected)))
        }
        User::Term => {
            let term = &f.block(block).term;
            let mut operands = match term {
                Terminator::Branch { cond, .. } | Terminator::Return(cond) => vec![(*cond, Some(Type::I64))],
                Terminator::Jump(_) | Terminator::Exit(_) => vec![],
            };
            for call in term.successors() {
                let params = &f.block(call.block).params;
                operands.extend(call.args.iter().zip(params).map(|(&a, &p)| (a, f.value_type(p))));
            }
            (operands, None)
        }
    };
    for (value, expected) in operands {
        let Some(found) = f.value_type(value) else {
            return Err(VerifyError::NoResult { block, user, value });
        };
        if let Some(expected) = expected.filter(|&e| e != found) {
            return Err(VerifyError::OperandType { block, user, value, expected, found });
        }
    }
    if let Some((value, expected)) = result {
        let found = f.value_type(value);
        if found != expected {
            return Err(VerifyError::ResultType { block, value, expected, found });
        }
    }
    Ok(())
}

/// The operands of `op` with the type each must have (`None`: any type), and the type of its
/// result. `ty` is the instruction's declared type, which a select's arms must have.
fn signature(f: &Function, op: &Op, ty: Option<Type>) -> (Vec<(Value, Option<Type>)>, Option<Type>) {
    use Type::{F64, I64};
    let word = Some(I64);
    let double = Some(F64);
    match *op {
        Op::Param(_) | Op::IConst(_) => (vec![], word),
        Op::FConst(_) => (vec![], double),
        // Parameters are checked with the blocks and never listed as instructions.
        Op::BlockParam(..) => (vec![], ty),
        Op::Load(mem, base, _) => (vec![(base, word)], Some(mem.value_type())),
        Op::Store(mem, base, _, v) => (vec![(base, word), (v, Some(mem.value_type()))], None),
        Op::Int(_, a, b) | Op::Checked(_, a, b, _) | Op::ICmp(_, a, b) => (vec![(a, word), (b, word)], word),
        Op::NegChecked(a, _) => (vec![(a, word)], word),
        Op::Float(_, a, b) => (vec![(a, double), (b, double)], double),
        Op::FCmp(_, a, b) => (vec![(a, double), (b, double)], word),
        Op::FNeg(a) => (vec![(a, double)], double),
        Op::IntToFloat(a) => (vec![(a, word)], double),
        Op::Select(c, a, b) => {
            // Without a declared type the first arm decides, so the error is about the result.
            let arm = ty.or(f.value_type(a));
            (vec![(c, word), (a, arm), (b, arm)], arm)
        }
        Op::Call { ref args, ret, .. } => (args.iter().map(|&a| (a, None)).collect(), ret),
        Op::Guard { cond, .. } => (vec![(cond, word)], None),
    }
}

/// Immediate dominators, by the iterative algorithm of Cooper, Harvey and Kennedy over the
/// reverse postorder from `b0`: `b0` is its own, and unreachable blocks have none. Targets
/// must exist (see `check_terminators`).
fn immediate_dominators(f: &Function) -> Vec<Option<usize>> {
    let n = f.blocks.len();
    let succs = |b: usize| -> Vec<usize> { f.blocks[b].term.successors().iter().map(|c| c.block.0 as usize).collect() };
    // Depth-first search with an explicit stack: functions can be long chains of blocks.
    let mut postorder = Vec::with_capacity(n);
    let mut visited = vec![false; n];
    visited[0] = true;
    let mut stack = vec![(0, succs(0), 0)];
    while let Some((b, next, i)) = stack.last_mut() {
        if let Some(&t) = next.get(*i) {
            *i += 1;
            if !visited[t] {
                visited[t] = true;
                stack.push((t, succs(t), 0));
            }
        } else {
            postorder.push(*b);
            stack.pop();
        }
    }
    let mut rpo_number = vec![usize::MAX; n];
    let mut preds = vec![vec![]; n];
    for (i, &b) in postorder.iter().rev().enumerate() {
        rpo_number[b] = i;
        for t in succs(b) {
            preds[t].push(b);
        }
    }
    let mut idom = vec![None; n];
    idom[0] = Some(0);
    let mut changed = true;
    while changed {
        changed = false;
        for &b in postorder.iter().rev().skip(1) {
            let mut new = None;
            for &p in preds[b].iter().filter(|&&p| idom[p].is_some()) {
                new = Some(match new {
                    None => p,
                    Some(q) => intersect(&idom, &rpo_number, p, q),
                });
            }
            if new != idom[b] {
                idom[b] = new;
                changed = true;
            }
        }
    }
    idom
}

/// The nearest common dominator of two reachable blocks.
fn intersect(idom: &[Option<usize>], rpo_number: &[usize], mut a: usize, mut b: usize) -> usize {
    while a != b {
        while rpo_number[a] > rpo_number[b] {
            a = idom[a].expect("processed blocks have an idom");
        }
        while rpo_number[b] > rpo_number[a] {
            b = idom[b].expect("processed blocks have an idom");
        }
    }
    a
}

/// Whether `d` dominates `b`, both reachable.
fn dominates(idom: &[Option<usize>], d: usize, mut b: usize) -> bool {
    loop {
        if b == d {
            return true;
        }
        if b == 0 {
            return false;
        }
        b = idom[b].expect("reachable blocks have an idom");
    }
}
