//! Building IR functions one block at a time.
//!
//! ```
//! use ir::{Builder, CheckedOp, Cond, ExitKind, Type};
//! let mut b = Builder::new("add1", 1);
//! let entry = b.create_block(&[]);
//! b.switch_to(entry);
//! let x = b.param(0);
//! let one = b.iconst(1);
//! let s = b.snapshot(ExitKind::Resume, 0, 0, "int_overflow", vec![]);
//! let y = b.checked(CheckedOp::Add, x, one, s);
//! b.ret(y);
//! let f = b.finish();
//! ir::verify::verify(&f).unwrap();
//! ```

use crate::*;

/// `Builder::block_of` for a value that no block lists (a block parameter).
const NO_BLOCK: u32 = u32::MAX;

/// Builds a [`Function`]. Blocks are created with typed parameters, filled in any order, and
/// each must be given exactly one terminator before [`Builder::finish`].
pub struct Builder {
    func: Function,
    current: Option<Block>,
    terminated: Vec<bool>,
    /// Per value, the block whose instruction it is: the blocks' lists are made from it once,
    /// in `finish` (a list per block grown as it filled was a seventh of the front end's time
    /// in allocations, and most rounds' IR is discarded unfinished).
    block_of: Vec<u32>,
}

impl Builder {
    pub fn new(name: &str, num_params: u32) -> Builder {
        Builder {
            func: Function { name: name.to_string(), num_params, ..Function::default() },
            current: None,
            terminated: Vec::new(),
            block_of: Vec::new(),
        }
    }

    /// Room for this many instructions, blocks and snapshots, reserved at once: a builder that
    /// knows about how large the function will be does not grow (and copy) it step by step.
    pub fn reserve(&mut self, insts: usize, blocks: usize, snapshots: usize) {
        self.func.insts.reserve(insts);
        self.block_of.reserve(insts);
        self.func.blocks.reserve(blocks);
        self.terminated.reserve(blocks);
        self.func.snapshots.reserve(snapshots);
    }

    /// How many instructions, blocks and snapshots the function has so far.
    pub fn size(&self) -> (usize, usize, usize) {
        (self.func.insts.len(), self.func.blocks.len(), self.func.snapshots.len())
    }

    /// A new block with parameters of these types.
    pub fn create_block(&mut self, params: &[Type]) -> Block {
        let block = Block(self.func.blocks.len() as u32);
        let data = BlockData {
            params: Vec::with_capacity(params.len()),
            insts: Vec::new(),
            term: Terminator::Exit(SnapshotId(u32::MAX)),
        };
        self.func.blocks.push(data);
        self.terminated.push(false);
        for (i, &ty) in params.iter().enumerate() {
            let v = self.push(Op::BlockParam(block, i as u32), Some(ty));
            self.func.blocks[block.0 as usize].params.push(v);
        }
        block
    }

    /// Appends a parameter to an existing block (used when a loop head learns it needs one).
    pub fn add_block_param(&mut self, block: Block, ty: Type) -> Value {
        let index = self.func.blocks[block.0 as usize].params.len() as u32;
        let v = self.push(Op::BlockParam(block, index), Some(ty));
        self.func.blocks[block.0 as usize].params.push(v);
        v
    }

    pub fn block_params(&self, block: Block) -> &[Value] {
        &self.func.blocks[block.0 as usize].params
    }

    /// Instructions are appended to `block` from now on.
    pub fn switch_to(&mut self, block: Block) {
        assert!(!self.terminated[block.0 as usize], "{block} is already terminated");
        self.current = Some(block);
    }

    pub fn current_block(&self) -> Option<Block> {
        self.current
    }

    pub fn is_terminated(&self, block: Block) -> bool {
        self.terminated[block.0 as usize]
    }

    pub fn value_type(&self, v: Value) -> Option<Type> {
        self.func.value_type(v)
    }

    /// The value of `v` if it is an integer constant.
    pub fn constant(&self, v: Value) -> Option<i64> {
        match self.func.inst(v).op {
            Op::IConst(c) => Some(c),
            _ => None,
        }
    }

    fn push(&mut self, op: Op, ty: Option<Type>) -> Value {
        let v = Value(self.func.insts.len() as u32);
        self.func.insts.push(InstData { op, ty });
        self.block_of.push(NO_BLOCK);
        v
    }

    /// Appends an instruction to the current block.
    pub fn inst(&mut self, op: Op, ty: Option<Type>) -> Value {
        let block = self.current.expect("no current block");
        assert!(!self.terminated[block.0 as usize], "{block} is already terminated");
        let v = self.push(op, ty);
        self.block_of[v.0 as usize] = block.0;
        v
    }

    pub fn snapshot(
        &mut self,
        kind: ExitKind,
        pc: u32,
        stack_depth: u32,
        reason: impl Into<std::borrow::Cow<'static, str>>,
        entries: Vec<SnapshotEntry>,
    ) -> SnapshotId {
        let id = SnapshotId(self.func.snapshots.len() as u32);
        self.func.snapshots.push(Snapshot { kind, pc, stack_depth, reason: reason.into(), entries });
        id
    }

