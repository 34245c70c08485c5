use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use zeroize::{Zeroize, Zeroizing};

use crate::aead::{self, KEY_LEN, fill_random};
use crate::{CryptoError, TenantKeys};

/// Prefix of the AAD that binds a wrapped key bundle to its tenant, so a bundle copied to
/// another tenant's row does not unwrap.
const TENANT_KEYS_AAD: &str = "kehu/tenant-keys/v1/";

/// The key-encryption key. It only wraps and unwraps [`TenantKeys`]; it never touches
/// field data directly and must never be stored in the database.
pub struct MasterKey(Box<[u8; KEY_LEN]>);

impl Drop for MasterKey {
    fn drop(&mut self) {
        self.0.as_mut_slice().zeroize();
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

impl MasterKey {
    /// Parses standard base64 (surrounding whitespace ignored) that decodes to 32 bytes.
    pub fn from_base64(s: &str) -> Result<MasterKey, CryptoError> {
        // Error messages deliberately do not echo the input: it is a secret.
        let bytes = Zeroizing::new(
            STANDARD
                .decode(s.trim())
                .map_err(|_| CryptoError::BadKey("master key is not valid base64".into()))?,
        );
        if bytes.len() != KEY_LEN {
            return Err(CryptoError::BadKey(format!(
                "master key must decode to {KEY_LEN} bytes, got {}",
                bytes.len()
            )));
        }
        let mut key = Box::new([0u8; KEY_LEN]);
        key.copy_from_slice(&bytes);
        Ok(MasterKey(key))
    }

    /// A new random key from the OS CSPRNG.
    pub fn generate() -> MasterKey {
        // Filled in place on the heap so no copy of the key is left on the stack.
        let mut key = Box::new([0u8; KEY_LEN]);
        fill_random(key.as_mut_slice());
        MasterKey(key)
    }

    /// Standard base64 with padding, the format `from_base64` and key files use.
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0.as_slice())
    }

    /// Reads the key file (base64 text). If missing and `create` is true, writes a new
    /// key with mode 0600 and returns it; when two processes race, both end up with the
    /// key that was published first. A file with group/other permission bits is refused.
    pub fn load_or_create_file(path: &Path, create: bool) -> Result<MasterKey, CryptoError> {
        match read_key_file(path) {
            Err(CryptoError::Io(e)) if e.kind() == io::ErrorKind::NotFound => {
                if !create {
                    return Err(CryptoError::BadKey(format!(
                        "key file {} does not exist",
                        path.display()
                    )));
                }
                match create_key_file(path) {
                    // Another process published its key first: use that one.
                    Err(CryptoError::Io(e)) if e.kind() == io::ErrorKind::AlreadyExists => {
                        read_key_file(path)
                    }
                    other => other,
                }
            }
            other => other,
        }
    }

    /// Envelope encryption: a fresh random per-tenant key bundle, returned together with
    /// its wrapped form (sealed under this key, AAD bound to `tenant_id`) for storage.
    pub fn new_tenant_keys(&self, tenant_id: &str) -> (TenantKeys, Vec<u8>) {
        let keys = TenantKeys::generate();
        let wrapped = aead::seal(&self.0, &tenant_aad(tenant_id), keys.to_bytes().as_slice());
        (keys, wrapped)
    }

    /// Unwraps a bundle made by [`MasterKey::new_tenant_keys`] for the same tenant.
    pub fn unwrap_tenant_keys(
        &self,
        tenant_id: &str,
        wrapped: &[u8],
    ) -> Result<TenantKeys, CryptoError> {
        let plain = Zeroizing::new(aead::open(&self.0, &tenant_aad(tenant_id), wrapped)?);
        TenantKeys::from_bytes(&plain).ok_or(CryptoError::BadFormat)
    }
}

fn tenant_aad(tenant_id: &str) -> Vec<u8> {
    [TENANT_KEYS_AAD.as_bytes(), tenant_id.as_bytes()].concat()
}

/// Adds the path to an IO error, which otherwise says only e.g. "permission denied".
fn at(path: &Path) -> impl FnOnce(io::Error) -> CryptoError + '_ {
    move |e| CryptoError::Io(io::Error::new(e.kind(), format!("{}: {e}", path.display())))
}

fn read_key_file(path: &Path) -> Result<MasterKey, CryptoError> {
    let mut file = File::open(path).map_err(at(path))?;
    check_private(path, &file)?;
    let mut text = Zeroizing::new(String::new());
    file.read_to_string(&mut text).map_err(at(path))?;
    MasterKey::from_base64(&text).map_err(|e| match e {
        CryptoError::BadKey(msg) => {
            CryptoError::BadKey(format!("key file {}: {msg}", path.display()))
        }
        other => other,
    })
}

/// Refuses a key file that group or others can access: anyone who can read it can
/// decrypt every tenant's data.
#[cfg(unix)]
fn check_private(path: &Path, file: &File) -> Result<(), CryptoError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = file.metadata().map_err(at(path))?.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(CryptoError::BadKey(format!(
            "key file {} has mode {mode:03o}; it must be 0600 (owner read/write only): chmod 600 {}",
            path.display(),
            path.display()
        )));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_path: &Path, _file: &File) -> Result<(), CryptoError> {
    Ok(())
}

/// Writes a new key to a private temporary file, then hard-links it into place. The link
/// fails with `AlreadyExists` if the path was taken meanwhile (like `create_new`), and,
/// unlike writing to `path` directly, a racing reader never sees a half-written file.
fn create_key_file(path: &Path) -> Result<MasterKey, CryptoError> {
    let key = MasterKey::generate();
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut suffix = [0u8; 8];
    fill_random(&mut suffix);
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let tmp = dir.join(format!(
        ".{name}.{}.tmp",
        suffix
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    ));

    let mut file = private_create_new(&tmp).map_err(at(&tmp))?;
    let text = Zeroizing::new(format!("{}\n", key.to_base64()));
    let published = (|| {
        file.write_all(text.as_bytes())?;
        // Durable before it becomes visible: losing the master key loses all data.
        file.sync_all()?;
        fs::hard_link(&tmp, path)
    })();
    // Best effort: the temporary name is never read, only the link at `path` matters.
    let _ = fs::remove_file(&tmp);
    match published {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Err(CryptoError::Io(e)),
        Err(e) => return Err(at(path)(e)),
    }
    sync_dir(dir).map_err(at(dir))?;
    Ok(key)
}

#[cfg(unix)]
fn private_create_new(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    // `mode` is filtered by the umask; set it exactly so the result does not depend on it.
    file.set_permissions(fs::Permissions::from_mode(0o600))?;
    Ok(file)
}

#[cfg(not(unix))]
fn private_create_new(path: &Path) -> io::Result<File> {
    OpenOptions::new().write(true).create_new(true).open(path)
}

/// Makes the new directory entry durable across a crash.
#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}
