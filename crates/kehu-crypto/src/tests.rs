use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::*;

fn tenant(master: &MasterKey, id: &str) -> TenantKeys {
    master.new_tenant_keys(id).0
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

// ---- seal / open ----

#[test]
fn seal_open_round_trip() {
    let keys = tenant(&MasterKey::generate(), "t1");
    for plaintext in [&b""[..], b"+8613800138000", "张伟 北京市".as_bytes()] {
        let sealed = keys.seal(b"customer.phone/t1/42", plaintext);
        assert_eq!(sealed.len(), 1 + 24 + plaintext.len() + 16);
        assert_eq!(sealed[0], 1, "version byte");
        let opened = keys.open(b"customer.phone/t1/42", &sealed).unwrap();
        assert_eq!(opened, plaintext);
    }
}

#[test]
fn same_plaintext_seals_differently() {
    let keys = tenant(&MasterKey::generate(), "t1");
    let a = keys.seal(b"aad", b"same value");
    let b = keys.seal(b"aad", b"same value");
    assert_ne!(a, b, "random nonce per message");
    assert_ne!(a[1..25], b[1..25]);
}

#[test]
fn ciphertext_does_not_contain_plaintext() {
    let keys = tenant(&MasterKey::generate(), "t1");
    let plaintext = b"zhang.wei@example.com zhang.wei@example.com";
    let sealed = keys.seal(b"customer.email/t1/1", plaintext);
    assert!(
        !sealed
            .windows(8)
            .any(|w| plaintext.windows(8).any(|p| p == w)),
        "no 8-byte run of the plaintext appears in the ciphertext"
    );
}

#[test]
fn other_tenants_keys_fail_to_open() {
    let master = MasterKey::generate();
    let a = tenant(&master, "a");
    let b = tenant(&master, "b");
    let sealed = a.seal(b"customer.phone/a/1", b"secret");
    assert!(matches!(
        b.open(b"customer.phone/a/1", &sealed),
        Err(CryptoError::Decrypt)
    ));
}

#[test]
fn ciphertext_moved_to_another_row_fails() {
    let keys = tenant(&MasterKey::generate(), "t1");
    let row1 = keys.seal(b"customer.phone/t1/1", b"13800138000");
    let row2 = keys.seal(b"customer.phone/t1/2", b"13900139000");
    // Swap the stored ciphertexts between the two rows.
    assert!(matches!(
        keys.open(b"customer.phone/t1/2", &row1),
        Err(CryptoError::Decrypt)
    ));
    assert!(matches!(
        keys.open(b"customer.phone/t1/1", &row2),
        Err(CryptoError::Decrypt)
    ));
    // Same row, other field.
    assert!(matches!(
        keys.open(b"customer.email/t1/1", &row1),
        Err(CryptoError::Decrypt)
    ));
}

#[test]
fn any_tampered_byte_fails() {
    let keys = tenant(&MasterKey::generate(), "t1");
    let sealed = keys.seal(b"aad", b"hello");
    for i in 0..sealed.len() {
        let mut bad = sealed.clone();
        bad[i] ^= 0x01;
        let err = keys.open(b"aad", &bad).unwrap_err();
        if i == 0 {
            assert!(matches!(err, CryptoError::BadFormat), "version byte");
        } else {
            assert!(matches!(err, CryptoError::Decrypt), "byte {i}");
        }
    }
}

#[test]
fn truncated_or_extended_input_fails() {
    let keys = tenant(&MasterKey::generate(), "t1");
    let sealed = keys.seal(b"aad", b"hello");
    for len in 0..(1 + 24 + 16) {
        assert!(matches!(
            keys.open(b"aad", &sealed[..len]),
            Err(CryptoError::BadFormat)
        ));
    }
    for len in (1 + 24 + 16)..sealed.len() {
        assert!(matches!(
            keys.open(b"aad", &sealed[..len]),
            Err(CryptoError::Decrypt)
        ));
    }
    let mut longer = sealed.clone();
    longer.push(0);
    assert!(matches!(
        keys.open(b"aad", &longer),
        Err(CryptoError::Decrypt)
    ));
}

// ---- envelope: wrapping tenant keys ----

#[test]
fn unwrapped_keys_open_what_the_originals_sealed() {
    let master = MasterKey::generate();
    let (keys, wrapped) = master.new_tenant_keys("tenant-1");
    let sealed = keys.seal(b"aad", b"value");

    let unwrapped = master.unwrap_tenant_keys("tenant-1", &wrapped).unwrap();
    assert_eq!(unwrapped.open(b"aad", &sealed).unwrap(), b"value");
    assert_eq!(
        unwrapped.blind_index("phone", "+8613800138000"),
        keys.blind_index("phone", "+8613800138000")
    );
    assert_eq!(unwrapped.audit_mac(b"row"), keys.audit_mac(b"row"));
}

#[test]
fn wrapped_keys_do_not_contain_the_keys() {
    let master = MasterKey::generate();
    let (keys, wrapped) = master.new_tenant_keys("t");
    let bundle = keys.to_bytes();
    assert!(
        !wrapped
            .windows(8)
            .any(|w| bundle.windows(8).any(|k| k == w))
    );
}

#[test]
fn unwrap_with_wrong_master_key_fails() {
    let (_, wrapped) = MasterKey::generate().new_tenant_keys("t1");
    let other = MasterKey::generate();
    assert!(matches!(
        other.unwrap_tenant_keys("t1", &wrapped),
        Err(CryptoError::Decrypt)
    ));
}

#[test]
fn unwrap_with_wrong_tenant_id_fails() {
    let master = MasterKey::generate();
    let (_, wrapped) = master.new_tenant_keys("t1");
    assert!(matches!(
        master.unwrap_tenant_keys("t2", &wrapped),
        Err(CryptoError::Decrypt)
    ));
    assert!(matches!(
        master.unwrap_tenant_keys("t1", &wrapped[..10]),
        Err(CryptoError::BadFormat)
    ));
}

#[test]
fn each_tenant_gets_fresh_keys() {
    let master = MasterKey::generate();
    let (a, wa) = master.new_tenant_keys("t");
    let (b, wb) = master.new_tenant_keys("t");
    assert_ne!(wa, wb);
    assert_ne!(a.blind_index("k", "v"), b.blind_index("k", "v"));
}

// ---- blind index and audit MAC ----

#[test]
fn blind_index_is_deterministic_and_separated() {
    let master = MasterKey::generate();
    let a = tenant(&master, "a");
    let b = tenant(&master, "b");

    let x = a.blind_index("phone", "+8613800138000");
    assert_eq!(x.len(), BLIND_INDEX_LEN);
    assert_eq!(x, a.blind_index("phone", "+8613800138000"), "deterministic");
    assert_ne!(x, a.blind_index("phone", "+8613900139000"), "per value");
    assert_ne!(x, a.blind_index("email", "+8613800138000"), "per kind");
    assert_ne!(x, b.blind_index("phone", "+8613800138000"), "per tenant");
    // The separator keeps the kind/value boundary unambiguous.
    assert_ne!(a.blind_index("ab", "c"), a.blind_index("a", "bc"));
}

#[test]
fn audit_mac_is_deterministic_and_keyed() {
    let master = MasterKey::generate();
    let a = tenant(&master, "a");
    let b = tenant(&master, "b");
    assert_eq!(a.audit_mac(b"event"), a.audit_mac(b"event"));
    assert_ne!(a.audit_mac(b"event"), a.audit_mac(b"event2"));
    assert_ne!(a.audit_mac(b"event"), b.audit_mac(b"event"));
    // Separate keys per purpose: the audit MAC is not the blind index under another name.
    assert_ne!(
        a.audit_mac(b"k\0v")[..BLIND_INDEX_LEN],
        a.blind_index("k", "v")[..]
    );
}

// ---- master key encoding and files ----

#[test]
fn master_key_base64_round_trip_and_trim() {
    let key = MasterKey::generate();
    let text = key.to_base64();
    let again = MasterKey::from_base64(&format!("  {text}\n")).unwrap();
    assert_eq!(again.to_base64(), text);
}

#[test]
fn master_key_of_wrong_length_or_encoding_is_rejected() {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    for len in [0, 16, 31, 33, 64] {
        let err = MasterKey::from_base64(&b64.encode(vec![7u8; len])).unwrap_err();
        assert!(
            matches!(err, CryptoError::BadKey(ref m) if m.contains("32 bytes")),
            "{len}"
        );
    }
    assert!(matches!(
        MasterKey::from_base64("not base64 at all!"),
        Err(CryptoError::BadKey(_))
    ));
}

#[test]
fn debug_output_hides_keys() {
    let master = MasterKey::generate();
    assert_eq!(format!("{master:?}"), "MasterKey(..)");
    assert_eq!(format!("{:?}", tenant(&master, "t")), "TenantKeys(..)");
}

#[test]
fn key_file_is_created_private_and_reloaded() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("master.key");

    let created = MasterKey::load_or_create_file(&path, true).unwrap();
    assert_eq!(mode(&path), 0o600);
    assert_eq!(
        fs::read_to_string(&path).unwrap().trim(),
        created.to_base64()
    );

    let reloaded = MasterKey::load_or_create_file(&path, true).unwrap();
    assert_eq!(reloaded.to_base64(), created.to_base64());
    let reloaded = MasterKey::load_or_create_file(&path, false).unwrap();
    assert_eq!(reloaded.to_base64(), created.to_base64());

    // No temporary files are left next to the key.
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn key_file_readable_by_others_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("master.key");
    fs::write(&path, MasterKey::generate().to_base64()).unwrap();
    for bad in [0o644, 0o640, 0o604, 0o660] {
        fs::set_permissions(&path, fs::Permissions::from_mode(bad)).unwrap();
        let err = MasterKey::load_or_create_file(&path, true).unwrap_err();
        let CryptoError::BadKey(msg) = err else {
            panic!("expected BadKey, got {err:?}")
        };
        assert!(msg.contains(&path.display().to_string()), "{msg}");
        assert!(msg.contains("0600"), "{msg}");
    }
    fs::set_permissions(&path, fs::Permissions::from_mode(0o400)).unwrap();
    assert!(MasterKey::load_or_create_file(&path, false).is_ok());
}

