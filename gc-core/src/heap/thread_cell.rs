//! A cell for a thread's own allocation state, reached by short accesses that never nest.

use std::cell::UnsafeCell;

/// A cell whose value is reached only through [`with`](Self::with), by code that runs no user
/// code and never reaches the same cell again before it returns: the borrow flag a `RefCell`
/// checks and sets on each access (a load, a compare and two stores, on the allocation and
/// freeing paths) is not needed. Debug builds still check that accesses do not nest.
///
/// It is not `Sync` (the `UnsafeCell` sees to that): only the thread that owns it reaches it.
#[derive(Default)]
pub(crate) struct ThreadCell<T> {
    value: UnsafeCell<T>,
    #[cfg(debug_assertions)]
    busy: std::cell::Cell<bool>,
}

impl<T> ThreadCell<T> {
    /// Calls `f` with the value.
    ///
    /// # Safety
    /// `f` does not reach this cell again, directly or through anything it calls (it runs no
    /// user code: no value's drop, no `Trace` impl).
    #[inline(always)]
    pub(crate) unsafe fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        #[cfg(debug_assertions)]
        let _busy = Busy::enter(&self.busy);
        // SAFETY: only this thread reaches the cell (it is not `Sync`), and no other access is
        // running on it (the caller's promise): this is the only reference to the value.
        f(unsafe { &mut *self.value.get() })
    }
}

/// Marks a debug build's cell as in use for one access.
#[cfg(debug_assertions)]
struct Busy<'a>(&'a std::cell::Cell<bool>);

#[cfg(debug_assertions)]
impl<'a> Busy<'a> {
    fn enter(busy: &'a std::cell::Cell<bool>) -> Busy<'a> {
        assert!(
            !busy.replace(true),
            "nested access to a thread's allocation state"
        );
        Busy(busy)
    }
}

#[cfg(debug_assertions)]
impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.0.set(false);
    }
}

#[cfg(all(test, debug_assertions))]
mod tests {
    use super::ThreadCell;

    #[test]
    fn accesses_that_do_not_nest_see_each_others_writes() {
        let cell: ThreadCell<Vec<u32>> = ThreadCell::default();
        // SAFETY: neither access reaches the cell again.
        unsafe { cell.with(|v| v.push(7)) };
        // SAFETY: as above.
        assert_eq!(unsafe { cell.with(|v| v.pop()) }, Some(7));
    }

    #[test]
    #[should_panic(expected = "nested access to a thread's allocation state")]
    fn a_nested_access_panics_in_debug_builds() {
        let cell: ThreadCell<u32> = ThreadCell::default();
        // SAFETY: the contract is broken on purpose (the inner access nests), and the debug
        // check panics before a second reference to the value is made.
        unsafe { cell.with(|_| cell.with(|_| ())) };
    }
}
