//! The IR text form, for dumps, test expectations and hand-written test input: [`print`]
//! writes a function one item per line and [`parse`] reads it back exactly, value numbers
//! included: `parse(&print(f)) == f` for every function [`verify`](crate::verify::verify)
//! accepts, and for every function the [`Builder`](crate::Builder) makes, broken or not, as
//! long as its snapshot reasons and helper names are identifiers, no two helpers share a name
//! and every call names a helper of the table. (A NaN `fconst` comes back bit for bit,
//! though `==` on `f64` calls it unequal.)
//!
//! ```text
//! function "inner"(params=1) {
//!   helper @box_int = 0x1000 may_raise
//!   s0 = resume pc=12 depth=1 reason=int_overflow [3: int64 v2, 4: int=7, 5: vrangeiter v0 v0 v0]
//! b0():
//!   v0 = param 0
//!   v1 = iconst 42
//!   v2 = checked.add v0, v1 -> s0
//!   v3: store.u32 v0-16, v2
//!   v5 = call @box_int(v2) -> i64
//!   jump b1(v5)
//! b1(v4: i64):
//!   return v4
//! }
//! ```
//!
//! Grammar. Indentation and spacing between tokens are free (a quoted token such as `"pc="`
//! has none inside); `;` starts a comment that runs to the end of the line; blank lines are
//! ignored. `N` is a decimal number, `HEX` is `0x` and hex digits, `NAME` is
//! `[A-Za-z0-9_]+`, `vN`, `bN` and `sN` are values, blocks and snapshots.
//!
//! ```text
//! function := "function" STRING "(" "params=" N ")" "{"  helper*  snapshot*  block*  detached?  "}"
//! helper   := "helper" "@" NAME "=" HEX ("pure" | "may_raise" | "may_run_python")
//! snapshot := sN "=" ("resume" | "raise") "pc=" N "depth=" N "reason=" [A-Za-z0-9_]+
//!             "[" (entry ("," entry)*)? "]"
//! entry    := N ":" KIND vN*                 ; slot, kind as written by Kind's Display
//! block    := bN "(" (vN ":" ptype ("," vN ":" ptype)*)? ")" ":"  inst*  term
//! detached := "detached:" inst*              ; instructions that no block lists
//! inst     := vN "=" op                      ; a result of the type the op implies
//!           | vN ":" op                      ; no result
//!           | vN ":" type "=" op             ; a result of this type
//! op       := "param" N | "blockparam" bN "," N | "iconst" N | "fconst" HEX
//!           | "load." mem addr | "store." mem addr "," vN
//!           | intop vN "," vN | floatop vN "," vN | "fneg" vN | "itof" vN
//!           | "checked." checkedop vN "," vN "->" sN | "checked.neg" vN "->" sN
//!           | "icmp." cond vN "," vN | "fcmp." cond vN "," vN | "select" vN "," vN "," vN
//!           | "call" "@" NAME "(" (vN ("," vN)*)? ")" ("->" type)?
//!           | "guard" vN ("nonzero" | "zero") "->" sN
//! term     := "jump" target | "branch" vN "," target "," target | "return" vN | "exit" sN
//! target   := bN "(" (vN ("," vN)*)? ")"
//! addr     := vN ("+" | "-") N
//! type     := "i64" | "f64"                  ptype := type | "none"
//! mem      := "i64" | "i32" | "u32" | "u16" | "u8" | "f64"
//! intop    := "add" | "sub" | "mul" | "and" | "or" | "xor" | "shl" | "sar"
//! floatop  := "fadd" | "fsub" | "fmul" | "fdiv"
//! checkedop:= "add" | "sub" | "mul" | "floordiv" | "mod" | "shl"
//! cond     := "eq" | "ne" | "lt" | "le" | "gt" | "ge" | "ult" | "ule" | "ugt" | "uge"
//! ```
//!
//! The function name is a Rust string literal (as `{:?}` writes it), so any name round-trips.
//! The op implies the result type of every op but `blockparam` and `select`, so their type is
//! always written (`v9: i64 = select v1, v2, v3`); a result whose type differs from the one
//! the op implies (only in broken functions) is written the same way. `fconst` holds the
//! double's bits, so that NaNs and `-0.0` round-trip; the printer adds the decimal value as a
//! comment. Blocks are printed and must be written in order, `b0` first, and so are
//! snapshots; values may be defined in any order but must be numbered `v0` up to one less
//! than their count, each exactly once.
//!
//! Helpers are declared in table order (the first is `HelperId(0)`), each name once, and a
//! call names its helper by name. A call whose helper is not in the table (only in broken
//! functions) prints as `call @?N(...)`, with the missing id, which does not parse.