#[test]
fn missing_key_file_without_create_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("absent.key");
    let err = MasterKey::load_or_create_file(&path, false).unwrap_err();
    assert!(matches!(err, CryptoError::BadKey(ref m) if m.contains("absent.key")));
    assert!(!path.exists(), "nothing created");
}

#[test]
fn corrupt_key_file_is_bad_key_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("master.key");
    fs::write(&path, "c2hvcnQ=\n").unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    let err = MasterKey::load_or_create_file(&path, true).unwrap_err();
    assert!(matches!(err, CryptoError::BadKey(ref m) if m.contains("master.key")));
}

#[test]
fn racing_creators_all_get_the_same_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("master.key");
    let keys: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| s.spawn(|| MasterKey::load_or_create_file(&path, true).unwrap()))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap().to_base64())
            .collect()
    });
    assert!(keys.iter().all(|k| *k == keys[0]));
    let on_disk = MasterKey::load_or_create_file(&path, false).unwrap();
    assert_eq!(on_disk.to_base64(), keys[0]);
}

// ---- tokens ----

#[test]
fn random_tokens_are_256_bit_base64url() {
    let a = random_token();
    let b = random_token();
    assert_ne!(a, b);
    assert_eq!(a.len(), 43, "32 bytes without padding");
    assert!(
        a.bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
    );
}

