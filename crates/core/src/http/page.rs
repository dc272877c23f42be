//! `?page=&per_page=` pagination.

use super::{ApiError, FieldError, ListMeta, Request};

/// A requested page: `page` from 1, `per_page` 1–100 (default 20).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    page: u32,
    per_page: u32,
}

impl Page {
    /// Default items per page.
    pub const DEFAULT_PER_PAGE: u32 = 20;
    /// Most items per page.
    pub const MAX_PER_PAGE: u32 = 100;

    /// Reads `page` and `per_page` from the query.
    ///
    /// # Errors
    /// 400 `validation_failed` listing each parameter that is not a whole number in range.
    pub fn from_request(request: &Request) -> Result<Self, ApiError> {
        let mut errors = Vec::new();
        let page = parse(request.query_param("page"), 1, u32::MAX, 1, "page", &mut errors);
        let per_page = parse(
            request.query_param("per_page"),
            1,
            Self::MAX_PER_PAGE,
            Self::DEFAULT_PER_PAGE,
            "per_page",
            &mut errors,
        );
        if errors.is_empty() { Ok(Self { page, per_page }) } else { Err(ApiError::Validation(errors)) }
    }

    /// Reads the page like [`Page::from_request`], adding its field errors to `errors` (for
    /// handlers that report them together with their own filters' errors).
    pub fn collect(request: &Request, errors: &mut Vec<FieldError>) -> Option<Self> {
        match Self::from_request(request) {
            Ok(page) => Some(page),
            Err(ApiError::Validation(fields)) => {
                errors.extend(fields);
                None
            }
            Err(_) => None,
        }
    }

    /// The rows of this page, for a repository.
    #[must_use]
    pub fn window(self) -> crate::db::Window {
        crate::db::Window {
            limit: i64::from(self.per_page),
            offset: (i64::from(self.page) - 1) * i64::from(self.per_page),
        }
    }

    /// The list `meta` for this page and a total.
    #[must_use]
    pub fn meta(self, total: u64) -> ListMeta {
        ListMeta { page: self.page, per_page: self.per_page, total }
    }
}

fn parse(raw: Option<&str>, min: u32, max: u32, default: u32, field: &str, errors: &mut Vec<FieldError>) -> u32 {
    let Some(raw) = raw else { return default };
    match raw.parse::<u32>() {
        Ok(n) if (min..=max).contains(&n) => n,
        _ => {
            errors.push(FieldError::new(field, format!("must be a whole number from {min} to {max}")));
            default
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(query: &str) -> Result<Page, ApiError> {
        Page::from_request(&Request::new("GET", &format!("/x?{query}"), vec![], vec![]))
    }

    #[test]
    fn defaults_and_bounds() {
        let p = page("").expect("defaults").window();
        assert_eq!((p.limit, p.offset), (20, 0));
        let p = page("page=3&per_page=100").expect("max").window();
        assert_eq!((p.limit, p.offset), (100, 200));
        for bad in ["page=0", "per_page=101", "per_page=0", "page=-1", "page=abc", "per_page=1.5"] {
            assert!(matches!(page(bad), Err(ApiError::Validation(_))), "{bad}");
        }
    }

    #[test]
    fn lists_both_bad_parameters() {
        let Err(ApiError::Validation(errors)) = page("page=x&per_page=y") else { panic!("expected 400") };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["page", "per_page"]);
    }
}
