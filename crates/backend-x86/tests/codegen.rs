//! Codegen snapshots: for each function in `tests/codegen/*.ir`, one snapshot holding its IR
//! and the disassembly every backend makes of it, so a reviewer sees the backends side by side.
//!
//! Listings are stable: the IR files use fake addresses (0x1000, ...), the disassembly prints
//! code offsets relative to the start, and Cranelift targets its fixed x86-64-v2 baseline
//! (psyco itself lets it use every feature of the host CPU); dynasm's code depends on none.

use backend_x86::{backend_by_name, Backend, CraneliftBackend, BACKEND_NAMES};
use std::path::Path;

#[test]
fn codegen_snapshots() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/codegen");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/codegen")
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "ir"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no .ir files in {}", dir.display());
    for path in files {
        let name = path.file_stem().and_then(|s| s.to_str()).expect("a file name").to_string();
        let text = std::fs::read_to_string(&path).expect("readable IR");
        let f = ir::text::parse(&text).unwrap_or_else(|e| panic!("{name}.ir does not parse: {e}"));
        ir::verify::verify(&f).unwrap_or_else(|e| panic!("{name}.ir does not verify: {e}"));
        let mut listing = ir::text::print(&f);
        for backend in BACKEND_NAMES {
            let chosen: &dyn Backend = match backend {
                "cranelift" => &CraneliftBackend::BASELINE,
                name => backend_by_name(name).expect("a listed backend"),
            };
            let code = chosen
                .compile(&f)
                .unwrap_or_else(|e| panic!("{backend} cannot compile {name}.ir: {e}"));
            listing.push_str(&format!("\n; {backend}: {} bytes\n{}", code.code_size(), code.disassemble()));
        }
        insta::with_settings!({
            snapshot_path => "codegen/snapshots",
            prepend_module_to_snapshot => false,
            omit_expression => true,
        }, {
            insta::assert_snapshot!(name, listing);
        });
    }
}