use crate::*;
use std::fmt;
use std::str::FromStr;

/// The text form of `f`.
pub fn print(f: &Function) -> String {
    f.to_string()
}

impl fmt::Display for Function {
    fn fmt(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(out, "function {:?}(params={}) {{", self.name, self.num_params)?;
        for h in &self.helpers {
            writeln!(out, "  helper @{} = 0x{:x} {}", h.name, h.address, effect_name(h.effect))?;
        }
        for (i, s) in self.snapshots.iter().enumerate() {
            let kind = match s.kind {
                ExitKind::Resume => "resume",
                ExitKind::Raise => "raise",
            };
            write!(out, "  s{i} = {kind} pc={} depth={} reason={} [", s.pc, s.stack_depth, s.reason)?;
            for (j, e) in s.entries.iter().enumerate() {
                write!(out, "{}{}: {}", if j > 0 { ", " } else { "" }, e.slot, e.kind)?;
                for v in &e.values {
                    write!(out, " {v}")?;
                }
            }
            writeln!(out, "]")?;
        }
        let mut listed = vec![false; self.insts.len()];
        for (block, data) in self.block_ids().zip(&self.blocks) {
            let params: Vec<String> = data
                .params
                .iter()
                .map(|&v| format!("{v}: {}", type_name(self.insts.get(v.0 as usize).and_then(|d| d.ty))))
                .collect();
            writeln!(out, "{block}({}):", params.join(", "))?;
            for &v in data.params.iter().chain(&data.insts) {
                if let Some(l) = listed.get_mut(v.0 as usize) {
                    *l = true;
                }
            }
            for &v in &data.insts {
                write_inst(out, self, v)?;
            }
            writeln!(out, "  {}", Term(&data.term))?;
        }
        if listed.contains(&false) {
            writeln!(out, "detached:")?;
            for (i, _) in listed.iter().enumerate().filter(|(_, &l)| !l) {
                write_inst(out, self, Value(i as u32))?;
            }
        }
        writeln!(out, "}}")
    }
}

/// One instruction line.
fn write_inst(out: &mut fmt::Formatter<'_>, f: &Function, v: Value) -> fmt::Result {
    let Some(data) = f.insts.get(v.0 as usize) else {
        // Only a broken function lists a value that is not an instruction.
        return writeln!(out, "  ; {v} is not an instruction");
    };
    match data.ty {
        Some(t) if Some(t) == implied_type(&data.op) => write!(out, "  {v} = ")?,
        Some(t) => write!(out, "  {v}: {} = ", type_name(Some(t)))?,
        None => write!(out, "  {v}: ")?,
    }
    match &data.op {
        Op::Param(i) => write!(out, "param {i}"),
        Op::BlockParam(b, i) => write!(out, "blockparam {b}, {i}"),
        Op::IConst(c) => write!(out, "iconst {c}"),
        Op::FConst(x) => write!(out, "fconst 0x{:016x} ; {x:?}", x.to_bits()),
        Op::Load(m, base, off) => write!(out, "load.{} {base}{off:+}", mem_name(*m)),
        Op::Store(m, base, off, value) => write!(out, "store.{} {base}{off:+}, {value}", mem_name(*m)),
        Op::Int(op, a, b) => write!(out, "{} {a}, {b}", int_op_name(*op)),
        Op::Checked(op, a, b, s) => write!(out, "checked.{} {a}, {b} -> {s}", checked_op_name(*op)),
        Op::NegChecked(a, s) => write!(out, "checked.neg {a} -> {s}"),
        Op::Float(op, a, b) => write!(out, "{} {a}, {b}", float_op_name(*op)),
        Op::FNeg(a) => write!(out, "fneg {a}"),
        Op::IntToFloat(a) => write!(out, "itof {a}"),
        Op::ICmp(c, a, b) => write!(out, "icmp.{} {a}, {b}", cond_name(*c)),
        Op::FCmp(c, a, b) => write!(out, "fcmp.{} {a}, {b}", cond_name(*c)),
        Op::Select(c, a, b) => write!(out, "select {c}, {a}, {b}"),
        Op::Call { helper, args, ret } => {
            match f.helpers.get(helper.0 as usize) {
                Some(h) => write!(out, "call @{}({})", h.name, List(args))?,
                None => write!(out, "call @?{}({})", helper.0, List(args))?,
            }
            match ret {
                Some(t) => write!(out, " -> {}", type_name(Some(*t))),
                None => Ok(()),
            }
        }
        Op::Guard { cond, expect, snapshot } => {
            write!(out, "guard {cond} {} -> {snapshot}", if *expect { "nonzero" } else { "zero" })
        }
    }?;
    writeln!(out)
}

