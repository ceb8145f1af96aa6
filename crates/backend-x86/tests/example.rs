//! Runs the `build_print_parse_run` example under `cargo test`, so the IR-as-a-library
//! walkthrough stays working.

#[path = "../examples/build_print_parse_run.rs"]
mod build_print_parse_run;

#[test]
fn build_print_parse_run() {
    build_print_parse_run::main();
}
