//! Integration tests of the `cascade` command and, through scenarios, of the engine.