/// Values separated by commas.
struct List<'a>(&'a [Value]);

impl fmt::Display for List<'_> {
    fn fmt(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, v) in self.0.iter().enumerate() {
            write!(out, "{}{v}", if i > 0 { ", " } else { "" })?;
        }
        Ok(())
    }
}

/// A terminator, as its line shows it.
struct Term<'a>(&'a Terminator);

impl fmt::Display for Term<'_> {
    fn fmt(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        let target = |c: &BlockCall| format!("{}({})", c.block, List(&c.args));
        match self.0 {
            Terminator::Jump(c) => write!(out, "jump {}", target(c)),
            Terminator::Branch { cond, then, otherwise } => {
                write!(out, "branch {cond}, {}, {}", target(then), target(otherwise))
            }
            Terminator::Return(v) => write!(out, "return {v}"),
            Terminator::Exit(s) => write!(out, "exit {s}"),
        }
    }
}

/// The result type an op implies, which the text leaves out; `None` for ops without a result
/// and for those whose type the text has to say (`blockparam`, `select`).
fn implied_type(op: &Op) -> Option<Type> {
    match op {
        Op::BlockParam(..) | Op::Select(..) | Op::Store(..) | Op::Guard { .. } => None,
        Op::Param(_) | Op::IConst(_) | Op::Int(..) | Op::Checked(..) | Op::NegChecked(..) => Some(Type::I64),
        Op::ICmp(..) | Op::FCmp(..) => Some(Type::I64),
        Op::FConst(_) | Op::Float(..) | Op::FNeg(_) | Op::IntToFloat(_) => Some(Type::F64),
        Op::Load(m, ..) => Some(m.value_type()),
        Op::Call { ret, .. } => *ret,
    }
}

// Names of the small enums. Printing matches exhaustively, so a new variant cannot be
// forgotten; parsing searches these lists for the name.

const TYPES: [Option<Type>; 3] = [Some(Type::I64), Some(Type::F64), None];
const MEMS: [Mem; 6] = [Mem::I64, Mem::I32, Mem::U32, Mem::U16, Mem::U8, Mem::F64];
const INT_OPS: [IntOp; 8] =
    [IntOp::Add, IntOp::Sub, IntOp::Mul, IntOp::And, IntOp::Or, IntOp::Xor, IntOp::Shl, IntOp::Sar];
const CHECKED_OPS: [CheckedOp; 6] =
    [CheckedOp::Add, CheckedOp::Sub, CheckedOp::Mul, CheckedOp::FloorDiv, CheckedOp::Mod, CheckedOp::Shl];
const FLOAT_OPS: [FloatOp; 4] = [FloatOp::Add, FloatOp::Sub, FloatOp::Mul, FloatOp::Div];
const CONDS: [Cond; 10] =
    [Cond::Eq, Cond::Ne, Cond::Lt, Cond::Le, Cond::Gt, Cond::Ge, Cond::ULt, Cond::ULe, Cond::UGt, Cond::UGe];
const EFFECTS: [Effect; 3] = [Effect::Pure, Effect::MayRaise, Effect::MayRunPython];

/// A type, or `none` for no type (which only a block parameter of a broken function has).
fn type_name(t: Option<Type>) -> &'static str {
    match t {
        Some(Type::I64) => "i64",
        Some(Type::F64) => "f64",
        None => "none",
    }
}

fn mem_name(m: Mem) -> &'static str {
    match m {
        Mem::I64 => "i64",
        Mem::I32 => "i32",
        Mem::U32 => "u32",
        Mem::U16 => "u16",
        Mem::U8 => "u8",
        Mem::F64 => "f64",
    }
}

