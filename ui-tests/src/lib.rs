//! Compile-fail and compile-pass cases for the gc-core heap, run with trybuild.