    pub fn param(&mut self, i: u32) -> Value {
        self.inst(Op::Param(i), Some(Type::I64))
    }
    pub fn iconst(&mut self, c: i64) -> Value {
        self.inst(Op::IConst(c), Some(Type::I64))
    }
    pub fn fconst(&mut self, c: f64) -> Value {
        self.inst(Op::FConst(c), Some(Type::F64))
    }
    pub fn load(&mut self, mem: Mem, base: Value, offset: i32) -> Value {
        self.inst(Op::Load(mem, base, offset), Some(mem.value_type()))
    }
    pub fn store(&mut self, mem: Mem, base: Value, offset: i32, value: Value) {
        self.inst(Op::Store(mem, base, offset, value), None);
    }
    pub fn int(&mut self, op: IntOp, a: Value, b: Value) -> Value {
        self.inst(Op::Int(op, a, b), Some(Type::I64))
    }
    pub fn checked(&mut self, op: CheckedOp, a: Value, b: Value, s: SnapshotId) -> Value {
        self.inst(Op::Checked(op, a, b, s), Some(Type::I64))
    }
    pub fn neg_checked(&mut self, a: Value, s: SnapshotId) -> Value {
        self.inst(Op::NegChecked(a, s), Some(Type::I64))
    }
    pub fn float(&mut self, op: FloatOp, a: Value, b: Value) -> Value {
        self.inst(Op::Float(op, a, b), Some(Type::F64))
    }
    pub fn fneg(&mut self, a: Value) -> Value {
        self.inst(Op::FNeg(a), Some(Type::F64))
    }
    pub fn int_to_float(&mut self, a: Value) -> Value {
        self.inst(Op::IntToFloat(a), Some(Type::F64))
    }
    pub fn icmp(&mut self, cond: Cond, a: Value, b: Value) -> Value {
        self.inst(Op::ICmp(cond, a, b), Some(Type::I64))
    }
    pub fn fcmp(&mut self, cond: Cond, a: Value, b: Value) -> Value {
        self.inst(Op::FCmp(cond, a, b), Some(Type::I64))
    }
    pub fn select(&mut self, c: Value, a: Value, b: Value) -> Value {
        let ty = self.value_type(a);
        self.inst(Op::Select(c, a, b), ty)
    }
    /// The id of `helper` in the function's helper table, adding it unless an equal entry
    /// (same name, address and effect) is there already.
    pub fn helper(&mut self, helper: Helper) -> HelperId {
        let helpers = &mut self.func.helpers;
        let index = helpers.iter().position(|h| *h == helper).unwrap_or_else(|| {
            helpers.push(helper);
            helpers.len() - 1
        });
        HelperId(index as u32)
    }
    /// A call of `helper` (see [`Builder::helper`]), e.g.
    /// `b.call(LOAD_ATTR.at(load_attr as *const () as u64), &[obj, name], Some(Type::I64))`.
    pub fn call(&mut self, helper: Helper, args: &[Value], ret: Option<Type>) -> Value {
        let helper = self.helper(helper);
        self.inst(Op::Call { helper, args: args.to_vec(), ret }, ret)
    }
    pub fn guard(&mut self, cond: Value, expect: bool, snapshot: SnapshotId) {
        self.inst(Op::Guard { cond, expect, snapshot }, None);
    }

    fn terminate(&mut self, term: Terminator) {
        let block = self.current.take().expect("no current block");
        assert!(!self.terminated[block.0 as usize], "{block} is already terminated");
        self.terminated[block.0 as usize] = true;
        self.func.blocks[block.0 as usize].term = term;
    }
    pub fn jump(&mut self, block: Block, args: &[Value]) {
        self.terminate(Terminator::Jump(BlockCall { block, args: args.to_vec() }));
    }
    pub fn branch(&mut self, cond: Value, then: Block, then_args: &[Value], otherwise: Block, otherwise_args: &[Value]) {
        self.terminate(Terminator::Branch {
            cond,
            then: BlockCall { block: then, args: then_args.to_vec() },
            otherwise: BlockCall { block: otherwise, args: otherwise_args.to_vec() },
        });
    }
    pub fn ret(&mut self, v: Value) {
        self.terminate(Terminator::Return(v));
    }
    pub fn exit(&mut self, s: SnapshotId) {
        self.terminate(Terminator::Exit(s));
    }

    /// The finished function. Panics if a block was left without a terminator.
    pub fn finish(self) -> Function {
        if let Some(i) = self.terminated.iter().position(|t| !t) {
            panic!("block b{i} of {} has no terminator", self.func.name);
        }
        let mut func = self.func;
        // Each block's instructions are its values in the order they were made.
        let mut counts = vec![0usize; func.blocks.len()];
        for &b in self.block_of.iter().filter(|&&b| b != NO_BLOCK) {
            counts[b as usize] += 1;
        }
        for (block, &count) in func.blocks.iter_mut().zip(&counts) {
            block.insts = Vec::with_capacity(count);
        }
        for (v, &b) in self.block_of.iter().enumerate().filter(|&(_, &b)| b != NO_BLOCK) {
            func.blocks[b as usize].insts.push(Value(v as u32));
        }
        func
    }
}