fn int_op_name(op: IntOp) -> &'static str {
    match op {
        IntOp::Add => "add",
        IntOp::Sub => "sub",
        IntOp::Mul => "mul",
        IntOp::And => "and",
        IntOp::Or => "or",
        IntOp::Xor => "xor",
        IntOp::Shl => "shl",
        IntOp::Sar => "sar",
    }
}

fn checked_op_name(op: CheckedOp) -> &'static str {
    match op {
        CheckedOp::Add => "add",
        CheckedOp::Sub => "sub",
        CheckedOp::Mul => "mul",
        CheckedOp::FloorDiv => "floordiv",
        CheckedOp::Mod => "mod",
        CheckedOp::Shl => "shl",
    }
}

fn float_op_name(op: FloatOp) -> &'static str {
    match op {
        FloatOp::Add => "fadd",
        FloatOp::Sub => "fsub",
        FloatOp::Mul => "fmul",
        FloatOp::Div => "fdiv",
    }
}

fn cond_name(c: Cond) -> &'static str {
    match c {
        Cond::Eq => "eq",
        Cond::Ne => "ne",
        Cond::Lt => "lt",
        Cond::Le => "le",
        Cond::Gt => "gt",
        Cond::Ge => "ge",
        Cond::ULt => "ult",
        Cond::ULe => "ule",
        Cond::UGt => "ugt",
        Cond::UGe => "uge",
    }
}

fn effect_name(e: Effect) -> &'static str {
    match e {
        Effect::Pure => "pure",
        Effect::MayRaise => "may_raise",
        Effect::MayRunPython => "may_run_python",
    }
}

/// The member of `all` called `name`.
fn by_name<T: Copy>(all: &[T], name_of: fn(T) -> &'static str, name: &str) -> Option<T> {
    all.iter().copied().find(|&x| name_of(x) == name)
}

/// Why a text did not parse, and on which line (counting from 1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ParseError {}

type Result<T> = std::result::Result<T, ParseError>;

/// Where the lines being read go.
enum Section {
    /// Before the first block: helpers, then snapshots.
    Header,
    Block {
        index: usize,
        terminated: bool,
    },
    Detached,
}

