//! Snapshots of the IR the front end produces for real Python functions (an embedded
//! CPython 3.11 compiles them; addresses are replaced with stable fake ones). Each test first
//! checks that the bytecode holds the opcodes it means to cover, so that a change in CPython's
//! compiler cannot silently make it test something else.

use ir::Kind;
use pyo3_ffi as ffi;
use runtime::frontend::{compile, CompileRequest, Start};
use runtime::profile::Profiles;
use std::ffi::CString;
use std::sync::{Mutex, Once};

static INIT: Once = Once::new();
static SERIAL: Mutex<()> = Mutex::new(());

/// Runs `f` with the GIL held, one test at a time.
fn with_python<T>(f: impl FnOnce() -> T) -> T {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    INIT.call_once(|| {
        // SAFETY: initializing the embedded interpreter once, then releasing the GIL for
        // PyGILState_Ensure below.
        unsafe {
            ffi::Py_InitializeEx(0);
            ffi::PyEval_SaveThread();
        }
    });
    // SAFETY: the interpreter is initialized; the GIL is released between tests.
    let gil = unsafe { ffi::PyGILState_Ensure() };
    let out = f();
    // SAFETY: releasing what PyGILState_Ensure acquired.
    unsafe { ffi::PyGILState_Release(gil) };
    out
}

/// Defines `source` in a fresh module namespace; returns (namespace, function `name`).
fn define(source: &str, name: &str) -> (*mut ffi::PyObject, *mut ffi::PyObject) {
    let src = CString::new(source).unwrap();
    let name = CString::new(name).unwrap();
    // SAFETY: GIL held; every object is checked before use.
    unsafe {
        let globals = ffi::PyDict_New();
        ffi::PyDict_SetItemString(globals, c"__builtins__".as_ptr(), ffi::PyEval_GetBuiltins());
        let result = ffi::PyRun_String(src.as_ptr(), ffi::Py_file_input, globals, globals);
        if result.is_null() {
            ffi::PyErr_Print();
            panic!("test source does not run");
        }
        ffi::Py_DECREF(result);
        let func = ffi::PyDict_GetItemString(globals, name.as_ptr());
        assert!(!func.is_null(), "no function {name:?}");
        (globals, func)
    }
}

/// The names of the opcodes in `func`'s bytecode.
fn opnames(globals: *mut ffi::PyObject, name: &str) -> String {
    let src = CString::new(format!("import dis\n_ops = ' '.join(sorted({{i.opname for i in dis.get_instructions({name})}}))\n")).unwrap();
    // SAFETY: GIL held; the namespace is a live dict.
    unsafe {
        let result = ffi::PyRun_String(src.as_ptr(), ffi::Py_file_input, globals, globals);
        assert!(!result.is_null(), "dis failed");
        ffi::Py_DECREF(result);
        let ops = ffi::PyDict_GetItemString(globals, c"_ops".as_ptr());
        let mut len = 0;
        let p = ffi::PyUnicode_AsUTF8AndSize(ops, &mut len);
        String::from_utf8_lossy(std::slice::from_raw_parts(p as *const u8, len as usize)).into_owned()
    }
}

/// What compiled code saw at every instruction named `opname`: inputs of the type of the
/// Python expression `input`, outputs of the type of `output` (evaluated in the source's
/// namespace; empty for nothing), as a profiling version would have recorded.
struct Saw<'a> {
    opname: &'a str,
    input: &'a str,
    output: &'a str,
}

/// Profiles of `name`'s code filled as `saw` says.
fn profiles_of(globals: *mut ffi::PyObject, name: &str, saw: &[Saw]) -> Profiles {
    let profiles = Profiles::default();
    let src = CString::new(format!(
        "import dis\n_sites = ' '.join(f'{{i.opname}}:{{i.offset // 2}}' for i in dis.get_instructions({name}))\n"
    ))
    .unwrap();
    // SAFETY: GIL held; the namespace is a live dict; every object is checked before use.
    unsafe {
        let result = ffi::PyRun_String(src.as_ptr(), ffi::Py_file_input, globals, globals);
        assert!(!result.is_null(), "dis failed");
        ffi::Py_DECREF(result);
        let sites = ffi::PyDict_GetItemString(globals, c"_sites".as_ptr());
        let mut len = 0;
        let p = ffi::PyUnicode_AsUTF8AndSize(sites, &mut len);
        let sites = String::from_utf8_lossy(std::slice::from_raw_parts(p as *const u8, len as usize)).into_owned();
        let eval = |expr: &str| {
            let expr = CString::new(expr).unwrap();
            let obj = ffi::PyRun_String(expr.as_ptr(), ffi::Py_eval_input, globals, globals);
            assert!(!obj.is_null(), "{expr:?} does not evaluate");
            obj
        };
        for site in sites.split(' ') {
            let (opname, pc) = site.split_once(':').unwrap();
            for s in saw.iter().filter(|s| s.opname == opname) {
                let profile = &*profiles.site(pc.parse().unwrap());
                for (expr, side) in [(s.input, &profile.input), (s.output, &profile.output)] {
                    if !expr.is_empty() {
                        let obj = eval(expr);
                        side.record(obj);
                        ffi::Py_DECREF(obj);
                    }
                }
            }
        }
    }
    profiles
}

