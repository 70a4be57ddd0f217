//! Python bindings (built by their own issue).
