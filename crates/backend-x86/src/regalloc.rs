//! Register allocation: where every SSA value lives, decided once per function before any
//! code is emitted. Target-independent: registers are indices into per-class tables that
//! the backend supplies (with which of them survive calls), stack slots are numbers.
//!
//! The scheme is Poletto & Sarkar's linear scan, in O(n log n) plus the size of the live
//! ranges:
//! 1. Block order: reverse post-order of a depth-first walk that visits a block's
//!    successors in increasing loop depth, so that loop bodies come out contiguous. Loop
//!    depth comes from the natural loops of a first walk's back edges; it only weighs uses.
//! 2. Liveness by path exploration (each use walks back through predecessors to its
//!    definition), which gives each value one interval `[definition, last point live]` in
//!    that order, holes included; values live around a back edge cover the whole loop.
//! 3. A scan over the intervals by start hands out registers; when none is free, the value
//!    with the smallest spill weight (uses × 10^loop depth; exits are cold and weigh
//!    nothing) goes to the stack, the one ending last on a tie. A value live across a call
//!    may only take a callee-saved register. A value keeps its location for its whole life
//!    (no splitting), so exit stubs and edge copies just read each value's home.
//! 4. Spilled values share stack slots by a second scan over their intervals.
//!
//! Constants take no location (they are rematerialized where used), nor do values nothing
//! reads, nor compares that the guard or branch consuming them evaluates itself (their
//! operands are then read at the consumer). Block parameters are defined by parallel copies
//! on the edges into their block ([`sequentialize`] orders such a copy); the allocator
//! prefers to give a parameter and its arguments one register so that copies vanish.

use ir::{Block, Cond, Function, Op, Terminator, Type, Value};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

/// A register class: words live in general-purpose registers, doubles in vector registers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
    pub fused: HashMap<Value, Condition>,
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

    let (fused, absorbed) = fuse_compares(f, &layout.order, &def_block);

    // Every read of a value, from reachable code: (block, position, weighs as a hot use).
    let mut uses: Vec<Vec<(u32, u32, bool)>> = vec![Vec::new(); n];
    let mut calls = Vec::new();
    for &b in &layout.order {
        let data = f.block(b);
        let bi = b.0;
        let mut read = |v: Value, at: u32, hot: bool| uses[v.0 as usize].push((bi, at, hot));
        for &v in &data.insts {
            let p = pos[v.0 as usize];
            let op = &f.inst(v).op;
            match op {
                _ if absorbed[v.0 as usize] => {}
                Op::Guard { cond, .. } if fused.contains_key(cond) => {
                    let c = fused[cond];
                    read(c.a, p, true);
                    read(c.b, p, true);
                }
                _ => op.operands().into_iter().for_each(|o| read(o, p, true)),
            }
            if let Some(s) = op.snapshot() {
                f.snapshot(s).exit_values().for_each(|o| read(o, p + 1, false));
            }
            if matches!(op, Op::Call { .. }) {
                calls.push(p);
            }
        }
        let tp = term[bi as usize];
        match &data.term {
            Terminator::Branch { cond, .. } if fused.contains_key(cond) => {
                let c = fused[cond];
                read(c.a, tp, true);
                read(c.b, tp, true);
            }
            Terminator::Branch { cond, .. } => read(*cond, tp, true),
            Terminator::Return(v) => read(*v, tp, true),
            Terminator::Exit(s) => f.snapshot(*s).exit_values().for_each(|o| read(o, tp, false)),
            Terminator::Jump(_) => {}
        }
        for call in data.term.successors() {
            call.args.iter().for_each(|&a| read(a, tp, true));
        }
    }

    // Intervals, by path exploration from each use back to the definition.
    let mut intervals = Vec::new();
    let mut seen = vec![u32::MAX; nblocks];
    let weight = |block: u32| 10u64.pow(layout.depth[block as usize].min(6));
    for (i, value_uses) in uses.iter().enumerate() {
        let v = Value(i as u32);
        let Some(ty) = f.value_type(v) else { continue };
        if def_block[i] == u32::MAX
            || value_uses.is_empty()
            || absorbed[i]
            || matches!(f.inst(v).op, Op::IConst(_) | Op::FConst(_))
        {
            continue;
        }
        let db = def_block[i];
        let (mut lo, mut hi) = (def_pos(v), def_pos(v));
        let mut w = weight(db);
        let mut stack = Vec::new();
        for &(block, at, hot) in value_uses {
            hi = hi.max(at);
            if hot {
                w = w.saturating_add(weight(block));
            }
            if block != db {
                stack.push(block);
            }
        }
        while let Some(x) = stack.pop() {
            if seen[x as usize] == i as u32 {
                continue;
            }
            seen[x as usize] = i as u32;
            lo = lo.min(start[x as usize]);
            for &p in &layout.preds[x as usize] {
                hi = hi.max(term[p.0 as usize] + 1);
                if p.0 != db {
                    stack.push(p.0);
                }
            }
        }
        let first_call_after = calls.partition_point(|&c| c <= lo);
        let crosses_call = calls.get(first_call_after).is_some_and(|&c| c < hi);
        intervals.push(Interval { value: v, class: Class::of(ty), start: lo, end: hi, crosses_call, weight: w });
    }
    intervals.sort_by_key(|iv| (iv.start, iv.value));

    let hints = copy_partners(f, &layout.order);
    let mut locs = vec![Loc::None; n];
    let spilled = scan(f, regs, &intervals, &hints, &mut locs);
    let slots = assign_slots(&intervals, spilled, &mut locs);
    Allocation { order: layout.order, locs, slots, fused }
}

