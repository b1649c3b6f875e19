//! A secret longer than one record of a store holds (a Windows credential: 2560 bytes), kept
//! as numbered parts `1, 2, …`: every part but the last exactly `size` bytes, the last shorter
//! (empty if need be), so a reader knows where the secret ends without a count that could
//! disagree with the parts, and parts left from a longer secret before are never read.
//! Here, not in the Windows backend, so that Linux's unit tests run it.

/// The parts `secret` is written as, part 1 first.
pub(super) fn split(secret: &[u8], size: usize) -> Vec<&[u8]> {
    let mut parts: Vec<&[u8]> = secret.chunks(size).collect();
    if secret.len().is_multiple_of(size) {
        parts.push(&[]);
    }
    parts
}

/// The secret read back through `read(part)`: `None` when part 1 is missing, or when a later
/// part is (a write stopped half-way, so the secret is incomplete and counts as gone).
pub(super) fn join<E>(
    size: usize,
    mut read: impl FnMut(usize) -> Result<Option<Vec<u8>>, E>,
) -> Result<Option<Vec<u8>>, E> {
    let mut secret = Vec::new();
    let mut part = 1;
    loop {
        let Some(blob) = read(part)? else {
            return Ok(None);
        };
        let last = blob.len() < size;
        secret.extend_from_slice(&blob);
        if last {
            return Ok(Some(secret));
        }
        part += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::convert::Infallible;

    const SIZE: usize = 8;

    fn write(store: &mut BTreeMap<usize, Vec<u8>>, secret: &[u8]) {
        for (index, blob) in split(secret, SIZE).into_iter().enumerate() {
            store.insert(index + 1, blob.to_vec());
        }
    }

    fn read(store: &BTreeMap<usize, Vec<u8>>) -> Option<Vec<u8>> {
        join::<Infallible>(SIZE, |part| Ok(store.get(&part).cloned())).unwrap()
    }

    #[test]
    fn every_length_comes_back_whole() {
        for len in [0, 1, SIZE - 1, SIZE, SIZE + 1, 2 * SIZE, 3 * SIZE + 5] {
            let secret: Vec<u8> = (0..len as u8).collect();
            let parts = split(&secret, SIZE);
            assert!(parts.iter().all(|p| p.len() <= SIZE), "{len}");
            assert!(
                parts.last().unwrap().len() < SIZE,
                "{len}: the last part ends it"
            );
            let mut store = BTreeMap::new();
            write(&mut store, &secret);
            assert_eq!(read(&store), Some(secret), "{len}");
        }
    }

    #[test]
    fn parts_of_a_longer_secret_before_are_not_read() {
        let mut store = BTreeMap::new();
        write(&mut store, &[7; 4 * SIZE + 3]);
        let shorter = vec![9; 2 * SIZE];
        write(&mut store, &shorter);
        assert_eq!(store.len(), 5, "parts 4 and 5 are stale");
        assert_eq!(read(&store), Some(shorter));
    }

    #[test]
    fn a_missing_part_means_no_secret() {
        let mut store = BTreeMap::new();
        assert_eq!(read(&store), None);
        write(&mut store, &[1; 2 * SIZE + 1]);
        store.remove(&2);
        assert_eq!(read(&store), None);
    }
}
