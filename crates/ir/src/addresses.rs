//! Stable addresses for printed IR: the front end embeds real helper addresses and object
//! pointers, which change from run to run. [`with_stable_addresses`] replaces them with fake
//! ones (0x1000, 0x1008, ... in order of first appearance; one real address always maps to the
//! same fake one), so that IR snapshots are reproducible.

use crate::{Function, Op};
use std::collections::HashMap;

/// Constants at least this large (in magnitude) are taken for addresses: user-space pointers on
/// x86-64 Linux lie far above it, and integer constants in code rarely do.
pub const ADDRESS_THRESHOLD: u64 = 1 << 40;

/// A copy of `f` whose address-like constants and call targets are fake, stable addresses.
pub fn with_stable_addresses(f: &Function) -> Function {
    let mut map: HashMap<u64, u64> = HashMap::new();
    let mut fake = |real: u64| -> u64 {
        let next = 0x1000 + 8 * map.len() as u64;
        *map.entry(real).or_insert(next)
    };
    let mut out = f.clone();
    // Visit in block order (the order a reader meets them), then any detached instructions.
    let mut order: Vec<usize> = f.blocks.iter().flat_map(|b| b.insts.iter().map(|v| v.0 as usize)).collect();
    let listed: std::collections::HashSet<usize> = order.iter().copied().collect();
    order.extend((0..f.insts.len()).filter(|i| !listed.contains(i)));
    for i in order {
        match &mut out.insts[i].op {
            Op::IConst(c) if c.unsigned_abs() >= ADDRESS_THRESHOLD => *c = fake(*c as u64) as i64,
            Op::Call { target, .. } if *target >= ADDRESS_THRESHOLD => *target = fake(*target),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Builder;

    #[test]
    fn addresses_become_stable_and_small_constants_stay() {
        let mut b = Builder::new("f", 1);
        let entry = b.create_block(&[]);
        b.switch_to(entry);
        let p = b.param(0);
        let obj = b.iconst(0x7f12_3456_7890);
        let small = b.iconst(1_000_000_007);
        let r = b.call(0x5555_dead_beef, &[p, obj, small], Some(crate::Type::I64));
        let again = b.iconst(0x7f12_3456_7890);
        let s = b.call(0x5555_dead_beef, &[r, again], Some(crate::Type::I64));
        b.ret(s);
        let f = with_stable_addresses(&b.finish());
        let consts: Vec<_> = f
            .insts
            .iter()
            .filter_map(|i| match i.op {
                Op::IConst(c) => Some(c),
                Op::Call { target, .. } => Some(target as i64),
                _ => None,
            })
            .collect();
        assert_eq!(consts, vec![0x1000, 1_000_000_007, 0x1008, 0x1000, 0x1008]);
    }
}
