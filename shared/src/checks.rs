//! Field checks that collect every problem of a body, so that one `422` names them all.

use crate::error::{ApiError, FieldError};

/// Collects field errors, so that one response names every problem of a body.
#[derive(Default)]
pub struct Checks(pub(crate) Vec<FieldError>);

impl Checks {
    pub fn text(&mut self, field: &str, value: Option<&str>, required: bool, max: usize) {
        match value.map(str::trim) {
            None if required => self.fail(field, "is required"),
            Some("") if required => self.fail(field, "must not be empty"),
            Some(text) if text.chars().count() > max => self.fail(field, &format!("must be at most {max} characters")),
            _ => {}
        }
    }

    pub fn fail(&mut self, field: &str, message: &str) {
        self.0.push(FieldError::new(field, message));
    }

    pub fn nest(&mut self, prefix: &str, inner: Checks) {
        self.0.extend(
            inner
                .0
                .into_iter()
                .map(|e| FieldError::new(format!("{prefix}.{}", e.field), e.message)),
        );
    }

    pub fn finish(self) -> Result<(), ApiError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Validation(self.0))
        }
    }
}
