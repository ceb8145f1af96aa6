//! Division and remainder by constants (compiled as shifts, masks and multiplications by the
//! dynasm backend) agree with Python's `//` and `%` on every sign and magnitude, for many
//! divisors.

use backend_x86::{Backend, DynasmBackend};
use ir::{Builder, CheckedOp, ExitKind};

fn python_floor_div(a: i64, d: i64) -> i64 {
    let (q, r) = (a / d, a % d);
    if r != 0 && (r < 0) != (d < 0) { q - 1 } else { q }
}

fn python_mod(a: i64, d: i64) -> i64 {
    let r = a % d;
    if r != 0 && (r < 0) != (d < 0) { r + d } else { r }
}

#[test]
fn floor_division_and_modulo_by_constants_match_python() {
    // Powers of two (shifts and masks), divisors around the 32-bit immediate limit, and
    // large ones.
    #[rustfmt::skip]
    let divisors = [
        2, 3, 4, 5, 6, 7, 10, 13, 97, 641, 1000, 1 << 20, 1_000_000_007,
        (1 << 31) - 1, 1 << 31, (1 << 31) + 1, 1 << 32, (1 << 33) + 3, 3 << 40,
        (1 << 62) - 1, 1 << 62, (1 << 62) + 1, i64::MAX - 1, i64::MAX,
    ];
    let mut numerators = vec![0, 1, -1, 2, -2, i64::MAX, i64::MIN, i64::MIN + 1, i64::MAX - 1];
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..2000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        numerators.push(x as i64);
        numerators.push((x as i64) >> (x % 60));
    }
    for d in divisors {
        // Numerators next to multiples of the divisor, where rounding goes wrong first.
        let mut numerators = numerators.clone();
        for k in [1, 2, 3, 1000, i64::MAX / d] {
            let m = d.wrapping_mul(k);
            numerators.extend([-1, 0, 1].iter().flat_map(|&e| [m.wrapping_add(e), m.wrapping_neg().wrapping_add(e)]));
        }
        numerators.extend([-1, 0, 1].map(|e| i64::MIN.wrapping_add(d).wrapping_add(e)));
        for op in [CheckedOp::FloorDiv, CheckedOp::Mod] {
            let mut b = Builder::new("div", 1);
            let entry = b.create_block(&[]);
            b.switch_to(entry);
            let a = b.param(0);
            let divisor = b.iconst(d);
            let s = b.snapshot(ExitKind::Resume, 0, 0, "int_division", vec![]);
            let r = b.checked(op, a, divisor, s);
            b.ret(r);
            let f = b.finish();
            ir::verify::verify(&f).unwrap();
            let code = DynasmBackend.compile(&f).unwrap();
            let mut exit = Vec::new();
            for &n in &numerators {
                // SAFETY: the function reads only its parameter.
                let out = unsafe { code.call(&[n as u64], &mut exit) };
                let want = if op == CheckedOp::FloorDiv { python_floor_div(n, d) } else { python_mod(n, d) };
                assert_eq!((out.exit, out.value as i64), (0, want), "{n} {op:?} {d}");
            }
        }
    }
}
