//! Cleanups run after their object is collected, never before, and a panicking one does not
//! stop the others.

use gc_core::{add_cleanup, collect, Gc};
use std::sync::mpsc;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);

#[test]
fn a_cleanup_runs_once_after_its_object_is_collected() {
    let (tx, rx) = mpsc::channel();
    let obj = Gc::new(String::from("resource"));
    add_cleanup(&obj, move || tx.send("closed").unwrap());
    collect();
    assert!(rx.try_recv().is_err(), "the object is alive");
    drop(obj);
    collect();
    assert_eq!(rx.recv_timeout(WAIT), Ok("closed"));
    collect();
    assert!(
        rx.recv_timeout(Duration::from_millis(100)).is_err(),
        "runs once"
    );
}

#[test]
fn a_panicking_cleanup_does_not_stop_the_others() {
    let (tx, rx) = mpsc::channel();
    let a = Gc::new(1u32);
    let b = Gc::new(2u32);
    add_cleanup(&a, || panic!("cleanup panics on purpose"));
    add_cleanup(&b, move || tx.send(2).unwrap());
    drop((a, b));
    collect();
    assert_eq!(rx.recv_timeout(WAIT), Ok(2));
}

#[test]
fn what_a_cleanup_captures_stays_alive_until_it_runs() {
    let (tx, rx) = mpsc::channel();
    let obj = Gc::new(0u8);
    let captured = Gc::new(String::from("still here"));
    let w = Gc::downgrade(&captured);
    add_cleanup(&obj, move || tx.send(captured.to_string()).unwrap());
    collect();
    assert!(w.upgrade().is_some(), "held by the pending cleanup");
    drop(obj);
    collect();
    assert_eq!(rx.recv_timeout(WAIT).unwrap(), "still here");
}