/// A value's live interval (positions as in [`allocate`], both ends included).
#[derive(Clone, Copy, Debug)]
struct Interval {
    value: Value,
    class: Class,
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
}

/// Linear scan over `intervals` (sorted by start): registers into `locs`; gives the indices of
/// the intervals left for the stack.
fn scan(f: &Function, regs: &Registers, intervals: &[Interval], hints: &[Vec<Value>], locs: &mut [Loc]) -> Vec<usize> {
    let mut owner: [Vec<Option<usize>>; 2] = [vec![None; regs.word.len()], vec![None; regs.double.len()]];
    let slot = |c: Class| c as usize;
    let mut active: Vec<usize> = Vec::new();
    let mut spilled = Vec::new();
    for (i, iv) in intervals.iter().enumerate() {
        active.retain(|&j| {
            let other = &intervals[j];
            if other.end >= iv.start {
                return true;
            }
            if let Loc::Reg(r) = locs[other.value.0 as usize] {
                owner[slot(other.class)][r as usize] = None;
            }
            false
        });
        let saved = regs.class(iv.class);
        let owners = &mut owner[slot(iv.class)];
        let allowed = |r: usize| !iv.crosses_call || saved[r];
        // Preferred: the register of a copy partner or of the first operand, if free.
        let hinted = hints[iv.value.0 as usize].iter().copied().chain(first_operand(f, iv.value)).find_map(|h| {
            let same_class = f.value_type(h).map(Class::of) == Some(iv.class);
            match locs[h.0 as usize] {
                Loc::Reg(r) if same_class && owners[r as usize].is_none() && allowed(r as usize) => Some(r as usize),
                _ => None,
            }
        });
        // Else a free register, caller-saved ones first unless the value must survive calls.
        let free = || {
            let by_preference = (0..saved.len()).filter(|&r| !saved[r]).chain((0..saved.len()).filter(|&r| saved[r]));
            by_preference.filter(|&r| allowed(r)).find(|&r| owners[r].is_none())
        };
        let chosen = hinted.or_else(free).or_else(|| {
            // Else the register of the cheapest active value, if it is cheaper than this one.
            let victim = active
                .iter()
                .copied()
                .filter(|&j| intervals[j].class == iv.class)
                .filter(|&j| matches!(locs[intervals[j].value.0 as usize], Loc::Reg(r) if allowed(r as usize)))
                .min_by_key(|&j| intervals[j].spill_key())?;
            if intervals[victim].spill_key() >= iv.spill_key() {
                return None;
            }
            let victim_value = intervals[victim].value.0 as usize;
            let Loc::Reg(r) = locs[victim_value] else { unreachable!("filtered on registers") };
            locs[victim_value] = Loc::None;
            active.retain(|&j| j != victim);
            spilled.push(victim);
            Some(r as usize)
        });
        match chosen {
            Some(r) => {
                owner[slot(iv.class)][r] = Some(i);
                locs[iv.value.0 as usize] = Loc::Reg(r as u8);
                active.push(i);
            }
            None => spilled.push(i),
        }
    }
    spilled
}

/// Gives each spilled interval a stack slot, sharing slots between disjoint intervals.
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
fn copy_partners(f: &Function, order: &[Block]) -> Vec<Vec<Value>> {
    let mut partners = vec![Vec::new(); f.insts.len()];
    for &b in order {
        for call in f.block(b).term.successors() {
            for (&arg, &param) in call.args.iter().zip(&f.block(call.block).params) {
                partners[arg.0 as usize].push(param);
                partners[param.0 as usize].push(arg);
            }
        }
    }
    partners
}

