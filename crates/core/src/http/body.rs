//! Request bodies read field by field, so that every missing or mistyped field is reported at
//! once (serde stops at the first), in the 400 `validation` error's `details`.
//!
//! No write is silently ignored: every field a handler reads is remembered, and [`Body::finish`]
//! refuses any other field by name, so a client never believes a change happened that did not
//! (`is_active` sent where it is not applied, a typo). Fields of the resource's own shape that
//! cannot be written (`id`, `created_at`, ...) are declared with [`Body::read_only`] and ignored,
//! so a client may send back an object it read.

use std::cell::RefCell;
use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::{ApiError, FieldError, Request};

/// A JSON object body and the field errors found so far.
#[derive(Debug)]
pub struct Body {
    map: Map<String, Value>,
    errors: Vec<FieldError>,
    /// The fields the handler looked at (or declared read-only).
    known: RefCell<BTreeSet<String>>,
}

impl Body {
    /// Parses the request body as a JSON object.
    ///
    /// # Errors
    /// 400 `malformed_json` when it is not JSON or not an object.
    pub fn parse(request: &Request) -> Result<Self, ApiError> {
        match request.json::<Value>()? {
            Value::Object(map) => Ok(Self { map, errors: Vec::new(), known: RefCell::default() }),
            _ => Err(ApiError::BadRequest {
                code: "malformed_json",
                message: "the request body must be a JSON object".into(),
            }),
        }
    }

    /// [`Body::parse`], with an empty body read as `{}`: a request that sends nothing is told
    /// which fields it lacks rather than that it is not JSON.
    ///
    /// # Errors
    /// 400 for a body that is not a JSON object.
    pub fn parse_or_empty(request: &Request) -> Result<Self, ApiError> {
        if request.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self { map: Map::new(), errors: Vec::new(), known: RefCell::default() });
        }
        Self::parse(request)
    }

    /// Records a field error.
    pub fn error(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, message));
    }

    /// Ignores `fields`: read-only fields of the resource's shape, which a client may send back
    /// unchanged.
    pub fn read_only(&mut self, fields: &[&str]) {
        self.known.borrow_mut().extend(fields.iter().map(|f| (*f).to_owned()));
    }

    /// The raw value of `field`, remembering that it was read.
    fn get(&self, field: &str) -> Option<&Value> {
        self.known.borrow_mut().insert(field.to_owned());
        self.map.get(field)
    }

    /// A string field that may be absent (`None`) but not of another type.
    pub fn optional_str(&mut self, field: &str) -> Option<String> {
        match self.get(field) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                self.error(field, "must be a string");
                None
            }
        }
    }

    /// A required string field: absent and `null` are both missing.
    pub fn required_str(&mut self, field: &str) -> Option<String> {
        self.required_str_because(field, "is required")
    }

    /// A string field required in this case (`message` says why: `is required for
    /// maintenance`); absent and `null` are both missing.
    pub fn required_str_because(&mut self, field: &str, message: &str) -> Option<String> {
        if self.get(field).is_none_or(Value::is_null) {
            self.error(field, message);
            return None;
        }
        self.optional_str(field)
    }

    /// A boolean field that may be absent.
    pub fn optional_bool(&mut self, field: &str) -> Option<bool> {
        match self.get(field) {
            None | Some(Value::Null) => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(_) => {
                self.error(field, "must be true or false");
                None
            }
        }
    }

    /// An array-of-strings field that may be absent.
    pub fn optional_str_list(&mut self, field: &str) -> Option<Vec<String>> {
        match self.get(field) {
            None | Some(Value::Null) => None,
            Some(Value::Array(items)) if items.iter().all(Value::is_string) => {
                Some(items.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
            }
            Some(_) => {
                self.error(field, "must be an array of strings");
                None
            }
        }
    }

    /// An array field that may be absent (its items checked by the caller).
    pub fn optional_array(&mut self, field: &str) -> Option<Vec<Value>> {
        match self.get(field) {
            None | Some(Value::Null) => None,
            Some(Value::Array(items)) => Some(items.clone()),
            Some(_) => {
                self.error(field, "must be an array");
                None
            }
        }
    }

    /// A 32-bit integer field that may be absent.
    pub fn optional_i32(&mut self, field: &str) -> Option<i32> {
        match self.get(field) {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) if n.as_i64().and_then(|n| i32::try_from(n).ok()).is_some() => {
                n.as_i64().and_then(|n| i32::try_from(n).ok())
            }
            Some(_) => {
                self.error(field, "must be a whole number from -2147483648 to 2147483647");
                None
            }
        }
    }

    /// A list of UUIDs that may be absent.
    pub fn optional_uuid_list(&mut self, field: &str) -> Option<Vec<uuid::Uuid>> {
        let list = self.optional_str_list(field)?;
        let parsed: Result<Vec<uuid::Uuid>, _> = list.iter().map(|s| uuid::Uuid::parse_str(s)).collect();
        self.check(field, parsed.map_err(|_| "must be an array of UUIDs".to_owned()))
    }

    /// An object of string values that may be absent.
    pub fn optional_string_map(&mut self, field: &str) -> Option<Map<String, Value>> {
        match self.get(field) {
            None | Some(Value::Null) => None,
            Some(Value::Object(map)) if map.values().all(Value::is_string) => Some(map.clone()),
            Some(_) => {
                self.error(field, "must be an object of string values");
                None
            }
        }
    }

    /// The whole body as an object of string values (for endpoints whose body is such a map).
    pub fn as_string_map(&mut self) -> Option<Map<String, Value>> {
        self.known.borrow_mut().extend(self.map.keys().cloned());
        if self.map.values().all(Value::is_string) {
            Some(self.map.clone())
        } else {
            self.error("", "must be an object of string values");
            None
        }
    }

    /// Whether the field is present (even as `null`).
    #[must_use]
    pub fn has(&self, field: &str) -> bool {
        self.get(field).is_some()
    }

    /// Whether the field holds a JSON object (records nothing either way).
    #[must_use]
    pub fn is_object(&self, field: &str) -> bool {
        self.get(field).is_some_and(Value::is_object)
    }

    /// The raw value of `field` when present and not `null` (for shapes parsed by the caller).
    pub fn optional_value(&mut self, field: &str) -> Option<Value> {
        self.get(field).filter(|v| !v.is_null()).cloned()
    }

    /// Whether the field is present with a value other than `null`.
    #[must_use]
    pub fn has_value(&self, field: &str) -> bool {
        self.get(field).is_some_and(|v| !v.is_null())
    }

    /// Keeps `Ok` values and records `Err` messages against `field`.
    pub fn check<T>(&mut self, field: &str, result: Result<T, String>) -> Option<T> {
        result.map_err(|message| self.error(field, message)).ok()
    }

    /// `Ok` when no field error was recorded and every field was read (or declared
    /// read-only); else 400 `validation_failed` listing every problem, unknown fields last.
    ///
    /// # Errors
    /// The 400.
    pub fn finish(mut self) -> Result<(), ApiError> {
        let known = self.known.take();
        let unknown: Vec<String> = self.map.keys().filter(|k| !known.contains(*k)).cloned().collect();
        for field in unknown {
            self.errors.push(FieldError::new(field, "is not a field of this request"));
        }
        if self.errors.is_empty() { Ok(()) } else { Err(ApiError::Validation(self.errors)) }
    }
}