/// Reads a function from its text form (see the module documentation).
pub fn parse(s: &str) -> Result<Function> {
    let mut lines =
        s.lines().enumerate().map(|(i, text)| Cursor { text, pos: 0, line: i + 1 }).filter(|c| !c.clone().at_end());
    let Some(mut header) = lines.next() else {
        return Err(ParseError { line: 1, message: "expected `function`, found no text".into() });
    };
    header.expect("function")?;
    let name = header.string()?;
    header.expect("(")?;
    header.expect("params=")?;
    let num_params = header.number("a parameter count")?;
    header.expect(")")?;
    header.expect("{")?;
    header.end()?;

    let mut func = Function { name, num_params, ..Function::default() };
    // Each definition with its line, until all are read and the numbering can be checked.
    let mut defs: Vec<(Value, InstData, usize)> = Vec::new();
    let mut section = Section::Header;
    let mut last_line = header.line;
    loop {
        let Some(mut line) = lines.next() else {
            return Err(ParseError { line: last_line, message: "missing `}` at the end of the function".into() });
        };
        last_line = line.line;
        let word = line.clone().word("").unwrap_or("");
        if line.eat("}") {
            line.end()?;
            if let Section::Block { index, terminated: false } = section {
                return line.error(format!("b{index} has no terminator"));
            }
            break;
        } else if word == "helper" {
            if !matches!(section, Section::Header) || !func.snapshots.is_empty() {
                return line.error("helpers must come before the snapshots and blocks");
            }
            let helper = helper_line(&mut line)?;
            if func.helpers.iter().any(|h| h.name == helper.name) {
                return line.error(format!("helper @{} is declared twice", helper.name));
            }
            func.helpers.push(helper);
        } else if is_id(word, 's') {
            if !matches!(section, Section::Header) {
                return line.error("snapshots must come before the blocks");
            }
            func.snapshots.push(snapshot_line(&mut line, func.snapshots.len())?);
        } else if is_id(word, 'b') {
            match section {
                Section::Block { index, terminated: false } => {
                    return line.error(format!("b{index} has no terminator"))
                }
                Section::Detached => return line.error("blocks must come before `detached:`"),
                _ => {}
            }
            let index = func.blocks.len();
            let block = Block(index as u32);
            if line.block()? != block {
                return line.error(format!("expected block {block} here (blocks are written in order)"));
            }
            line.expect("(")?;
            let mut params = Vec::new();
            while !line.eat(")") {
                if !params.is_empty() {
                    line.expect(",")?;
                }
                let v = line.value()?;
                line.expect(":")?;
                let ty = line.type_or_none()?;
                defs.push((v, InstData { op: Op::BlockParam(block, params.len() as u32), ty }, line.line));
                params.push(v);
            }
            line.expect(":")?;
            line.end()?;
            // The placeholder terminator is replaced by the block's last line.
            func.blocks.push(BlockData { params, insts: vec![], term: Terminator::Exit(SnapshotId(u32::MAX)) });
            section = Section::Block { index, terminated: false };
        } else if word == "detached" {
            line.expect("detached")?;
            line.expect(":")?;
            line.end()?;
            if let Section::Block { index, terminated: false } = section {
                return line.error(format!("b{index} has no terminator"));
            }
            section = Section::Detached;
        } else if is_id(word, 'v') {
            let (v, data) = inst_line(&mut line, &func.helpers)?;
            match section {
                Section::Header => return line.error("instruction outside a block"),
                Section::Block { index, terminated: true } => {
                    return line.error(format!("instruction after the terminator of b{index}"))
                }
                Section::Block { index, terminated: false } => func.blocks[index].insts.push(v),
                Section::Detached => {}
            }
            defs.push((v, data, line.line));
        } else {
            let Section::Block { index, terminated: false } = section else {
                return line.error(format!("expected a block, an instruction or `}}`, found {}", line.found()));
            };
            func.blocks[index].term = term_line(&mut line)?;
            section = Section::Block { index, terminated: true };
        }
    }
    if let Some(line) = lines.next() {
        return line.error("text after the end of the function");
    }

    // Values are numbered 0..n, each defined once, so `insts[v]` can be v's definition.
    let n = defs.len();
    let mut insts: Vec<Option<InstData>> = vec![None; n];
    for (v, data, line) in defs {
        let error = |message: String| Err(ParseError { line, message });
        match insts.get_mut(v.0 as usize) {
            None => {
                return error(format!("{v} is out of range: {n} values are defined, so they must be v0 to v{}", n - 1))
            }
            Some(Some(_)) => return error(format!("{v} is defined twice")),
            Some(slot) => *slot = Some(data),
        }
    }
    func.insts = insts.into_iter().map(|d| d.expect("n distinct values below n fill 0..n")).collect();
    Ok(func)
}

