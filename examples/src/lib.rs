//! Runnable programs for the `gc-core` heap; see `examples/`.