/// The compares that the guard or branch reading them evaluates: those read only by a guard
/// or branch of their own block, seen through `icmp.ne c, 0` and `icmp.eq c, 0` of such a
/// compare `c`. Gives the conditions by the value the consumer reads, and which compares
/// need no code of their own.
fn fuse_compares(f: &Function, order: &[Block], def_block: &[u32]) -> (HashMap<Value, Condition>, Vec<bool>) {
    let mut count = vec![0u32; f.insts.len()];
    for &b in order {
        let data = f.block(b);
        for &v in &data.insts {
            let op = &f.inst(v).op;
            op.operands().into_iter().for_each(|o| count[o.0 as usize] += 1);
            if let Some(s) = op.snapshot() {
                f.snapshot(s).exit_values().for_each(|o| count[o.0 as usize] += 1);
            }
        }
        data.term.operands().into_iter().for_each(|o| count[o.0 as usize] += 1);
        if let Terminator::Exit(s) = data.term {
            f.snapshot(s).exit_values().for_each(|o| count[o.0 as usize] += 1);
        }
    }
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
            if let Some(c) = condition(f, cond, b, def_block, &count, &mut chain) {
                fused.insert(cond, c);
                chain.iter().for_each(|v| absorbed[v.0 as usize] = true);
            }
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
    let is_zero = |x: Value| matches!(f.inst(x).op, Op::IConst(0));
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

/// Block order and loop depths.
struct Layout {
    /// Reachable blocks, in emission order.
    order: Vec<Block>,
    /// Reachable predecessors of each block (with repeats for branches with both arms to it).
    preds: Vec<Vec<Block>>,
    /// Number of natural loops each block is in.
    depth: Vec<u32>,
}

impl Layout {
    fn new(f: &Function) -> Layout {
        let nblocks = f.blocks.len();
        let succs: Vec<Vec<Block>> =
            f.blocks.iter().map(|d| d.term.successors().iter().map(|c| c.block).collect()).collect();
        let (first_walk, back_edges) = depth_first(&succs);
        let mut preds = vec![Vec::new(); nblocks];
        for &b in &first_walk {
            for &s in &succs[b.0 as usize] {
                preds[s.0 as usize].push(b);
            }
        }
        // Natural loops: each header with the blocks that reach one of its back edges
        // without passing through it.
        let mut depth = vec![0u32; nblocks];
        let mut mark = vec![u32::MAX; nblocks];
        let mut headers: Vec<Block> = back_edges.iter().map(|&(_, h)| h).collect();
        headers.sort_unstable();
        headers.dedup();
        for h in headers {
            mark[h.0 as usize] = h.0;
            depth[h.0 as usize] += 1;
            let mut work: Vec<Block> = back_edges.iter().filter(|&&(_, to)| to == h).map(|&(from, _)| from).collect();
            while let Some(x) = work.pop() {
                if mark[x.0 as usize] == h.0 {
                    continue;
                }
                mark[x.0 as usize] = h.0;
                depth[x.0 as usize] += 1;
                work.extend(preds[x.0 as usize].iter().copied().filter(|p| mark[p.0 as usize] != h.0));
            }
        }
        // Visiting the successor in the deeper loop last puts it right after its
        // predecessor, which keeps loop bodies together and exits after them.
        let by_depth: Vec<Vec<Block>> = succs
            .iter()
            .map(|s| {
                let mut s = s.clone();
                s.sort_by_key(|b| depth[b.0 as usize]);
                s
            })
            .collect();
        let (order, _) = depth_first(&by_depth);
        Layout { order, preds, depth }
    }
}

/// A depth-first walk from `b0`: the reverse post-order, and the edges to a block on the walk's
/// stack (back edges).
fn depth_first(succs: &[Vec<Block>]) -> (Vec<Block>, Vec<(Block, Block)>) {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        New,
        Open,
        Done,
    }
    let mut state = vec![State::New; succs.len()];
    let mut post = Vec::new();
    let mut back_edges = Vec::new();
    if succs.is_empty() {
        return (post, back_edges);
    }
    let mut stack = vec![(Block(0), 0usize)];
    state[0] = State::Open;
    while let Some((b, next)) = stack.last_mut() {
        let b = *b;
        if let Some(&s) = succs[b.0 as usize].get(*next) {
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