/// The IR (stable addresses) for `name` in `source`, compiled for these argument kinds,
/// after checking that its bytecode holds every opcode in `covers`.
fn ir_for(source: &str, name: &str, arg_kinds: Vec<Kind>, covers: &[&str]) -> String {
    ir_for_closure(source, name, arg_kinds, Vec::new(), covers)
}

/// `ir_for` with what the function's free variables are taken to hold.
fn ir_for_closure(source: &str, name: &str, arg_kinds: Vec<Kind>, free_kinds: Vec<Kind>, covers: &[&str]) -> String {
    ir_for_profiled(source, name, arg_kinds, free_kinds, &[], covers)
}

/// `ir_for_closure` with the profiles of the sites as `saw` says.
fn ir_for_profiled(source: &str, name: &str, arg_kinds: Vec<Kind>, free_kinds: Vec<Kind>, saw: &[Saw], covers: &[&str]) -> String {
    with_python(|| {
        let (globals, func) = define(source, name);
        let ops = opnames(globals, name);
        for op in covers {
            assert!(ops.split(' ').any(|o| o == *op), "{name} has no {op}: {ops}");
        }
        let profiles = profiles_of(globals, name, saw);
        // SAFETY: GIL held; `func` is a live function of `globals`.
        let req = unsafe {
            CompileRequest {
                code: ffi::PyFunction_GetCode(func) as *mut runtime::cpython::PyCodeObject,
                globals,
                builtins: ffi::PyEval_GetBuiltins(),
                eval_breaker: 0x7000_0000_0000,
                start: Start::Call,
                entry_kinds: arg_kinds,
                decline_generic: false,
                free_kinds,
                verify: true,
                profiles: Some(&profiles),
                may_reoptimize: false,
            }
        };
        let output = compile(&req, &mut Default::default()).unwrap_or_else(|d| panic!("{name} declined: {d}"));
        let text = ir::text::print(&ir::addresses::with_stable_addresses(&output.func));
        // SAFETY: GIL held; `globals` is the live namespace of the source.
        with_stable_type_versions(&text, &unsafe { type_versions(globals) })
    })
}

/// The version tags of the classes `globals` holds, in the order they appear.
///
/// # Safety
/// GIL held; `globals` a live dict.
unsafe fn type_versions(globals: *mut ffi::PyObject) -> Vec<u32> {
    // SAFETY: per the contract; the dict's values are live while it is.
    unsafe {
        let (mut pos, mut key, mut value) = (0, std::ptr::null_mut(), std::ptr::null_mut());
        let mut tags = Vec::new();
        while ffi::PyDict_Next(globals, &mut pos, &mut key, &mut value) != 0 {
            if ffi::PyType_Check(value) != 0 {
                tags.push((*(value as *mut ffi::PyTypeObject)).tp_version_tag);
            }
        }
        tags
    }
}

/// `text` with the constant of each type-version check (the `iconst` after a `load.u32`) that
/// is one of `tags` replaced by a stable fake tag (7000001, 7000002, ... in the order of
/// `tags`): the interpreter hands out version tags from one counter, so their values depend
/// on what ran before in the process (the other tests, in any order).
fn with_stable_type_versions(text: &str, tags: &[u32]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut after_version_load = false;
    for line in text.lines() {
        let stable = line.split_once(" = iconst ").and_then(|(value, k)| {
            let i = tags.iter().position(|&t| t != 0 && k.parse() == Ok(t))?;
            after_version_load.then(|| format!("{value} = iconst {}", 7_000_001 + i))
        });
        after_version_load = line.contains(" = load.u32 ");
        out.push_str(stable.as_deref().unwrap_or(line));
        out.push('\n');
    }
    out
}

