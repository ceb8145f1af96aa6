//! Register allocation: where every SSA value lives, decided once per function before any
//! code is emitted. Target-independent: registers are indices into per-class tables that
//! the backend supplies (with which of them survive calls), stack slots are numbers.
//!
//! The scheme is linear scan (Poletto & Sarkar) over live ranges with holes (as in Wimmer &
//! Franz's SSA variant, without splitting), in about O(n log n) plus the size of the ranges:
//! 1. Block order: reverse post-order of a depth-first walk that visits a block's
//!    successors in increasing loop depth, so that loop bodies come out contiguous. Loop
//!    depth comes from the natural loops of a first walk's back edges; it only weighs uses.
//! 2. Liveness by path exploration: each use walks back through predecessors to the
//!    definition, each block once per value. A value's live ranges are the stretches of that
//!    order where it is live: one live around a back edge covers its whole loop, one read
//!    only after a loop has a hole over the loop's body.
//! 3. A scan over the values by start (the order their definitions are visited in, so nothing
//!    is sorted) hands out registers: a register is free for a value
//!    if no value holding it is live where the new one is (one may sit in another's hole).
//!    Copy partners (block parameters and their arguments) and a two-address instruction's
//!    first operand are tried first. When no register is free, the values with the smallest
//!    spill weight (uses × 10^loop depth; exits are cold and weigh nothing) go to the stack,
//!    those ending last on a tie. A value live across a call may only take a callee-saved
//!    register. A value keeps its location for its whole life (no splitting), so exit stubs
//!    and edge copies just read each value's home.
//! 4. Spilled values share stack slots by a second scan over their extents.
//!
//! Constants take no location (they are rematerialized where used), nor do values nothing
//! reads, nor compares that the guard or branch consuming them evaluates itself (their
//! operands are then read at the consumer), nor the load and the sum of a word that a store
//! puts back changed by a constant (a reference count's increment: the store adds to
//! memory), nor a value that its compare reads in memory (a load only that compare reads, a
//! decremented count the block's branch tests). Block parameters are defined by parallel
//! copies on the edges into their block; [`sequentialize`] orders such a copy.

use ir::{Block, BlockCall, Cond, Function, IntOp, Op, Terminator, Type, Value};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

/// A register class: words live in general-purpose registers, doubles in vector registers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Class {
    Word,
    Double,
}

impl Class {
    pub fn of(ty: Type) -> Class {
        match ty {
            Type::I64 => Class::Word,
            Type::F64 => Class::Double,
        }
    }
}

/// The registers the allocator may hand out, by class, in order of preference: `true` marks
/// a register that calls preserve (callee-saved).
#[derive(Clone, Copy, Debug)]
pub struct Registers<'a> {
    pub word: &'a [bool],
    pub double: &'a [bool],
}

impl Registers<'_> {
    fn class(&self, c: Class) -> &[bool] {
        match c {
            Class::Word => self.word,
            Class::Double => self.double,
        }
    }
}

/// Where a value lives for its whole life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Loc {
    /// Nowhere: a constant, a value nothing reads, a compare evaluated by its consumer, or a
    /// value of an unreachable block.
    None,
    /// Register `n` of the value's class.
    Reg(u8),
    /// Stack slot `n` (8 bytes each, shared by words and doubles).
    Slot(u32),
}

/// A compare that the guard or branch reading it evaluates (as a compare and a jump).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Condition {
    /// An `FCmp` (else an `ICmp`).
    pub float: bool,
    pub cond: Cond,
    pub a: Value,
    pub b: Value,
    /// The consumer reads the opposite of the compare (`icmp.eq c, 0` of a compare `c`).
    pub negated: bool,
}

/// What a guard or branch evaluates itself: a compare, or the `and` of two compares (as two
/// compares and jumps: the type checks of two operands, the two versions a global load
/// checks).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fused {
    pub first: Condition,
    /// The other compare of an `and`: the condition holds when both do.
    pub and: Option<Condition>,
}

impl Fused {
    /// The values the consumer reads in place of the one it names.
    pub fn operands(&self) -> impl Iterator<Item = Value> + '_ {
        std::iter::once(&self.first).chain(&self.and).flat_map(|c| [c.a, c.b])
    }
}

/// The allocation of one function.
#[derive(Clone, Debug)]
pub struct Allocation {
    /// The blocks reachable from the entry, in the order to emit them (the entry first).
    pub order: Vec<Block>,
    /// Where each value lives, by value number.
    pub locs: Vec<Loc>,
    /// Number of stack slots.
    pub slots: u32,
    /// The conditions of guards and branches that evaluate their compare, keyed by the value
    /// they read.
    pub fused: HashMap<Value, Fused>,
    /// Stores that add a constant to the word they overwrite (`store p+k, (load p+k) + c`),
    /// by the store's value number: the backend adds `c` in memory; the load and the sum take
    /// no location.
    pub increments: Vec<Option<i32>>,
    /// Values that the fused compare reading them reads in memory, at `(width, base,
    /// offset)`: sums of `increments` that the branch ending their block compares with zero
    /// (a reference count's decrement, then "was it the last?"), and loads compared with a
    /// constant and read nowhere else (a type, a version tag, a flag: `cmp [p+k], c`). By
    /// value number.
    pub in_memory: Vec<InMemory>,
}

/// Where a fused compare reads a value in memory: its width, base and offset.
pub type InMemory = Option<(ir::Mem, Value, i32)>;

impl Allocation {
    /// The constant the store `v` adds to the word it overwrites, if it is an increment.
    pub fn increment(&self, v: Value) -> Option<i32> {
        self.increments[v.0 as usize]
    }

    /// Where a fused compare reads `v` in memory, if it does.
    pub fn in_memory(&self, v: Value) -> InMemory {
        self.in_memory[v.0 as usize]
    }

    /// Where the consumer of a fused condition reads `v`: its base, for a value in memory.
    pub fn read_of(&self, v: Value) -> Value {
        read_of(&self.in_memory, v)
    }
}

/// Where the consumer of a fused condition reads `v`, given the values in memory.
fn read_of(in_memory: &[InMemory], v: Value) -> Value {
    in_memory[v.0 as usize].map_or(v, |(_, base, _)| base)
}

/// The value of `v` if it is an integer constant.
fn constant(f: &Function, v: Value) -> Option<i64> {
    match f.inst(v).op {
        Op::IConst(c) => Some(c),
        _ => None,
    }
}

/// One read of a value: in which block, at which position, and whether it weighs as a use
/// in the hot path (exits do not).
#[derive(Clone, Copy)]
struct Read {
    block: u32,
    at: u32,
    hot: bool,
}

