//! `cascade._cascade`: the native half of the `cascade` Python package. It loads scenarios
//! (file, TOML text, or a dict's JSON), runs them on a path, as a Monte Carlo, as a liquidation
//! map, over a grid of their fields' values (a stress test), under other mechanisms (a
//! compare) or over one field's range against a risk budget (a calibration), and merges Monte
//! Carlo shards,
//! through the same library calls as the `cascade` command, so every figure and file text is the
//! CLI's. Tables go out as Arrow C streams
//! (`__arrow_c_stream__`), which pyarrow, polars and pandas read without a copy. The engine runs
//! with the interpreter's lock released, and a panic in it comes back as `InternalError`, never
//! across the boundary. The Python half (python/cascade) adds the friendly API, dicts, the Ray
//! backend and the type stubs.

mod calibrate;
mod compare;
mod error;
mod montecarlo;
mod scenario;
mod stress;
mod table;

use pyo3::prelude::*;

/// The extension module.
#[pymodule]
fn _cascade(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<scenario::Scenario>()?;
    m.add_class::<scenario::RunResult>()?;
    m.add_class::<scenario::MapResult>()?;
    m.add_class::<montecarlo::MonteCarloResult>()?;
    m.add_class::<stress::StressResult>()?;
    m.add_class::<compare::CompareResult>()?;
    m.add_class::<calibrate::CalibrationResult>()?;
    m.add_class::<table::Table>()?;
    m.add_function(wrap_pyfunction!(montecarlo::merge, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