#[test]
fn int_loop_over_range_is_unboxed_with_overflow_exits() {
    let ir = ir_for(
        "def inner(n):\n    total = 0\n    for i in range(n):\n        x = i * i + 3\n        if x % 7 == 3:\n            total += x // 5\n    return total\n",
        "inner",
        vec![Kind::MachineInt],
        &["FOR_ITER", "BINARY_OP", "COMPARE_OP", "POP_JUMP_FORWARD_IF_FALSE", "LOAD_GLOBAL"],
    );
    insta::assert_snapshot!(ir);
}

#[test]
fn float_arithmetic_stays_in_doubles() {
    let ir = ir_for(
        "def step(zr, zi, cr):\n    zr2 = zr * zr\n    if zr2 + zi * zi > 4.0:\n        return 0.0\n    return zr2 - zi * zi + cr / 2\n",
        "step",
        vec![Kind::UnboxedFloat, Kind::UnboxedFloat, Kind::UnboxedFloat],
        &["BINARY_OP", "COMPARE_OP", "RETURN_VALUE"],
    );
    insta::assert_snapshot!(ir);
}

#[test]
fn exception_handler_is_compiled_from_the_table() {
    let ir = ir_for(
        "def lookup(d, k):\n    try:\n        return d[k]\n    except KeyError:\n        return -1\n",
        "lookup",
        vec![Kind::Exact(ir::TypeTag::Dict), Kind::MachineInt],
        &["BINARY_SUBSCR", "PUSH_EXC_INFO", "CHECK_EXC_MATCH", "POP_EXCEPT"],
    );
    insta::assert_snapshot!(ir);
}

#[test]
fn closure_speculates_on_its_cells_and_calls_set_methods_directly() {
    let ir = ir_for_closure(
        "def outer():\n    n = 3\n    seen = set()\n    def visit(c):\n        if c in seen or c >= n:\n            return\n        seen.add(c)\n        visit(c + 1)\n    return visit\nvisit = outer()\n",
        "visit",
        vec![Kind::MachineInt],
        vec![Kind::IntConst(3), Kind::Exact(ir::TypeTag::Set), Kind::Exact(ir::TypeTag::Function)],
        &["LOAD_DEREF", "CONTAINS_OP", "LOAD_METHOD", "PRECALL", "CALL"],
    );
    insta::assert_snapshot!(ir);
}

#[test]
fn nbody_inner_loop_reads_and_writes_slots_with_unboxed_floats() {
    let ir = ir_for_profiled(
        "class Body:\n    __slots__ = ('x', 'vx', 'm')\n    def __init__(self, x, vx, m):\n        self.x, self.vx, self.m = x, vx, m\n\n\
         def step(pairs, dt):\n    for a, b in pairs:\n        dx = a.x - b.x\n        mag = dt / (dx * dx + 0.01)\n        a.vx -= dx * b.m * mag\n        b.vx += dx * a.m * mag\n",
        "step",
        vec![Kind::Exact(ir::TypeTag::List), Kind::UnboxedFloat],
        Vec::new(),
        &[
            Saw { opname: "LOAD_ATTR", input: "Body(0.0, 0.0, 0.0)", output: "1.0" },
            Saw { opname: "STORE_ATTR", input: "Body(0.0, 0.0, 0.0)", output: "" },
            Saw { opname: "FOR_ITER", input: "", output: "(1, 2)" },
        ],
        &["FOR_ITER", "UNPACK_SEQUENCE", "LOAD_ATTR", "STORE_ATTR", "BINARY_OP"],
    );
    // The attribute sites are native (no call of the generic helper on the fast path).
    assert!(ir.contains("load.u32"), "no type-version guard:\n{ir}");
    insta::assert_snapshot!(ir);
}

#[test]
fn method_call_site_calls_the_function_with_self() {
    let ir = ir_for_profiled(
        "class Counter:\n    def __init__(self):\n        self.n = 0\n    def bump(self, k):\n        self.n += k\n        return self.n\n\n\
         def drive(c, k):\n    return c.bump(k)\n",
        "drive",
        vec![Kind::Object, Kind::MachineInt],
        Vec::new(),
        &[Saw { opname: "LOAD_METHOD", input: "Counter()", output: "" }],
        &["LOAD_METHOD", "PRECALL", "CALL"],
    );
    assert!(ir.contains("call @call_method_function"), "not a direct method call:\n{ir}");
    insta::assert_snapshot!(ir);
}