/// Allocates `f` (which verifies) to the registers `regs`.
pub fn allocate(f: &Function, regs: &Registers) -> Allocation {
    let layout = Layout::new(f);
    let n = f.insts.len();
    let nblocks = f.blocks.len();

    // Positions in block order: a block's parameters are defined at its start; instruction
    // `i` reads its operands at `pos[i]` and defines its result (and reads the snapshot it
    // may leave through) at `pos[i] + 1`; the terminator reads at `term[b]`, and the values
    // live out of the block are live at `term[b] + 1`.
    let mut start = vec![0u32; nblocks];
    let mut term = vec![0u32; nblocks];
    let mut pos = vec![0u32; n];
    let mut def_block = vec![u32::MAX; n];
    let mut t = 0;
    for &b in &layout.order {
        let data = f.block(b);
        start[b.0 as usize] = t;
        t += 2;
        for &p in &data.params {
            def_block[p.0 as usize] = b.0;
            pos[p.0 as usize] = start[b.0 as usize];
        }
        for &v in &data.insts {
            def_block[v.0 as usize] = b.0;
            pos[v.0 as usize] = t;
            t += 2;
        }
        term[b.0 as usize] = t;
        t += 2;
    }
    let def_pos = |v: Value| {
        let p = pos[v.0 as usize];
        if matches!(f.inst(v).op, Op::BlockParam(..)) {
            p
        } else {
            p + 1
        }
    };

    let count = read_counts(f, &layout.order);
    let (fused, mut absorbed) = fuse_compares(f, &layout.order, &def_block, &count);
    let (increments, mut in_memory) = fuse_increments(f, &layout.order, &def_block, &pos, &count, &fused, &mut absorbed);
    fuse_loads(f, &layout.order, &def_block, &pos, &term, &count, &fused, &mut absorbed, &mut in_memory);
    let consumer_reads = |v: Value| read_of(&in_memory, v);

    // Every read of a value from reachable code, in block order.
    let mut reads: Vec<(u32, Read)> = Vec::with_capacity(2 * n);
    let mut calls = Vec::new();
    for &b in &layout.order {
        let data = f.block(b);
        let block = b.0;
        let mut read = |v: Value, at: u32, hot: bool| reads.push((v.0, Read { block, at, hot }));
        for &v in &data.insts {
            let at = pos[v.0 as usize];
            let op = &f.inst(v).op;
            match op {
                _ if absorbed[v.0 as usize] => {}
                Op::Guard { cond, .. } if fused.contains_key(cond) => fused[cond].operands().for_each(|o| read(consumer_reads(o), at, true)),
                Op::Store(_, base, ..) if increments[v.0 as usize].is_some() => read(*base, at, true),
                _ => each_operand(op, |o| read(o, at, true)),
            }
            if let Some(s) = op.snapshot() {
                f.snapshot(s).exit_values().for_each(|o| read(o, at + 1, false));
            }
            if matches!(op, Op::Call { .. }) {
                calls.push(at);
            }
        }
        let at = term[block as usize];
        match &data.term {
            Terminator::Branch { cond, .. } if fused.contains_key(cond) => fused[cond].operands().for_each(|o| read(consumer_reads(o), at, true)),
            Terminator::Branch { cond, .. } => read(*cond, at, true),
            Terminator::Return(v) => read(*v, at, true),
            Terminator::Exit(s) => f.snapshot(*s).exit_values().for_each(|o| read(o, at, false)),
            Terminator::Jump(_) => {}
        }
        for call in edges(&data.term) {
            call.args.iter().for_each(|&a| read(a, at, true));
        }
    }
    let reads = Table::new(n, reads);

    // Live ranges, by path exploration from each use back to the definition: a value is
    // live from the start of each block it is live into, and to the end of each block it is
    // live out of (a predecessor of such a block), else to its last use there.
    let mut intervals = Vec::with_capacity(n);
    let mut ranges: Vec<(u32, u32)> = Vec::with_capacity(2 * n);
    let mut live_in = vec![u32::MAX; nblocks];
    let mut live_out = vec![u32::MAX; nblocks];
    let mut last_use = vec![0u32; nblocks];
    let (mut blocks, mut work, mut pieces) = (Vec::new(), Vec::new(), Vec::new());
    let weight = |block: u32| 10u64.pow(layout.depth[block as usize].min(6));
    // Values by where they are defined, so that the intervals come out sorted by start (a
    // block's parameters all start at its start: by value number among them), as the scan
    // needs them, without sorting them.
    let mut by_definition = Vec::with_capacity(n);
    for &b in &layout.order {
        let data = f.block(b);
        let first = by_definition.len();
        by_definition.extend_from_slice(&data.params);
        by_definition[first..].sort_unstable();
        by_definition.extend_from_slice(&data.insts);
    }
    for v in by_definition {
        let i = v.0 as usize;
        let value_reads = reads.get(i);
        let Some(ty) = f.value_type(v) else { continue };
        if def_block[i] == u32::MAX
            || value_reads.is_empty()
            || absorbed[i]
            || matches!(f.inst(v).op, Op::IConst(_) | Op::FConst(_))
        {
            continue;
        }
        let stamp = i as u32;
        let db = def_block[i];
        let mut w = weight(db);
        blocks.clear();
        blocks.push(db);
        last_use[db as usize] = def_pos(v);
        for r in value_reads {
            if r.hot {
                w = w.saturating_add(weight(r.block));
            }
            if r.block != db && live_in[r.block as usize] != stamp {
                live_in[r.block as usize] = stamp;
                last_use[r.block as usize] = r.at;
                blocks.push(r.block);
                work.push(r.block);
            }
            last_use[r.block as usize] = last_use[r.block as usize].max(r.at);
        }
        while let Some(x) = work.pop() {
            for &p in layout.preds.get(x as usize) {
                live_out[p as usize] = stamp;
                if p != db && live_in[p as usize] != stamp {
                    live_in[p as usize] = stamp;
                    last_use[p as usize] = 0;
                    blocks.push(p);
                    work.push(p);
                }
            }
        }
        // The blocks in order: sorted when few, picked from the whole order when many (a
        // value live almost everywhere costs no more than a pass over the blocks).
        if blocks.len() * 8 < layout.order.len() {
            blocks.sort_unstable_by_key(|&b| start[b as usize]);
        } else {
            blocks.clear();
            let live = |b: u32| b == db || live_in[b as usize] == stamp;
            blocks.extend(layout.order.iter().map(|b| b.0).filter(|&b| live(b)));
        }
        pieces.clear();
        pieces.extend(blocks.iter().map(|&b| {
            let from = if b == db { def_pos(v) } else { start[b as usize] };
            let to = if live_out[b as usize] == stamp { term[b as usize] + 1 } else { last_use[b as usize] };
            (from, to)
        }));
        // Blocks that follow each other make one range.
        let first = ranges.len();
        for &(from, to) in &pieces {
            match ranges[first..].last_mut() {
                Some(last) if from <= last.1 + 2 => last.1 = last.1.max(to),
                _ => ranges.push((from, to)),
            }
        }
        let own = &ranges[first..];
        // Live across a call: live where it reads its arguments and where it defines its result.
        let crosses_call = own.iter().any(|&(from, to)| {
            let next = calls.partition_point(|&c| c < from);
            calls.get(next).is_some_and(|&c| c < to)
        });
        intervals.push(Interval {
            value: v,
            class: Class::of(ty),
            start: own[0].0,
            end: own[own.len() - 1].1,
            ranges: first as u32..ranges.len() as u32,
            crosses_call,
            weight: w,
        });
    }
    debug_assert!(intervals.is_sorted_by_key(|iv| (iv.start, iv.value)));

    let hints = copy_partners(f, &layout.order);
    let mut locs = vec![Loc::None; n];
    let spilled = scan(f, regs, &intervals, &ranges, &hints, &mut locs);
    let slots = assign_slots(&intervals, spilled, &mut locs);
    Allocation { order: layout.order, locs, slots, fused, increments, in_memory }
}

/// Lists of items by key `0..n`, in one allocation (built by a counting sort, which keeps
/// the items of a key in the order they came).
struct Table<T> {
    first: Vec<u32>,
    items: Vec<T>,
}

impl<T: Copy> Table<T> {
    fn new(n: usize, pairs: Vec<(u32, T)>) -> Table<T> {
        let mut first = vec![0u32; n + 1];
        for &(k, _) in &pairs {
            first[k as usize + 1] += 1;
        }
        for k in 0..n {
            first[k + 1] += first[k];
        }
        let mut next = first.clone();
        // Every item is overwritten; the first one stands in until then.
        let mut items = pairs.first().map(|&(_, item)| vec![item; pairs.len()]).unwrap_or_default();
        for (k, item) in pairs {
            items[next[k as usize] as usize] = item;
            next[k as usize] += 1;
        }
        Table { first, items }
    }

    fn get(&self, k: usize) -> &[T] {
        &self.items[self.first[k] as usize..self.first[k + 1] as usize]
    }
}