/// The values of fields [`Body::finish`] has vouched for. Reaching the `Err` is a bug in the
/// handler (a field read without recording an error when it was missing).
///
/// # Errors
/// 500.
pub fn present<T>(value: Option<T>) -> Result<T, ApiError> {
    value.ok_or_else(|| ApiError::Internal("a validated field is missing".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(json: &str) -> Result<Body, ApiError> {
        Body::parse(&Request::new("POST", "/", vec![], json.as_bytes().to_vec()))
    }

    #[test]
    fn every_missing_or_mistyped_field_is_listed() {
        let mut b = body(r#"{"email": 5, "name": null, "admin": "yes", "scopes": ["a", 1]}"#).expect("object");
        assert_eq!(b.required_str("email"), None);
        assert_eq!(b.required_str("password"), None);
        assert_eq!(b.optional_str("name"), None);
        assert_eq!(b.optional_bool("admin"), None);
        assert_eq!(b.optional_str_list("scopes"), None);
        let Err(ApiError::Validation(errors)) = b.finish() else { panic!("expected 400") };
        let listed: Vec<_> = errors.iter().map(|e| (e.field.as_str(), e.message.as_str())).collect();
        assert_eq!(
            listed,
            [
                ("email", "must be a string"),
                ("password", "is required"),
                ("admin", "must be true or false"),
                ("scopes", "must be an array of strings")
            ]
        );
    }

    #[test]
    fn fields_nobody_reads_are_refused_and_read_only_ones_ignored() {
        let mut b = body(r#"{"name": "x", "id": "1", "is_actve": false}"#).expect("object");
        b.read_only(&["id", "created_at"]);
        assert_eq!(b.optional_str("name").as_deref(), Some("x"));
        let Err(ApiError::Validation(errors)) = b.finish() else { panic!("expected 400") };
        assert_eq!(errors, [FieldError::new("is_actve", "is not a field of this request")]);
    }

    #[test]
    fn non_objects_and_garbage_are_malformed() {
        for raw in ["[1]", "\"x\"", "{", "", "nul"] {
            assert!(matches!(body(raw), Err(ApiError::BadRequest { code: "malformed_json", .. })), "{raw}");
        }
    }
}