/// Whether `word` is `prefix` followed by a number, like `v12`.
fn is_id(word: &str, prefix: char) -> bool {
    word.strip_prefix(prefix).is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

fn snapshot_line(line: &mut Cursor, index: usize) -> Result<Snapshot> {
    if line.snapshot()?.0 as usize != index {
        return line.error(format!("expected snapshot s{index} here (snapshots are written in order)"));
    }
    line.expect("=")?;
    let kind = match line.word("`resume` or `raise`")? {
        "resume" => ExitKind::Resume,
        "raise" => ExitKind::Raise,
        other => return line.error(format!("expected `resume` or `raise`, found `{other}`")),
    };
    line.expect("pc=")?;
    let pc = line.number("a bytecode offset")?;
    line.expect("depth=")?;
    let stack_depth = line.number("a stack depth")?;
    line.expect("reason=")?;
    let reason: std::borrow::Cow<'static, str> = line.take_while(|c| c.is_ascii_alphanumeric() || c == '_').to_string().into();
    if reason.is_empty() {
        return line.error(format!("expected a reason, found {}", line.found()));
    }
    line.expect("[")?;
    let mut entries = Vec::new();
    while !line.eat("]") {
        if !entries.is_empty() {
            line.expect(",")?;
        }
        let slot = line.number("a slot")?;
        line.expect(":")?;
        let text = line.take_while(|c| !c.is_whitespace() && !matches!(c, ',' | ']' | ';'));
        let kind = Kind::from_str(text).or_else(|e| line.error(e.to_string()))?;
        let mut values = Vec::new();
        while line.peek_is('v') {
            values.push(line.value()?);
        }
        entries.push(SnapshotEntry { slot, kind, values });
    }
    line.end()?;
    Ok(Snapshot { kind, pc, stack_depth, reason, entries })
}

fn helper_line(line: &mut Cursor) -> Result<Helper> {
    line.expect("helper")?;
    let name = line.helper_name()?.to_string();
    line.expect("=")?;
    let address = line.hex()?;
    let word = line.word("an effect")?;
    let effect = line.name(&EFFECTS, effect_name, word)?;
    line.end()?;
    Ok(Helper { name: name.into(), address, effect })
}

/// `helpers`: the table declared so far, which calls name their helper in.
fn inst_line(line: &mut Cursor, helpers: &[Helper]) -> Result<(Value, InstData)> {
    let v = line.value()?;
    // `Some(ty)`: the result type is written; `None`: the op implies it.
    let written = if line.eat("=") {
        None
    } else {
        line.expect(":")?;
        let mut ahead = line.clone();
        match by_name(&TYPES, type_name, ahead.word("").unwrap_or("")) {
            Some(Some(t)) if ahead.eat("=") => {
                *line = ahead;
                Some(Some(t))
            }
            _ => Some(None),
        }
    };
    let mnemonic = line.word("an instruction")?;
    let (base, suffix) = match mnemonic.split_once('.') {
        Some((base, suffix)) => (base, Some(suffix)),
        None => (mnemonic, None),
    };
    let op = match (base, suffix) {
        ("param", None) => Op::Param(line.number("a parameter index")?),
        ("blockparam", None) => {
            let b = line.block()?;
            line.expect(",")?;
            Op::BlockParam(b, line.number("a parameter index")?)
        }
        ("iconst", None) => Op::IConst(line.number("an integer")?),
        ("fconst", None) => Op::FConst(f64::from_bits(line.hex()?)),
        ("load", Some(m)) => {
            let m = line.name(&MEMS, mem_name, m)?;
            let (base, offset) = line.address()?;
            Op::Load(m, base, offset)
        }
        ("store", Some(m)) => {
            let m = line.name(&MEMS, mem_name, m)?;
            let (base, offset) = line.address()?;
            line.expect(",")?;
            Op::Store(m, base, offset, line.value()?)
        }
        ("checked", Some("neg")) => {
            let a = line.value()?;
            Op::NegChecked(a, line.arrow_snapshot()?)
        }
        ("checked", Some(op)) => {
            let op = line.name(&CHECKED_OPS, checked_op_name, op)?;
            let (a, b) = line.two_values()?;
            Op::Checked(op, a, b, line.arrow_snapshot()?)
        }
        ("fneg", None) => Op::FNeg(line.value()?),
        ("itof", None) => Op::IntToFloat(line.value()?),
        ("icmp", Some(c)) => {
            let c = line.name(&CONDS, cond_name, c)?;
            let (a, b) = line.two_values()?;
            Op::ICmp(c, a, b)
        }
        ("fcmp", Some(c)) => {
            let c = line.name(&CONDS, cond_name, c)?;
            let (a, b) = line.two_values()?;
            Op::FCmp(c, a, b)
        }
        ("select", None) => {
            let (c, a) = line.two_values()?;
            line.expect(",")?;
            Op::Select(c, a, line.value()?)
        }
        ("call", None) => {
            let name = line.helper_name()?;
            let Some(index) = helpers.iter().position(|h| h.name == name) else {
                return line.error(format!("unknown helper `@{name}`: helpers are declared before the snapshots"));
            };
            let args = line.value_list()?;
            let ret = if line.eat("->") { Some(line.ty()?) } else { None };
            Op::Call { helper: HelperId(index as u32), args, ret }
        }
        ("guard", None) => {
            let cond = line.value()?;
            let expect = match line.word("`nonzero` or `zero`")? {
                "nonzero" => true,
                "zero" => false,
                other => return line.error(format!("expected `nonzero` or `zero`, found `{other}`")),
            };
            Op::Guard { cond, expect, snapshot: line.arrow_snapshot()? }
        }
        _ => match (by_name(&INT_OPS, int_op_name, mnemonic), by_name(&FLOAT_OPS, float_op_name, mnemonic)) {
            (Some(op), _) => {
                let (a, b) = line.two_values()?;
                Op::Int(op, a, b)
            }
            (_, Some(op)) => {
                let (a, b) = line.two_values()?;
                Op::Float(op, a, b)
            }
            _ => return line.error(format!("unknown instruction `{mnemonic}`")),
        },
    };
    line.end()?;
    let ty = match written {
        Some(ty) => ty,
        None => match implied_type(&op) {
            Some(t) => Some(t),
            None => {
                return line.error(format!(
                    "`{mnemonic}` implies no result type: write `{v}: {mnemonic} ...` or `{v}: TYPE = {mnemonic} ...`"
                ))
            }
        },
    };
    Ok((v, InstData { op, ty }))
}

fn term_line(line: &mut Cursor) -> Result<Terminator> {
    let term = match line.word("a terminator")? {
        "jump" => Terminator::Jump(line.block_call()?),
        "branch" => {
            let cond = line.value()?;
            line.expect(",")?;
            let then = line.block_call()?;
            line.expect(",")?;
            Terminator::Branch { cond, then, otherwise: line.block_call()? }
        }
        "return" => Terminator::Return(line.value()?),
        "exit" => Terminator::Exit(line.snapshot()?),
        other => return line.error(format!("expected an instruction or a terminator, found `{other}`")),
    };
    line.end()?;
    Ok(term)
}

/// One line of input and how far it has been read.
#[derive(Clone)]
struct Cursor<'a> {
    text: &'a str,
    pos: usize,
    line: usize,
}