/// Calls `f` on each operand of `op` (as [`Op::operands`], without a vector).
fn each_operand(op: &Op, mut f: impl FnMut(Value)) {
    match op {
        Op::Param(_) | Op::BlockParam(..) | Op::IConst(_) | Op::FConst(_) => {}
        Op::Load(_, b, _) => f(*b),
        Op::Store(_, b, _, v) => {
            f(*b);
            f(*v);
        }
        Op::Int(_, a, b) | Op::Checked(_, a, b, _) | Op::Float(_, a, b) | Op::ICmp(_, a, b) | Op::FCmp(_, a, b) => {
            f(*a);
            f(*b);
        }
        Op::NegChecked(a, _) | Op::FNeg(a) | Op::IntToFloat(a) => f(*a),
        Op::Select(c, a, b) => {
            f(*c);
            f(*a);
            f(*b);
        }
        Op::Call { args, .. } => args.iter().copied().for_each(f),
        Op::Guard { cond, .. } => f(*cond),
    }
}

/// The jumps a terminator makes (as [`Terminator::successors`], without a vector).
fn edges(term: &Terminator) -> impl Iterator<Item = &BlockCall> {
    let (first, second) = match term {
        Terminator::Jump(call) => (Some(call), None),
        Terminator::Branch { then, otherwise, .. } => (Some(then), Some(otherwise)),
        Terminator::Return(_) | Terminator::Exit(_) => (None, None),
    };
    first.into_iter().chain(second)
}

/// Where a value is live: `ranges` indexes its ranges of positions (as in [`allocate`], both
/// ends included, sorted and disjoint, with holes between them) in a shared vector.
#[derive(Clone, Debug)]
struct Interval {
    value: Value,
    class: Class,
    ranges: std::ops::Range<u32>,
    /// The first and last positions of the ranges.
    start: u32,
    end: u32,
    crosses_call: bool,
    weight: u64,
}

impl Interval {
    /// Spill order: the lightest first, then the one that ends last.
    fn spill_key(&self) -> (u64, Reverse<u32>) {
        (self.weight, Reverse(self.end))
    }

    /// Whether the two are live at some common position (`all` holds the ranges).
    fn intersects(&self, other: &Interval, all: &[(u32, u32)]) -> bool {
        if self.end < other.start || other.end < self.start {
            return false;
        }
        let a = &all[self.ranges.start as usize..self.ranges.end as usize];
        let b = &all[other.ranges.start as usize..other.ranges.end as usize];
        // Skip the ranges that end before the other interval starts.
        let mut i = a.partition_point(|r| r.1 < other.start);
        let mut j = b.partition_point(|r| r.1 < self.start);
        while i < a.len() && j < b.len() {
            if a[i].1 < b[j].0 {
                i += 1;
            } else if b[j].1 < a[i].0 {
                j += 1;
            } else {
                return true;
            }
        }
        false
    }
}

/// Linear scan over `intervals` (sorted by start): registers into `locs`; gives the indices of
/// the intervals left for the stack. A register is free for an interval when none of the
/// intervals it holds that have not ended intersects it (one may sit in its hole).
fn scan(
    f: &Function,
    regs: &Registers,
    intervals: &[Interval],
    ranges: &[(u32, u32)],
    hints: &Table<Value>,
    locs: &mut [Loc],
) -> Vec<usize> {
    // For each class and register, the intervals it holds (those that ended are dropped
    // whenever the register takes a new one).
    let mut held: [Vec<Vec<usize>>; 2] = [vec![Vec::new(); regs.word.len()], vec![Vec::new(); regs.double.len()]];
    let mut spilled = Vec::new();
    for (i, iv) in intervals.iter().enumerate() {
        let saved = regs.class(iv.class);
        let held = &mut held[iv.class as usize];
        let allowed = |r: usize| !iv.crosses_call || saved[r];
        let free = |r: usize| allowed(r) && held[r].iter().all(|&j| !intervals[j].intersects(iv, ranges));
        // Preferred: the register of a copy partner or of the first operand.
        let hinted = hints.get(iv.value.0 as usize).iter().copied().chain(first_operand(f, iv.value)).find_map(|h| {
            let same_class = f.value_type(h).map(Class::of) == Some(iv.class);
            match locs[h.0 as usize] {
                Loc::Reg(r) if same_class && free(r as usize) => Some(r as usize),
                _ => None,
            }
        });
        // Else a free register, caller-saved ones first (the others cost a save and are
        // what values live across calls need).
        let by_preference = (0..saved.len()).filter(|&r| !saved[r]).chain((0..saved.len()).filter(|&r| saved[r]));
        let chosen = hinted.or_else(|| by_preference.clone().find(|&r| free(r))).or_else(|| {
            // Else the register whose conflicting values are cheapest to spill, if they are
            // cheaper than this one.
            let (r, key) = by_preference
                .filter(|&r| allowed(r))
                .map(|r| {
                    let conflicts = held[r].iter().map(|&j| &intervals[j]).filter(|other| other.intersects(iv, ranges));
                    let (weight, end) =
                        conflicts.fold((0u64, 0u32), |(w, e), o| (w.saturating_add(o.weight), e.max(o.end)));
                    (r, (weight, Reverse(end)))
                })
                .min_by_key(|&(_, key)| key)?;
            if key >= iv.spill_key() {
                return None;
            }
            held[r].retain(|&j| {
                if intervals[j].intersects(iv, ranges) {
                    locs[intervals[j].value.0 as usize] = Loc::None;
                    spilled.push(j);
                    false
                } else {
                    true
                }
            });
            Some(r)
        });
        match chosen {
            Some(r) => {
                held[r].retain(|&j| intervals[j].end >= iv.start);
                held[r].push(i);
                locs[iv.value.0 as usize] = Loc::Reg(r as u8);
            }
            None => spilled.push(i),
        }
    }
    spilled
}

/// Gives each spilled interval a stack slot, sharing slots between intervals whose extents
/// (first to last position) do not overlap.
fn assign_slots(intervals: &[Interval], mut spilled: Vec<usize>, locs: &mut [Loc]) -> u32 {
    spilled.sort_unstable();
    let mut busy: BinaryHeap<Reverse<(u32, u32)>> = BinaryHeap::new();
    let mut free = Vec::new();
    let mut slots = 0;
    for i in spilled {
        let iv = &intervals[i];
        while let Some(&Reverse((end, slot))) = busy.peek() {
            if end >= iv.start {
                break;
            }
            busy.pop();
            free.push(slot);
        }
        let slot = free.pop().unwrap_or_else(|| {
            slots += 1;
            slots - 1
        });
        locs[iv.value.0 as usize] = Loc::Slot(slot);
        busy.push(Reverse((iv.end, slot)));
    }
    slots
}

/// The operand whose register suits the result of a two-address instruction (`d = a op b`
/// computes in place when `d` and `a` share a register).
fn first_operand(f: &Function, v: Value) -> Option<Value> {
    match f.inst(v).op {
        Op::Int(_, a, _) | Op::Checked(_, a, _, _) | Op::Float(_, a, _) => Some(a),
        Op::NegChecked(a, _) | Op::FNeg(a) => Some(a),
        _ => None,
    }
}

/// For each value, the values an edge copies it to or from (block parameters and their
/// arguments): sharing a register with them makes the copy free.
fn copy_partners(f: &Function, order: &[Block]) -> Table<Value> {
    let mut pairs = Vec::new();
    for &b in order {
        for call in edges(&f.block(b).term) {
            for (&arg, &param) in call.args.iter().zip(&f.block(call.block).params) {
                pairs.push((arg.0, param));
                pairs.push((param.0, arg));
            }
        }
    }
    Table::new(f.insts.len(), pairs)
}

