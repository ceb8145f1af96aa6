//! The runtime's modules depend on each other without cycles: each file's `crate::` and
//! `super::` paths (comments and strings aside) name the modules it uses, and that graph must
//! be a DAG, so that every module can be read, and later moved, with only what lies below it.
//! `cargo test -p psyco-runtime --test module_graph -- --nocapture` prints the graph.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Module path (`crate::jit::hook`) -> source text, for every file under `src`.
fn modules(dir: &Path, prefix: &str, out: &mut BTreeMap<String, String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let stem = path.file_stem().unwrap().to_str().unwrap().to_string();
        if path.is_dir() {
            modules(&path, &format!("{prefix}::{stem}"), out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let name = match stem.as_str() {
                "lib" | "mod" => prefix.to_string(),
                _ => format!("{prefix}::{stem}"),
            };
            out.insert(name, std::fs::read_to_string(&path).unwrap());
        }
    }
}

/// The code without comments and without the contents of string and char literals.
fn code_only(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    while i < b.len() {
        match (b[i], b.get(i + 1)) {
            (b'/', Some(b'/')) => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            (b'/', Some(b'*')) => {
                let end = src[i + 2..].find("*/").map_or(b.len(), |e| i + 2 + e + 2);
                i = end;
            }
            (b'"', _) => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
                out.push_str("\"\"");
            }
            // A char literal ('x', '\n'); a lifetime ('a) has no closing quote right after.
            (b'\'', _) if b.get(i + 2) == Some(&b'\'') || b.get(i + 1) == Some(&b'\\') => {
                i += 1;
                while i < b.len() && b[i] != b'\'' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            (c, _) => {
                out.push(c as char);
                i += 1;
            }
        }
    }
    out
}

/// Every full path the use tree (or plain path) starting at `s` names:
/// `a::{b, c::{self, d as e}}` -> `a::b`, `a::c`, `a::c::d`.
fn paths(s: &str) -> Vec<String> {
    fn tree(s: &[u8], i: &mut usize, prefix: &str, out: &mut Vec<String>) {
        let mut path = prefix.to_string();
        loop {
            while *i < s.len() && s[*i].is_ascii_whitespace() {
                *i += 1;
            }
            if *i < s.len() && s[*i] == b'{' {
                *i += 1;
                loop {
                    tree(s, i, &path, out);
                    while *i < s.len() && s[*i].is_ascii_whitespace() {
                        *i += 1;
                    }
                    match s.get(*i) {
                        Some(b',') => *i += 1,
                        _ => break,
                    }
                    while *i < s.len() && s[*i].is_ascii_whitespace() {
                        *i += 1;
                    }
                    if s.get(*i) == Some(&b'}') {
                        break;
                    }
                }
                *i += 1; // the closing brace
                return;
            }
            let start = *i;
            while *i < s.len() && (s[*i].is_ascii_alphanumeric() || s[*i] == b'_' || s[*i] == b'*') {
                *i += 1;
            }
            let seg = std::str::from_utf8(&s[start..*i]).unwrap();
            if !seg.is_empty() && seg != "self" {
                path = if path.is_empty() { seg.to_string() } else { format!("{path}::{seg}") };
            }
            if s[*i..].starts_with(b"::") {
                *i += 2;
                continue;
            }
            out.push(path);
            // An alias (`d as e`) names nothing more.
            let rest = &s[*i..];
            let after_ws = rest.iter().position(|c| !c.is_ascii_whitespace()).unwrap_or(rest.len());
            if rest[after_ws..].starts_with(b"as") && rest.get(after_ws + 2).is_some_and(|c| c.is_ascii_whitespace()) {
                *i += after_ws + 2;
                while *i < s.len() && s[*i].is_ascii_whitespace() {
                    *i += 1;
                }
                while *i < s.len() && (s[*i].is_ascii_alphanumeric() || s[*i] == b'_') {
                    *i += 1;
                }
            }
            return;
        }
    }
    let mut out = Vec::new();
    tree(s.as_bytes(), &mut 0, "", &mut out);
    out
}

/// Edges of the graph: module -> the modules its paths name.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let mut mods = BTreeMap::new();
    modules(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), "crate", &mut mods);
    let names: BTreeSet<String> = mods.keys().cloned().collect();
    let mut edges = BTreeMap::new();
    for (name, src) in &mods {
        let code = code_only(src);
        let mut uses = BTreeSet::new();
        let parent = name.rsplit_once("::").map_or("crate", |(p, _)| p);
        for (at, _) in code.match_indices("crate::").chain(code.match_indices("super::")) {
            if code[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == ':') {
                continue; // part of a longer path (`x::super::`) or name
            }
            let (root, rest) = if code[at..].starts_with("crate::") { ("crate", at + 7) } else { (parent, at + 7) };
            for p in paths(&code[rest..]) {
                // The longest prefix that is a module is the module used.
                let full = format!("{root}::{p}");
                let mut target = full.as_str();
                while !names.contains(target) {
                    target = target.rsplit_once("::").map_or("crate", |(m, _)| m);
                }
                if target != name && target != "crate" {
                    uses.insert(target.to_string());
                }
            }
        }
        edges.insert(name.clone(), uses);
    }
    edges
}

/// The cycles found by a depth-first search (one per back edge), as module lists.
fn cycles(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    fn visit<'a>(
        m: &'a str,
        edges: &'a BTreeMap<String, BTreeSet<String>>,
        stack: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
        found: &mut Vec<Vec<String>>,
    ) {
        if let Some(at) = stack.iter().position(|&s| s == m) {
            found.push(stack[at..].iter().map(|s| s.to_string()).chain([m.to_string()]).collect());
            return;
        }
        if !done.insert(m) {
            return;
        }
        stack.push(m);
        for next in edges.get(m).into_iter().flatten() {
            visit(next, edges, stack, done, found);
        }
        stack.pop();
    }
    let (mut done, mut found) = (BTreeSet::new(), Vec::new());
    for m in edges.keys() {
        visit(m, edges, &mut Vec::new(), &mut done, &mut found);
    }
    found
}

#[test]
fn use_trees_expand_to_full_paths() {
    assert_eq!(paths("a::{b, c::{self, d as e}}, x"), ["a::b", "a::c", "a::c::d"].map(String::from));
    assert_eq!(paths("jit::hook::run_direct(ts)"), ["jit::hook::run_direct"]);
    assert_eq!(code_only("a // crate::x\n\"crate::y\" /* crate::z */ b"), "a \n\"\"  b");
}

#[test]
fn runtime_modules_have_no_cycles() {
    let edges = graph();
    for (m, uses) in &edges {
        let uses: Vec<_> = uses.iter().map(|u| u.trim_start_matches("crate::")).collect();
        println!("{} -> {}", m.trim_start_matches("crate::"), uses.join(", "));
    }
    let found = cycles(&edges);
    assert!(found.is_empty(), "module cycles in runtime: {}", found.iter().map(|c| c.join(" -> ")).collect::<Vec<_>>().join("; "));
}