impl<'a> Cursor<'a> {
    fn error<T>(&self, message: impl Into<String>) -> Result<T> {
        Err(ParseError { line: self.line, message: message.into() })
    }

    fn rest(&self) -> &'a str {
        &self.text[self.pos..]
    }

    fn skip_space(&mut self) {
        self.pos = self.text.len() - self.rest().trim_start().len();
    }

    /// Whether only spaces and a comment are left.
    fn at_end(&mut self) -> bool {
        self.skip_space();
        self.rest().is_empty() || self.rest().starts_with(';')
    }

    fn end(&mut self) -> Result<()> {
        if self.at_end() {
            Ok(())
        } else {
            self.error(format!("unexpected {}", self.found()))
        }
    }

    /// What comes next, for messages.
    fn found(&self) -> String {
        match self.rest().split_whitespace().next() {
            Some(token) if !token.starts_with(';') => format!("`{token}`"),
            _ => "the end of the line".into(),
        }
    }

    fn eat(&mut self, token: &str) -> bool {
        self.skip_space();
        let found = self.rest().starts_with(token);
        if found {
            self.pos += token.len();
        }
        found
    }

    fn expect(&mut self, token: &str) -> Result<()> {
        if self.eat(token) {
            Ok(())
        } else {
            self.error(format!("expected `{token}`, found {}", self.found()))
        }
    }

    fn peek_is(&mut self, c: char) -> bool {
        self.skip_space();
        self.rest().starts_with(c)
    }

    fn take_while(&mut self, pred: impl Fn(char) -> bool) -> &'a str {
        self.skip_space();
        let rest = self.rest();
        let len = rest.find(|c| !pred(c)).unwrap_or(rest.len());
        self.pos += len;
        &rest[..len]
    }

    /// A run of letters, digits, `_` and `.`; `what` names the expected thing for the error.
    fn word(&mut self, what: &str) -> Result<&'a str> {
        let word = self.take_while(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
        if word.is_empty() {
            self.error(format!("expected {what}, found {}", self.found()))
        } else {
            Ok(word)
        }
    }

    /// `name` as a member of `all`.
    fn name<T: Copy>(&self, all: &[T], name_of: fn(T) -> &'static str, name: &str) -> Result<T> {
        by_name(all, name_of, name).map_or_else(|| self.error(format!("unknown name `{name}`")), Ok)
    }

    /// `@` and a name, like `@box_int`.
    fn helper_name(&mut self) -> Result<&'a str> {
        self.expect("@")?;
        let name = self.take_while(|c| c.is_ascii_alphanumeric() || c == '_');
        if name.is_empty() {
            self.error(format!("expected a helper name, found {}", self.found()))
        } else {
            Ok(name)
        }
    }

    fn number<T: FromStr>(&mut self, what: &str) -> Result<T> {
        let token = self.take_while(|c| c.is_ascii_digit() || c == '-');
        match token.parse() {
            Ok(n) => Ok(n),
            Err(_) if token.is_empty() => self.error(format!("expected {what}, found {}", self.found())),
            Err(_) => self.error(format!("`{token}` is not {what}")),
        }
    }

    fn hex(&mut self) -> Result<u64> {
        self.expect("0x")?;
        let digits = self.take_while(|c| c.is_ascii_hexdigit());
        u64::from_str_radix(digits, 16).or_else(|_| self.error(format!("`0x{digits}` is not a 64-bit hex number")))
    }

    /// `prefix` and a number, like `v12`.
    fn id(&mut self, prefix: char, what: &str) -> Result<u32> {
        self.skip_space();
        if !self.rest().starts_with(prefix) {
            return self.error(format!("expected {what}, found {}", self.found()));
        }
        self.pos += 1;
        let digits = self.take_while(|c| c.is_ascii_digit());
        digits.parse().or_else(|_| self.error(format!("expected {what}")))
    }

    fn value(&mut self) -> Result<Value> {
        self.id('v', "a value").map(Value)
    }

    fn block(&mut self) -> Result<Block> {
        self.id('b', "a block").map(Block)
    }

    fn snapshot(&mut self) -> Result<SnapshotId> {
        self.id('s', "a snapshot").map(SnapshotId)
    }

    fn arrow_snapshot(&mut self) -> Result<SnapshotId> {
        self.expect("->")?;
        self.snapshot()
    }

    fn two_values(&mut self) -> Result<(Value, Value)> {
        let a = self.value()?;
        self.expect(",")?;
        Ok((a, self.value()?))
    }

    fn type_or_none(&mut self) -> Result<Option<Type>> {
        let word = self.word("a type")?;
        self.name(&TYPES, type_name, word)
    }

    fn ty(&mut self) -> Result<Type> {
        match self.type_or_none()? {
            Some(t) => Ok(t),
            None => self.error("expected `i64` or `f64`, found `none`"),
        }
    }

    /// `(v1, v2, ...)`, possibly empty.
    fn value_list(&mut self) -> Result<Vec<Value>> {
        self.expect("(")?;
        let mut values = Vec::new();
        while !self.eat(")") {
            if !values.is_empty() {
                self.expect(",")?;
            }
            values.push(self.value()?);
        }
        Ok(values)
    }

    fn block_call(&mut self) -> Result<BlockCall> {
        let block = self.block()?;
        Ok(BlockCall { block, args: self.value_list()? })
    }

    /// `v0+8` or `v0-16`.
    fn address(&mut self) -> Result<(Value, i32)> {
        let base = self.value()?;
        let sign = if self.eat("+") {
            1
        } else if self.eat("-") {
            -1
        } else {
            return self.error(format!("expected `+` or `-` and an offset, found {}", self.found()));
        };
        let magnitude: u32 = self.number("an offset")?;
        match i32::try_from(sign * i64::from(magnitude)) {
            Ok(offset) => Ok((base, offset)),
            Err(_) => self.error("the offset does not fit in 32 bits"),
        }
    }

    /// A string literal as `{:?}` writes it.
    fn string(&mut self) -> Result<String> {
        self.expect("\"")?;
        let mut out = String::new();
        let mut chars = self.rest().char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.pos += i + 1;
                    return Ok(out);
                }
                '\\' => out.push(match chars.next().map(|(_, e)| e) {
                    Some('n') => '\n',
                    Some('r') => '\r',
                    Some('t') => '\t',
                    Some('0') => '\0',
                    Some(e @ ('\\' | '"' | '\'')) => e,
                    Some('u') => {
                        let rest = chars.as_str();
                        let hex = rest.strip_prefix('{').and_then(|r| r.split_once('}')).map(|(h, _)| h);
                        let Some(c) = hex.and_then(|h| u32::from_str_radix(h, 16).ok()).and_then(char::from_u32) else {
                            return self.error("bad `\\u{...}` escape");
                        };
                        // Skip `{`, the digits and `}`.
                        chars.nth(hex.map_or(0, str::len) + 1);
                        c
                    }
                    _ => return self.error("unknown escape in string"),
                }),
                c => out.push(c),
            }
        }
        self.error("unterminated string")
    }
}