/// How many times reachable code reads each value (operands, snapshots, terminators, edge
/// arguments).
fn read_counts(f: &Function, order: &[Block]) -> Vec<u32> {
    let mut count = vec![0u32; f.insts.len()];
    let mut counted = |v: Value| count[v.0 as usize] += 1;
    for &b in order {
        let data = f.block(b);
        for &v in &data.insts {
            let op = &f.inst(v).op;
            each_operand(op, &mut counted);
            if let Some(s) = op.snapshot() {
                f.snapshot(s).exit_values().for_each(&mut counted);
            }
        }
        match &data.term {
            Terminator::Branch { cond: v, .. } | Terminator::Return(v) => counted(*v),
            Terminator::Exit(s) => f.snapshot(*s).exit_values().for_each(&mut counted),
            Terminator::Jump(_) => {}
        }
        edges(&data.term).for_each(|call| call.args.iter().copied().for_each(&mut counted));
    }
    count
}

/// The compares that the guard or branch reading them evaluates: those read only by a guard
/// or branch of their own block, seen through `icmp.ne c, 0` and `icmp.eq c, 0` of such a
/// compare `c`, and the `and` of two such compares. Gives the conditions by the value the
/// consumer reads, and which compares need no code of their own.
fn fuse_compares(f: &Function, order: &[Block], def_block: &[u32], count: &[u32]) -> (HashMap<Value, Fused>, Vec<bool>) {
    let mut fused = HashMap::new();
    let mut absorbed = vec![false; f.insts.len()];
    for &b in order {
        let data = f.block(b);
        let guards = data.insts.iter().filter_map(|&v| match f.inst(v).op {
            Op::Guard { cond, .. } => Some(cond),
            _ => None,
        });
        let branch = match data.term {
            Terminator::Branch { cond, .. } => Some(cond),
            _ => None,
        };
        for cond in guards.chain(branch) {
            let mut chain = Vec::new();
            if let Some(c) = condition(f, cond, b, def_block, count, &mut chain) {
                fused.insert(cond, Fused { first: c, and: None });
            } else if let Some(both) = conjunction(f, cond, b, def_block, count, &mut chain) {
                fused.insert(cond, both);
            }
            chain.iter().for_each(|v| absorbed[v.0 as usize] = true);
        }
    }
    (fused, absorbed)
}

/// The condition that `v` computes, if it is a compare of block `b` read once; `chain`
/// collects the compares it looks through.
fn condition(
    f: &Function,
    v: Value,
    b: Block,
    def_block: &[u32],
    count: &[u32],
    chain: &mut Vec<Value>,
) -> Option<Condition> {
    if count[v.0 as usize] != 1 || def_block[v.0 as usize] != b.0 {
        return None;
    }
    let is_zero = |x: Value| constant(f, x) == Some(0);
    chain.push(v);
    match f.inst(v).op {
        Op::ICmp(cond @ (Cond::Eq | Cond::Ne), x, y) if is_zero(x) || is_zero(y) => {
            let inner_value = if is_zero(y) { x } else { y };
            let depth = chain.len();
            if let Some(inner) = condition(f, inner_value, b, def_block, count, chain) {
                return Some(Condition { negated: inner.negated ^ (cond == Cond::Eq), ..inner });
            }
            chain.truncate(depth);
            Some(Condition { float: false, cond, a: x, b: y, negated: false })
        }
        Op::ICmp(cond, a, b) => Some(Condition { float: false, cond, a, b, negated: false }),
        Op::FCmp(cond @ (Cond::Eq | Cond::Ne | Cond::Lt | Cond::Le | Cond::Gt | Cond::Ge), a, b) => {
            Some(Condition { float: true, cond, a, b, negated: false })
        }
        _ => {
            chain.pop();
            None
        }
    }
}

/// The stores of a word changed by a constant: `store.i64 p+k, s` where `s = add|sub l, c`
/// and `l = load.i64 p+k` are read only there, in the store's block, with no store or call
/// between the load and the store (nothing else can write the word meanwhile). The sum may
/// also be compared with zero by the branch ending the block if the store is the block's
/// last store or call: that compare then reads the word in memory. Marks the load and the
/// sum absorbed; gives the constant added by store, and the sums in memory.
#[allow(clippy::type_complexity)]
fn fuse_increments(
    f: &Function,
    order: &[Block],
    def_block: &[u32],
    pos: &[u32],
    count: &[u32],
    fused: &HashMap<Value, Fused>,
    absorbed: &mut [bool],
) -> (Vec<Option<i32>>, Vec<InMemory>) {
    let is_zero = |v: Value| constant(f, v) == Some(0);
    let immediate = |v: Value| constant(f, v).and_then(|c| i32::try_from(c).ok());
    let mut increments = vec![None; f.insts.len()];
    let mut in_memory = vec![None; f.insts.len()];
    for &b in order {
        let data = f.block(b);
        // The sum the branch ending the block compares with zero, if any.
        let tested = match data.term {
            Terminator::Branch { cond, .. } => fused.get(&cond).and_then(|c| match *c {
                Fused { first: Condition { float: false, cond: Cond::Eq | Cond::Ne, a, b, .. }, and: None } => {
                    if is_zero(b) { Some(a) } else if is_zero(a) { Some(b) } else { None }
                }
                _ => None,
            }),
            _ => None,
        };
        // The position of the block's last store or call so far, and the increment of the
        // tested sum, while no store or call follows it.
        let (mut barrier, mut tested_store) = (None, None);
        for &v in &data.insts {
            let op = &f.inst(v).op;
            if let Op::Store(ir::Mem::I64, base, off, sum) = *op {
                let here = |x: Value| def_block[x.0 as usize] == b.0;
                let only_here = |x: Value| count[x.0 as usize] == 1 && here(x);
                let also_tested = Some(sum) == tested && count[sum.0 as usize] == 2 && here(sum);
                let delta = match f.inst(sum).op {
                    Op::Int(IntOp::Add, x, y) => immediate(y).map(|c| (x, c)).or_else(|| immediate(x).map(|c| (y, c))),
                    Op::Int(IntOp::Sub, l, c) => immediate(c).and_then(|c| c.checked_neg()).map(|c| (l, c)),
                    _ => None,
                };
                if let Some((load, c)) = delta {
                    let fits = only_here(load)
                        && f.inst(load).op == Op::Load(ir::Mem::I64, base, off)
                        && barrier.is_none_or(|q| pos[load.0 as usize] > q);
                    if fits && only_here(sum) {
                        increments[v.0 as usize] = Some(c);
                        absorbed[load.0 as usize] = true;
                        absorbed[sum.0 as usize] = true;
                    } else if fits && also_tested {
                        tested_store = Some((v, c, load, sum, base, off));
                        barrier = Some(pos[v.0 as usize]);
                        continue;
                    }
                }
            }
            if matches!(op, Op::Store(..) | Op::Call { .. }) {
                barrier = Some(pos[v.0 as usize]);
                tested_store = None;
            }
        }
        if let Some((v, c, load, sum, base, off)) = tested_store {
            increments[v.0 as usize] = Some(c);
            in_memory[sum.0 as usize] = Some((ir::Mem::I64, base, off));
            absorbed[load.0 as usize] = true;
            absorbed[sum.0 as usize] = true;
        }
    }
    (increments, in_memory)
}

