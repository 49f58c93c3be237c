//! Errors into Python exceptions: a scenario's problems into `cascade.ScenarioError` (each
//! problem's file, line, field path, value and message), a bad argument into `ValueError`, and
//! anything else, a panic included, into `cascade.InternalError`.

use std::panic::{self, AssertUnwindSafe};
use std::path::Path;

use cascade_scenario::edit::SetError;
use cascade_scenario::{InputError, ScenarioError};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyTuple;

/// The Python module that defines the exception classes.
const ERRORS: &str = "cascade._errors";

/// An instance of the exception class `class` of [`ERRORS`] with `args`.
fn raise<'py, A>(py: Python<'py>, class: &str, args: A) -> PyErr
where
    A: IntoPyObject<'py, Target = PyTuple, Output = Bound<'py, PyTuple>>,
    A::Error: Into<PyErr>,
{
    let made = args.into_pyobject(py).map_err(Into::into).and_then(|args| {
        py.import(ERRORS)
            .and_then(|m| m.getattr(class))
            .and_then(|c| c.call1(args))
    });
    match made {
        Ok(exception) => PyErr::from_value(exception),
        Err(e) => e,
    }
}

/// One problem as the tuple `cascade.Problem` is made of.
type ProblemTuple = (String, Option<usize>, String, Option<String>, String);

fn problem_tuple(p: &InputError) -> ProblemTuple {
    (
        p.file.display().to_string(),
        p.line,
        p.field.clone(),
        p.value.clone(),
        p.message.clone(),
    )
}

/// `cascade.ScenarioError` with every problem of `e`.
pub(crate) fn scenario_error(py: Python<'_>, e: &ScenarioError) -> PyErr {
    let problems: Vec<ProblemTuple> = e.problems.iter().map(problem_tuple).collect();
    raise(py, "ScenarioError", (e.to_string(), problems))
}

/// Why a call failed, before it is an exception (made once the interpreter's lock is held).
#[derive(Debug)]
pub(crate) enum Failure {
    /// The scenario's problems: `cascade.ScenarioError`.
    Scenario(ScenarioError),
    /// An argument out of its range: `ValueError`.
    Value(String),
    /// Anything else: `cascade.InternalError`.
    Internal(String),
}

impl From<ScenarioError> for Failure {
    fn from(e: ScenarioError) -> Self {
        Self::Scenario(e)
    }
}

impl Failure {
    /// An override (`set=`) that cannot be made in scenario `name`, as a scenario problem naming
    /// the field.
    pub(crate) fn of_set(name: &Path, e: &SetError) -> Self {
        let problem = match e {
            SetError::Syntax(syntax) => InputError::new(name, "", syntax.to_string()),
            SetError::NotKeyValue(set) | SetError::Empty(set) => {
                InputError::new(name, "", e.to_string()).value(set)
            }
            SetError::Edit { key, value, reason } => {
                InputError::new(name, key.clone(), reason.clone()).value(value)
            }
        };
        Self::Scenario(ScenarioError::from(problem))
    }

    /// The exception.
    pub(crate) fn into_py(self, py: Python<'_>) -> PyErr {
        match self {
            Self::Scenario(e) => scenario_error(py, &e),
            Self::Value(message) => PyValueError::new_err(message),
            Self::Internal(message) => raise(py, "InternalError", (message,)),
        }
    }
}

/// `ValueError(message)`: an argument out of its range.
pub(crate) fn value_error(message: impl Into<String>) -> PyErr {
    PyValueError::new_err(message.into())
}

/// The result of a call, its failure not yet an exception.
pub(crate) type Outcome<T> = Result<T, Failure>;

/// Runs `work` with the interpreter's lock released; a panic in it becomes
/// `cascade.InternalError` with the panic's message.
pub(crate) fn detached<T: Send>(
    py: Python<'_>,
    work: impl FnOnce() -> Outcome<T> + Send,
) -> PyResult<T> {
    let outcome = py.detach(|| panic::catch_unwind(AssertUnwindSafe(work)));
    let result = outcome.unwrap_or_else(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".into());
        Err(Failure::Internal(format!("the engine panicked: {message}")))
    });
    result.map_err(|e| e.into_py(py))
}