#[test]
fn token_hash_is_sha256() {
    let h = hash_token("abc");
    assert_eq!(h, hash_token("abc"));
    assert_ne!(h, hash_token("abd"));
    // FIPS 180-2 test vector for SHA-256("abc").
    let hex: String = h.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(
        hex,
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}

#[test]
fn ct_eq_compares_contents_and_length() {
    assert!(ct_eq(b"same", b"same"));
    assert!(ct_eq(b"", b""));
    assert!(!ct_eq(b"same", b"samE"));
    assert!(!ct_eq(b"same", b"sam"));
    assert!(!ct_eq(b"sam", b"same"));
}

// ---- passwords ----

#[test]
fn password_hash_and_verify() {
    let phc = hash_password("correct horse 电池", PasswordParams::FAST_FOR_TESTS).unwrap();
    assert!(phc.starts_with("$argon2id$v=19$m=512,t=1,p=1$"), "{phc}");
    assert!(verify_password("correct horse 电池", &phc));
    assert!(!verify_password("correct horse 电", &phc));
    assert!(!verify_password("", &phc));
    let again = hash_password("correct horse 电池", PasswordParams::FAST_FOR_TESTS).unwrap();
    assert_ne!(phc, again, "random salt");
}

#[test]
fn malformed_hash_does_not_verify() {
    for phc in [
        "",
        "plaintext",
        "$argon2id$v=19$m=512,t=1,p=1$",
        "$argon2id$v=19$m=512,t=1,p=1$c2FsdHNhbHQ",
        "$md5$abc",
    ] {
        assert!(!verify_password("x", phc), "{phc}");
    }
}

#[test]
fn production_params_meet_owasp_floor() {
    let p = PasswordParams::PRODUCTION;
    assert!(p.m_cost_kib >= 19_456 && p.t_cost >= 2 && p.p_cost >= 1);
    let phc = hash_password("pw", p).unwrap();
    assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
    assert!(verify_password("pw", &phc));
}

#[test]
fn invalid_params_are_an_error() {
    let bad = PasswordParams {
        m_cost_kib: 1,
        t_cost: 0,
        p_cost: 1,
    };
    assert!(matches!(
        hash_password("pw", bad),
        Err(CryptoError::Password(_))
    ));
}

#[test]
fn dummy_hash_is_a_valid_phc_that_rejects_guesses() {
    let phc = dummy_hash(PasswordParams::FAST_FOR_TESTS);
    assert!(phc.starts_with("$argon2id$v=19$m=512,t=1,p=1$"));
    assert!(!verify_password("", &phc));
    assert!(!verify_password("password", &phc));
    assert_ne!(phc, dummy_hash(PasswordParams::FAST_FOR_TESTS));
}