/// The loads that a fused compare can read in memory: a load read only by the compare, in the
/// consumer's block with no store or call between it and the consumer, compared with what the
/// compare of the loaded width decides alike: for a full word, any value (a constant or one
/// in a register: `cmp r, [p+k]`, the two versions a global load checks); for a narrower
/// load, equal or not with a constant of its range. Marks them absorbed.
#[allow(clippy::too_many_arguments)]
fn fuse_loads(
    f: &Function,
    order: &[Block],
    def_block: &[u32],
    pos: &[u32],
    term: &[u32],
    count: &[u32],
    fused: &HashMap<Value, Fused>,
    absorbed: &mut [bool],
    in_memory: &mut [InMemory],
) {
    use ir::Mem;
    let decided_alike = |mem: Mem, cond: Cond, k: i64| match mem {
        Mem::I64 => true,
        _ if !matches!(cond, Cond::Eq | Cond::Ne) => false,
        Mem::I32 => i32::try_from(k).is_ok(),
        Mem::U32 => u32::try_from(k).is_ok(),
        Mem::U16 => u16::try_from(k).is_ok(),
        Mem::U8 => u8::try_from(k).is_ok(),
        Mem::F64 => false,
    };
    let mut barriers = Vec::new();
    for &b in order {
        let data = f.block(b);
        barriers.clear();
        barriers.extend(
            data.insts.iter().filter(|&&v| matches!(f.inst(v).op, Op::Store(..) | Op::Call { .. })).map(|&v| pos[v.0 as usize]),
        );
        let guards = data.insts.iter().filter_map(|&v| match f.inst(v).op {
            Op::Guard { cond, .. } => Some((cond, pos[v.0 as usize])),
            _ => None,
        });
        let branch = match data.term {
            Terminator::Branch { cond, .. } => Some((cond, term[b.0 as usize])),
            _ => None,
        };
        for (cond, at) in guards.chain(branch) {
            let Some(both) = fused.get(&cond) else { continue };
            for c in std::iter::once(&both.first).chain(&both.and).filter(|c| !c.float) {
                for (x, y) in [(c.a, c.b), (c.b, c.a)] {
                    let Op::Load(mem, base, off) = f.inst(x).op else { continue };
                    let other = match constant(f, y) {
                        Some(k) => decided_alike(mem, c.cond, k),
                        None => mem == Mem::I64 && in_memory[y.0 as usize].is_none(),
                    };
                    let fits = count[x.0 as usize] == 1
                        && def_block[x.0 as usize] == b.0
                        && !absorbed[x.0 as usize]
                        && other
                        && !barriers.iter().any(|&p| p > pos[x.0 as usize] && p < at);
                    if fits {
                        absorbed[x.0 as usize] = true;
                        in_memory[x.0 as usize] = Some((mem, base, off));
                        break;
                    }
                }
            }
        }
    }
}

/// The `and` of two compares that `v` computes, if it is an `and` of block `b` read once
/// whose operands are compares `condition` accepts; `chain` collects what it absorbs.
fn conjunction(
    f: &Function,
    v: Value,
    b: Block,
    def_block: &[u32],
    count: &[u32],
    chain: &mut Vec<Value>,
) -> Option<Fused> {
    let Op::Int(IntOp::And, x, y) = f.inst(v).op else { return None };
    if count[v.0 as usize] != 1 || def_block[v.0 as usize] != b.0 || x == y {
        return None;
    }
    let mut absorbed = vec![v];
    let first = condition(f, x, b, def_block, count, &mut absorbed)?;
    let second = condition(f, y, b, def_block, count, &mut absorbed)?;
    chain.extend(absorbed);
    Some(Fused { first, and: Some(second) })
}

/// Block order and loop depths.
struct Layout {
    /// Reachable blocks, in emission order.
    order: Vec<Block>,
    /// Reachable predecessors of each block, by block number (with repeats for branches with
    /// both arms to it).
    preds: Table<u32>,
    /// Number of natural loops each block is in.
    depth: Vec<u32>,
}

impl Layout {
    fn new(f: &Function) -> Layout {
        let nblocks = f.blocks.len();
        let succ = |b: Block, i: usize| edges(&f.block(b).term).nth(i).map(|c| c.block);
        let (first_walk, back_edges) = depth_first(nblocks, succ);
        let mut pairs = Vec::new();
        for &b in &first_walk {
            edges(&f.block(b).term).for_each(|c| pairs.push((c.block.0, b.0)));
        }
        let preds = Table::new(nblocks, pairs);
        // Natural loops: each header with the blocks that reach one of its back edges
        // without passing through it.
        let mut depth = vec![0u32; nblocks];
        let mut mark = vec![u32::MAX; nblocks];
        let mut back_edges = back_edges;
        back_edges.sort_unstable_by_key(|&(_, header)| header);
        let mut work = Vec::new();
        for loop_edges in back_edges.chunk_by(|x, y| x.1 == y.1) {
            let h = loop_edges[0].1;
            mark[h.0 as usize] = h.0;
            depth[h.0 as usize] += 1;
            work.extend(loop_edges.iter().map(|&(from, _)| from.0));
            while let Some(x) = work.pop() {
                if mark[x as usize] == h.0 {
                    continue;
                }
                mark[x as usize] = h.0;
                depth[x as usize] += 1;
                work.extend(preds.get(x as usize).iter().copied().filter(|&p| mark[p as usize] != h.0));
            }
        }
        // Visiting the successor in the deeper loop last puts it right after its
        // predecessor, which keeps loop bodies together and exits after them.
        let by_depth = |b: Block, i: usize| {
            let (first, second) = (succ(b, 0), succ(b, 1));
            let swap = matches!((first, second), (Some(x), Some(y)) if depth[x.0 as usize] > depth[y.0 as usize]);
            let ordered = if swap { [second, first] } else { [first, second] };
            ordered.get(i).copied().flatten()
        };
        let (order, _) = depth_first(nblocks, by_depth);
        Layout { order, preds, depth }
    }
}

/// A depth-first walk from `b0` over the `i`-th successors `succ(b, i)`: the reverse
/// post-order, and the edges to a block on the walk's stack (back edges).
fn depth_first(nblocks: usize, succ: impl Fn(Block, usize) -> Option<Block>) -> (Vec<Block>, Vec<(Block, Block)>) {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        New,
        Open,
        Done,
    }
    let mut state = vec![State::New; nblocks];
    let mut post = Vec::with_capacity(nblocks);
    let mut back_edges = Vec::new();
    if nblocks == 0 {
        return (post, back_edges);
    }
    let mut stack = vec![(Block(0), 0usize)];
    state[0] = State::Open;
    while let Some((b, next)) = stack.last_mut() {
        let b = *b;
        if let Some(s) = succ(b, *next) {
            *next += 1;
            match state[s.0 as usize] {
                State::New => {
                    state[s.0 as usize] = State::Open;
                    stack.push((s, 0));
                }
                State::Open => back_edges.push((b, s)),
                State::Done => {}
            }
        } else {
            state[b.0 as usize] = State::Done;
            post.push(b);
            stack.pop();
        }
    }
    post.reverse();
    (post, back_edges)
}

