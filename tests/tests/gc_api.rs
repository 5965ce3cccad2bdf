//! `Gc<T>` forwards the std traits to `T`, compares identity with `ptr_eq`, and is `Send + Sync`.

use gc_core::{Gc, GcGlobal};
use std::collections::{BTreeSet, HashSet};

fn assert_send_sync<T: Send + Sync>() {}

#[test]
fn gc_forwards_std_traits_to_the_value() {
    assert_send_sync::<Gc<String>>();
    assert_send_sync::<gc_core::GcWeak<String>>();
    assert_send_sync::<GcGlobal<String>>();
    let a = Gc::new(String::from("apple"));
    let b = Gc::new(String::from("banana"));
    let a2 = Gc::new(String::from("apple"));
    assert_eq!(format!("{a}"), "apple");
    assert_eq!(format!("{a:?}"), "\"apple\"");
    assert_eq!(a, a2, "equality is the value's");
    assert!(!Gc::ptr_eq(&a, &a2), "identity is not");
    assert!(a < b);
    assert_eq!(a.cmp(&b), std::cmp::Ordering::Less);
    let set: HashSet<Gc<String>> = [a.clone(), a2.clone(), b.clone()].into_iter().collect();
    assert_eq!(set.len(), 2, "hash is the value's");
    let sorted: BTreeSet<Gc<String>> = [b.clone(), a.clone()].into_iter().collect();
    assert_eq!(
        sorted.iter().map(|g| g.as_str()).collect::<Vec<_>>(),
        ["apple", "banana"]
    );
    assert_eq!(
        Gc::handle_count(&a),
        3,
        "a, the set's and the sorted set's clones"
    );
    assert!(format!("{a:p}").starts_with("0x"));
    let as_ref: &String = a.as_ref();
    assert_eq!(as_ref, "apple");
}