/// Orders a parallel copy: `moves` are `(from, to)` pairs with distinct `to`s, to happen all
/// at once; the result does the same one move after the other. `temp` (named by no move)
/// holds one value while a cycle of moves is broken.
pub fn sequentialize<L: Copy + PartialEq>(moves: &[(L, L)], temp: L) -> Vec<(L, L)> {
    let mut pending: Vec<(L, L)> = moves.iter().copied().filter(|(from, to)| from != to).collect();
    let mut out = Vec::with_capacity(pending.len() + 1);
    loop {
        // Any move whose destination no other move still reads can go now.
        let mut i = 0;
        while i < pending.len() {
            let to = pending[i].1;
            if pending.iter().any(|&(from, _)| from == to) {
                i += 1;
            } else {
                out.push(pending.remove(i));
                i = 0;
            }
        }
        let Some(&(_, to)) = pending.first() else { return out };
        // Only cycles are left: save one destination's value, which unblocks its cycle.
        out.push((to, temp));
        for m in &mut pending {
            if m.0 == to {
                m.0 = temp;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ir::{Builder, CheckedOp, Effect, ExitKind, FloatOp, HelperDecl, IntOp, Kind, SnapshotEntry, SnapshotId};
    use std::collections::HashSet;

    /// The helpers of the test functions: never run, so any address will do.
    const WORD: HelperDecl = HelperDecl::new("word", Effect::Pure);
    const BITS: HelperDecl = HelperDecl::new("bits", Effect::Pure);

    /// Two caller-saved and two callee-saved words, three doubles: spills come early.
    const FEW: Registers<'static> = Registers { word: &[false, false, true, true], double: &[false, false, false] };
    /// As many registers as the dynasm backend has.
    const MANY: Registers<'static> =
        Registers { word: &[false, false, false, false, false, true, true, true, true, true], double: &[false; 14] };

    fn class_of(f: &Function, v: Value) -> Class {
        Class::of(f.value_type(v).expect("a value"))
    }

    fn is_constant(f: &Function, v: Value) -> bool {
        matches!(f.inst(v).op, Op::IConst(_) | Op::FConst(_))
    }

    /// Whether the backend emits `v` (pure instructions without a location are left out).
    fn emitted(f: &Function, a: &Allocation, v: Value) -> bool {
        let effect = matches!(
            f.inst(v).op,
            Op::Store(..) | Op::Checked(..) | Op::NegChecked(..) | Op::Call { .. } | Op::Guard { .. }
        );
        effect || a.locs[v.0 as usize] != Loc::None
    }

    /// The values an emitted instruction reads where they live (constants aside).
    fn reads(f: &Function, a: &Allocation, v: Value) -> Vec<Value> {
        let op = &f.inst(v).op;
        let read = match op {
            Op::Guard { cond, .. } if a.fused.contains_key(cond) => a.fused[cond].operands().map(|o| a.read_of(o)).collect(),
            Op::Store(_, base, ..) if a.increment(v).is_some() => vec![*base],
            _ => op.operands(),
        };
        read.into_iter().filter(|&x| !is_constant(f, x)).collect()
    }

    fn snapshot_reads(f: &Function, s: Option<SnapshotId>) -> Vec<Value> {
        s.map(|s| f.snapshot(s).exit_values().filter(|&x| !is_constant(f, x)).collect()).unwrap_or_default()
    }

    /// Checks that the values in `live` have a location each and that no two share one.
    fn distinct(f: &Function, a: &Allocation, live: &HashSet<Value>, at: &str) {
        let mut owner: HashMap<(Option<Class>, Loc), Value> = HashMap::new();
        for &v in live {
            let loc = a.locs[v.0 as usize];
            assert_ne!(loc, Loc::None, "{}: {v} is live at {at} but has no location", f.name);
            let key = match loc {
                Loc::Reg(_) => (Some(class_of(f, v)), loc),
                _ => (None, loc),
            };
            if let Some(other) = owner.insert(key, v) {
                panic!("{}: {v} and {other} are both live at {at} in {loc:?}\n{}", f.name, ir::text::print(f));
            }
        }
    }

    /// Checks an allocation against liveness computed independently (iterated to a fixed
    /// point, instruction by instruction): values live at the same point have distinct
    /// locations, a result does not overwrite a value live after it or saved by its snapshot,
    /// values live across a call are in callee-saved registers or slots, and a jump's
    /// parameter copies overwrite nothing live into the target.
    fn check(f: &Function, regs: &Registers, a: &Allocation) {
        let located_params = |b: Block| -> Vec<Value> {
            f.block(b).params.iter().copied().filter(|p| a.locs[p.0 as usize] != Loc::None).collect()
        };
        let live_out = |b: Block, live_in: &HashMap<Block, HashSet<Value>>| -> HashSet<Value> {
            let mut out = HashSet::new();
            for call in f.block(b).term.successors() {
                out.extend(live_in.get(&call.block).into_iter().flatten().copied());
                for (&arg, &p) in call.args.iter().zip(&f.block(call.block).params) {
                    if a.locs[p.0 as usize] != Loc::None && !is_constant(f, arg) {
                        out.insert(arg);
                    }
                }
            }
            out
        };
        // Walks a block backwards from what is live out of it; checks when asked.
        let walk = |b: Block, mut live: HashSet<Value>, checking: bool| -> HashSet<Value> {
            let data = f.block(b);
            let term_reads: Vec<Value> = match &data.term {
                Terminator::Branch { cond, .. } if a.fused.contains_key(cond) => a.fused[cond].operands().map(|o| a.read_of(o)).collect(),
                Terminator::Branch { cond, .. } => vec![*cond],
                Terminator::Return(v) => vec![*v],
                Terminator::Exit(s) => f.snapshot(*s).exit_values().collect(),
                Terminator::Jump(_) => vec![],
            };
            live.extend(term_reads.into_iter().filter(|&x| !is_constant(f, x)));
            if checking {
                distinct(f, a, &live, &format!("the end of {b}"));
            }
            for &v in data.insts.iter().rev() {
                if !emitted(f, a, v) {
                    continue;
                }
                let snap = snapshot_reads(f, f.inst(v).op.snapshot());
                if checking {
                    let home = a.locs[v.0 as usize];
                    for &w in live.iter().chain(&snap) {
                        let same_class = Some(class_of(f, w)) == f.value_type(v).map(Class::of);
                        let clash = w != v && home != Loc::None && a.locs[w.0 as usize] == home;
                        assert!(
                            !(clash && (same_class || matches!(home, Loc::Slot(_)))),
                            "{v} overwrites {w} in {home:?}"
                        );
                    }
                    if matches!(f.inst(v).op, Op::Call { .. }) {
                        for &w in live.iter().filter(|&&w| w != v) {
                            if let Loc::Reg(r) = a.locs[w.0 as usize] {
                                assert!(
                                    regs.class(class_of(f, w))[r as usize],
                                    "{w} is live across {v} in a clobbered register"
                                );
                            }
                        }
                    }
                }
                live.remove(&v);
                live.extend(reads(f, a, v));
                live.extend(snap);
                if checking {
                    distinct(f, a, &live, &format!("{v}"));
                }
            }
            for p in &data.params {
                live.remove(p);
            }
            live
        };
        let mut live_in: HashMap<Block, HashSet<Value>> = HashMap::new();
        loop {
            let mut changed = false;
            for &b in a.order.iter().rev() {
                let new = walk(b, live_out(b, &live_in), false);
                if live_in.get(&b) != Some(&new) {
                    live_in.insert(b, new);
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        for &b in &a.order {
            walk(b, live_out(b, &live_in), true);
            for call in f.block(b).term.successors() {
                let mut entering: HashSet<Value> = live_in[&call.block].clone();
                entering.extend(located_params(call.block));
                distinct(f, a, &entering, &format!("the edge {b} -> {}", call.block));
            }
        }
        assert!(live_in[&Block(0)].is_empty(), "{}: values live into the entry block", f.name);
    }

    fn allocate_and_check(f: &Function, regs: &Registers) -> Allocation {
        ir::verify::verify(f).unwrap_or_else(|e| panic!("{} does not verify: {e}\n{}", f.name, ir::text::print(f)));
        let a = allocate(f, regs);
        check(f, regs, &a);
        a
    }

    /// `i = 1, acc = 0; while i <= n { acc += i; i += 1 }; return acc`, and its values
    /// `[n, i, acc, i <= n, acc + i, i + 1]`.
    fn sum_loop() -> (Function, [Value; 6]) {
        let mut b = Builder::new("sum", 1);
        let entry = b.create_block(&[]);
        let head = b.create_block(&[Type::I64, Type::I64]);
        let body = b.create_block(&[]);
        let done = b.create_block(&[]);
        b.switch_to(entry);
        let n = b.param(0);
        let (one, zero) = (b.iconst(1), b.iconst(0));
        b.jump(head, &[one, zero]);
        b.switch_to(head);
        let (i, acc) = (b.block_params(head)[0], b.block_params(head)[1]);
        let more = b.icmp(Cond::Le, i, n);
        b.branch(more, body, &[], done, &[]);
        b.switch_to(body);
        let acc2 = b.int(IntOp::Add, acc, i);
        let i2 = b.int(IntOp::Add, i, one);
        b.jump(head, &[i2, acc2]);
        b.switch_to(done);
        b.ret(acc);
        (b.finish(), [n, i, acc, more, acc2, i2])
    }

    #[test]
    fn loop_values_share_registers_with_their_parameters() {
        let (f, [n, i, acc, more, acc2, i2]) = sum_loop();
        let a = allocate_and_check(&f, &MANY);
        let loc = |v: Value| a.locs[v.0 as usize];
        assert!([n, i, acc, acc2, i2].iter().all(|&v| matches!(loc(v), Loc::Reg(_))), "{:?}", a.locs);
        // The compare is evaluated by the branch; constants take no location either.
        assert_eq!(loc(more), Loc::None);
        assert!(a.fused.contains_key(&more));
        assert_eq!(a.locs.iter().filter(|&&l| l == Loc::None).count(), 3);
        assert_eq!(loc(i2), loc(i), "i + 1 takes the register of i: the back edge copies nothing");
        assert_eq!(loc(acc2), loc(acc), "acc + i takes the register of acc");
        assert_eq!(a.slots, 0);
        // The body comes right after the head, the exit after the loop.
        assert_eq!(a.order, [Block(0), Block(1), Block(2), Block(3)]);
    }

    #[test]
    fn values_live_across_calls_avoid_clobbered_registers() {
        // Six words and two doubles live across a call: four callee-saved registers at most,
        // the rest and the doubles on the stack.
        let mut b = Builder::new("calls", 1);
        let entry = b.create_block(&[]);
        b.switch_to(entry);
        let x = b.param(0);
        let words: Vec<Value> = (0..6)
            .map(|k| {
                let c = b.iconst(k);
                b.int(IntOp::Add, x, c)
            })
            .collect();
        let doubles: Vec<Value> = words[..2].iter().map(|&w| b.int_to_float(w)).collect();
        let r = b.call(WORD.at(0x1000), &[words[0]], Some(Type::I64));
        let fsum = b.float(FloatOp::Add, doubles[0], doubles[1]);
        let bits = b.call(BITS.at(0x2000), &[fsum], Some(Type::I64));
        let sum = words.iter().fold(r, |acc, &w| b.int(IntOp::Add, acc, w));
        let sum = b.int(IntOp::Add, sum, bits);
        b.ret(sum);
        let f = b.finish();
        for regs in [FEW, MANY] {
            let a = allocate_and_check(&f, &regs);
            for &d in &doubles {
                assert!(matches!(a.locs[d.0 as usize], Loc::Slot(_)), "{d} lives across a call");
            }
            // The words and the first call's result all live across the second call: every
            // callee-saved register holds one of them, the others are on the stack.
            let saved: HashSet<Loc> =
                words.iter().chain([&r]).map(|w| a.locs[w.0 as usize]).filter(|l| matches!(l, Loc::Reg(_))).collect();
            assert_eq!(saved.len(), regs.word.iter().filter(|&&s| s).count());
        }
    }

    #[test]
    fn pressure_spills_the_cheapest_values() {
        // Twelve values from before a loop, read once after it; two values read in the loop.
        // With four word registers the loop's values get registers and the others the stack.
        let mut b = Builder::new("spill", 2);
        let entry = b.create_block(&[]);
        let head = b.create_block(&[Type::I64]);
        let done = b.create_block(&[]);
        b.switch_to(entry);
        let (n, x) = (b.param(0), b.param(1));
        let cold: Vec<Value> = (0..12)
            .map(|k| {
                let c = b.iconst(k);
                b.int(IntOp::Mul, x, c)
            })
            .collect();
        let zero = b.iconst(0);
        b.jump(head, &[zero]);
        b.switch_to(head);
        let i = b.block_params(head)[0];
        let one = b.iconst(1);
        let i2 = b.int(IntOp::Add, i, one);
        let more = b.icmp(Cond::Lt, i2, n);
        b.branch(more, head, &[i2], done, &[]);
        b.switch_to(done);
        let sum = cold.iter().fold(i2, |acc, &w| b.int(IntOp::Add, acc, w));
        b.ret(sum);
        let f = b.finish();
        let a = allocate_and_check(&f, &FEW);
        for v in [n, i, i2] {
            assert!(matches!(a.locs[v.0 as usize], Loc::Reg(_)), "{v} is read in the loop: {:?}", a.locs);
        }
        assert!(a.slots >= 8);
    }

    #[test]
    fn fused_compares_look_through_compares_with_zero() {
        let mut b = Builder::new("fuse", 2);
        let entry = b.create_block(&[]);
        b.switch_to(entry);
        let (x, y) = (b.param(0), b.param(1));
        let (fx, fy) = (b.int_to_float(x), b.int_to_float(y));
        let gt = b.fcmp(Cond::Gt, fx, fy);
        let zero = b.iconst(0);
        let is_false = b.icmp(Cond::Eq, gt, zero);
        let s = b.snapshot(ExitKind::Resume, 0, 0, "test", vec![]);
        b.guard(is_false, true, s);
        let lt = b.icmp(Cond::Lt, x, y);
        let used_twice = b.icmp(Cond::Ne, lt, zero);
        b.guard(used_twice, true, s);
        let r = b.int(IntOp::Add, lt, x);
        b.ret(r);
        let f = b.finish();
        let a = allocate_and_check(&f, &FEW);
        assert_eq!(a.fused[&is_false], Fused { first: Condition { float: true, cond: Cond::Gt, a: fx, b: fy, negated: true }, and: None });
        assert_eq!(a.locs[gt.0 as usize], Loc::None);
        // `lt` is also read by the add: only the outer compare is fused.
        assert_eq!(a.fused[&used_twice], Fused { first: Condition { float: false, cond: Cond::Ne, a: lt, b: zero, negated: false }, and: None });
        assert!(matches!(a.locs[lt.0 as usize], Loc::Reg(_)));
    }

    #[test]
    fn sequentialize_is_a_parallel_copy() {
        // Every map from up to four destinations to sources among four locations and two
        // constants, run on a machine that only knows one move at a time.
        #[derive(Clone, Copy, PartialEq, Debug)]
        enum L {
            Loc(usize),
            Const(u64),
            Temp,
        }
        let sources = [L::Loc(0), L::Loc(1), L::Loc(2), L::Loc(3), L::Const(100), L::Const(200)];
        for dests in 0..16u32 {
            let to: Vec<usize> = (0..4).filter(|&d| dests & (1 << d) != 0).collect();
            for choice in 0..sources.len().pow(to.len() as u32) {
                let mut c = choice;
                let moves: Vec<(L, L)> = to
                    .iter()
                    .map(|&d| {
                        let s = sources[c % sources.len()];
                        c /= sources.len();
                        (s, L::Loc(d))
                    })
                    .collect();
                let start = [10u64, 11, 12, 13];
                let mut machine = (start, 0u64);
                let read = |m: &([u64; 4], u64), l: L| match l {
                    L::Loc(i) => m.0[i],
                    L::Const(k) => k,
                    L::Temp => m.1,
                };
                for (from, dest) in sequentialize(&moves, L::Temp) {
                    let x = read(&machine, from);
                    match dest {
                        L::Loc(i) => machine.0[i] = x,
                        L::Temp => machine.1 = x,
                        L::Const(_) => panic!("a move to a constant"),
                    }
                }
                let mut want = start;
                for &(from, dest) in &moves {
                    let L::Loc(d) = dest else { unreachable!() };
                    want[d] = read(&(start, 0), from);
                }
                assert_eq!(machine.0, want, "{moves:?}");
            }
        }
    }

    /// A xorshift generator for random functions.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n as u64) as usize
        }
    }

    /// A value of type `ty` from `pool`, or a new constant.
    fn of(b: &mut Builder, rng: &mut Rng, pool: &mut Vec<Value>, ty: Type) -> Value {
        let typed: Vec<Value> = pool.iter().copied().filter(|&v| b.value_type(v) == Some(ty)).collect();
        if typed.is_empty() || rng.below(6) == 0 {
            let v = match ty {
                Type::I64 => b.iconst(rng.below(5) as i64),
                Type::F64 => b.fconst(rng.below(5) as f64),
            };
            pool.push(v);
            v
        } else {
            typed[rng.below(typed.len())]
        }
    }

    /// A random function on a random control-flow graph (loops, irreducible ones, unreachable
    /// blocks): blocks with random parameters, instructions of every kind reading values of
    /// dominating blocks, guards and checked operations with random snapshots, calls.
    fn random_function(rng: &mut Rng) -> Function {
        let nblocks = 1 + rng.below(10);
        let succs: Vec<Vec<usize>> = (0..nblocks)
            .map(|_| match rng.below(5) {
                0 => vec![],
                1 | 2 => vec![rng.below(nblocks)],
                _ => vec![rng.below(nblocks), rng.below(nblocks)],
            })
            .map(|s| s.into_iter().filter(|&t| t != 0).collect())
            .collect();
        // Dominators, by the textbook fixed point.
        let mut preds = vec![Vec::new(); nblocks];
        for (b, s) in succs.iter().enumerate() {
            s.iter().for_each(|&t| preds[t].push(b));
        }
        let mut reachable = vec![false; nblocks];
        let mut work = vec![0];
        while let Some(b) = work.pop() {
            if !std::mem::replace(&mut reachable[b], true) {
                work.extend(&succs[b]);
            }
        }
        let all: HashSet<usize> = (0..nblocks).collect();
        let mut dom: Vec<HashSet<usize>> =
            (0..nblocks).map(|b| if b == 0 { [0].into() } else { all.clone() }).collect();
        loop {
            let mut changed = false;
            for b in 1..nblocks {
                let mut d = preds[b]
                    .iter()
                    .filter(|&&p| reachable[p])
                    .fold(None, |acc: Option<HashSet<usize>>, &p| {
                        Some(match acc {
                            None => dom[p].clone(),
                            Some(acc) => acc.intersection(&dom[p]).copied().collect(),
                        })
                    })
                    .unwrap_or_default();
                d.insert(b);
                if d != dom[b] {
                    dom[b] = d;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        let mut b = Builder::new("random", 2);
        let types = |rng: &mut Rng, n: usize| -> Vec<Type> {
            (0..n).map(|_| if rng.below(3) == 0 { Type::F64 } else { Type::I64 }).collect()
        };
        let blocks: Vec<Block> = (0..nblocks)
            .map(|i| {
                let n = if i == 0 { 0 } else { rng.below(5) };
                let t = types(rng, n);
                b.create_block(&t)
            })
            .collect();
        // Fill dominators first (block numbers follow a topological order of the dominator
        // tree when filled by the size of their dominator sets).
        let mut fill: Vec<usize> = (0..nblocks).collect();
        fill.sort_by_key(|&i| if reachable[i] { dom[i].len() } else { usize::MAX });
        let mut defined: Vec<Vec<Value>> = vec![Vec::new(); nblocks];
        for &i in &fill {
            let block = blocks[i];
            b.switch_to(block);
            let mut pool: Vec<Value> = b.block_params(block).to_vec();
            if reachable[i] {
                for &d in dom[i].iter().filter(|&&d| d != i) {
                    pool.extend(&defined[d]);
                }
            }
            if i == 0 {
                pool.push(b.param(0));
                pool.push(b.param(1));
            }
            let first = pool.len();
            let snapshot = |b: &mut Builder, rng: &mut Rng, pool: &[Value]| -> SnapshotId {
                let entries = (0..if pool.is_empty() { 0 } else { rng.below(6) })
                    .map(|slot| {
                        let v = pool[rng.below(pool.len())];
                        let kind =
                            if b.value_type(v) == Some(Type::F64) { Kind::UnboxedFloat } else { Kind::MachineInt };
                        SnapshotEntry { slot: slot as u32, kind, values: vec![v] }
                    })
                    .collect();
                b.snapshot(ExitKind::Resume, 0, 0, "test", entries)
            };
            for _ in 0..rng.below(12) {
                let v = match rng.below(9) {
                    0 => {
                        let (x, y) = (of(&mut b, rng, &mut pool, Type::I64), of(&mut b, rng, &mut pool, Type::I64));
                        b.int(IntOp::Sub, x, y)
                    }
                    1 => {
                        let (x, y) = (of(&mut b, rng, &mut pool, Type::F64), of(&mut b, rng, &mut pool, Type::F64));
                        b.float(FloatOp::Mul, x, y)
                    }
                    2 => {
                        let (x, y) = (of(&mut b, rng, &mut pool, Type::I64), of(&mut b, rng, &mut pool, Type::I64));
                        b.icmp(Cond::Lt, x, y)
                    }
                    3 => {
                        let (x, y) = (of(&mut b, rng, &mut pool, Type::F64), of(&mut b, rng, &mut pool, Type::F64));
                        b.fcmp(Cond::Ge, x, y)
                    }
                    4 => {
                        let (x, y) = (of(&mut b, rng, &mut pool, Type::I64), of(&mut b, rng, &mut pool, Type::I64));
                        let s = snapshot(&mut b, rng, &pool);
                        b.checked(CheckedOp::Add, x, y, s)
                    }
                    5 => {
                        let c = of(&mut b, rng, &mut pool, Type::I64);
                        let s = snapshot(&mut b, rng, &pool);
                        b.guard(c, rng.below(2) == 0, s);
                        continue;
                    }
                    6 => {
                        let args = [of(&mut b, rng, &mut pool, Type::I64), of(&mut b, rng, &mut pool, Type::F64)];
                        let ret = types(rng, 1)[0];
                        b.call(WORD.at(0x1000), &args, Some(ret))
                    }
                    7 => {
                        let x = of(&mut b, rng, &mut pool, Type::I64);
                        b.int_to_float(x)
                    }
                    _ => {
                        let c = of(&mut b, rng, &mut pool, Type::I64);
                        let (x, y) = (of(&mut b, rng, &mut pool, Type::F64), of(&mut b, rng, &mut pool, Type::F64));
                        b.select(c, x, y)
                    }
                };
                pool.push(v);
            }
            defined[i] = pool[first..].to_vec();
            let args = |b: &mut Builder, rng: &mut Rng, pool: &mut Vec<Value>, t: usize| -> Vec<Value> {
                let params = b.block_params(blocks[t]).to_vec();
                params
                    .iter()
                    .map(|&p| {
                        let ty = b.value_type(p).expect("typed");
                        of(b, rng, pool, ty)
                    })
                    .collect()
            };
            match succs[i][..] {
                [] if rng.below(2) == 0 => {
                    let v = of(&mut b, rng, &mut pool, Type::I64);
                    b.ret(v)
                }
                [] => {
                    let s = snapshot(&mut b, rng, &pool);
                    b.exit(s)
                }
                [t] => {
                    let a = args(&mut b, rng, &mut pool, t);
                    b.jump(blocks[t], &a)
                }
                [t, e, ..] => {
                    let (x, y) = (of(&mut b, rng, &mut pool, Type::I64), of(&mut b, rng, &mut pool, Type::I64));
                    let c = b.icmp(Cond::Ne, x, y);
                    let (ta, ea) = (args(&mut b, rng, &mut pool, t), args(&mut b, rng, &mut pool, e));
                    b.branch(c, blocks[t], &ta, blocks[e], &ea)
                }
            }
        }
        b.finish()
    }

    #[test]
    fn random_functions_allocate_correctly() {
        let mut rng = Rng(0x0dd_ba11);
        for _ in 0..3000 {
            let f = random_function(&mut rng);
            for regs in [FEW, MANY] {
                allocate_and_check(&f, &regs);
            }
        }
    }
}
