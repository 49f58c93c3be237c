//! Output folders that cannot lie. Every file is written under a temporary name beside its
//! final one (`.NAME.partial`), hashed (SHA-256) and counted as its bytes pass, and renamed into
//! place only once it is complete; a file that fails or is dropped unfinished is removed. When
//! every file is in place, `manifest.json` — the version, the command, the scenario's name, hash
//! and seed, every file with its size and hash, the time it finished — is written last, the same
//! way. So a folder with a manifest holds one complete run, and a reader checks it by the sizes
//! and hashes; a run that was killed leaves no manifest, only whole earlier files or partial ones
//! under names no reader opens. [`OutputFolder::prepare`] removes the previous manifest first and
//! then the files it listed, so a rerun never leaves a mix of old and new files that looks
//! current. docs/outputs.md describes the manifest.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{PRODUCER, Producer};

/// The manifest's file name.
pub const MANIFEST: &str = "manifest.json";

/// The suffix of a file being written.
const PARTIAL: &str = ".partial";

/// A file of an output folder: its path relative to the folder (`/`-separated), size and hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// The path relative to the folder, `/`-separated (`as_is/summary.json`).
    pub name: String,
    /// Its size in bytes.
    pub bytes: u64,
    /// Its SHA-256, hex.
    pub sha256: String,
}

/// The scenario an output folder is of.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestScenario {
    /// `simulation.name`.
    pub name: String,
    /// The scenario's hash (summary.json's `scenario.hash`).
    pub hash: String,
    /// `simulation.seed`.
    pub seed: u64,
}

/// `manifest.json`: what wrote the folder, of which scenario, which files, and when it finished.
#[derive(Clone, Debug, Serialize)]
pub struct Manifest {
    /// The program, its version and the version of the formats.
    pub producer: Producer,
    /// The command that wrote the folder (`run`, `compare`, `montecarlo`, …).
    pub command: String,
    /// The scenario, when the folder is of one.
    pub scenario: Option<ManifestScenario>,
    /// Every file, by name.
    pub files: Vec<FileEntry>,
    /// When the last file was in place, UTC, RFC 3339.
    pub finished_utc: String,
}

/// The part of an earlier manifest [`OutputFolder::prepare`] reads: the files it listed.
#[derive(Deserialize)]
struct Listed {
    files: Vec<FileEntry>,
}

/// A file being written into an output folder under a temporary name, hashed as it goes.
pub struct PartialFile {
    name: String,
    path: PathBuf,
    partial: PathBuf,
    out: Option<BufWriter<File>>,
    hasher: Sha256,
    bytes: u64,
}

impl PartialFile {
    /// Creates `.NAME.partial` beside `dir/name` (`name` relative to `dir`, `/`-separated),
    /// making the folders on the way.
    ///
    /// # Errors
    /// The temporary file cannot be created.
    pub fn create(dir: &Path, name: &str) -> io::Result<Self> {
        let path = dir.join(name);
        let file_name = path
            .file_name()
            .ok_or_else(|| io::Error::other(format!("{name:?} is not a file name")))?
            .to_string_lossy()
            .into_owned();
        let partial = path.with_file_name(format!(".{file_name}{PARTIAL}"));
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)?;
        }
        let file = File::create(&partial)?;
        Ok(Self {
            name: name.to_string(),
            path,
            partial,
            out: Some(BufWriter::with_capacity(1 << 20, file)),
            hasher: Sha256::new(),
            bytes: 0,
        })
    }

    /// Flushes the file, renames it into place and returns its entry.
    ///
    /// # Errors
    /// The file cannot be flushed, synced or renamed (it is removed).
    pub fn commit(mut self) -> io::Result<FileEntry> {
        let Some(out) = self.out.take() else {
            return Err(io::Error::other("a partial file is committed once"));
        };
        let placed = out
            .into_inner()
            .map_err(io::IntoInnerError::into_error)
            .and_then(|file| file.sync_all())
            .and_then(|()| fs::rename(&self.partial, &self.path));
        if let Err(e) = placed {
            let _ = fs::remove_file(&self.partial);
            return Err(e);
        }
        Ok(FileEntry {
            name: self.name.clone(),
            bytes: self.bytes,
            sha256: hex(self.hasher.clone().finalize().as_slice()),
        })
    }
}

impl Write for PartialFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let out = self
            .out
            .as_mut()
            .ok_or_else(|| io::Error::other("write after commit"))?;
        let n = out.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.as_mut().map_or(Ok(()), Write::flush)
    }
}

impl Drop for PartialFile {
    /// A file dropped before [`PartialFile::commit`] (an error, a panic) is removed.
    fn drop(&mut self) {
        if self.out.take().is_some() {
            let _ = fs::remove_file(&self.partial);
        }
    }
}

/// An output folder being written: the files put in place so far, for the manifest.
pub struct OutputFolder {
    dir: PathBuf,
    files: Vec<FileEntry>,
    /// For a folder reopened to add files: the command and scenario of its manifest, if it
    /// had one.
    reopened: Option<Option<(String, Option<ManifestScenario>)>>,
}

/// The part of a manifest [`OutputFolder::reopen`] keeps.
#[derive(Deserialize)]
struct Kept {
    command: String,
    scenario: Option<ManifestScenario>,
    files: Vec<FileEntry>,
}

impl OutputFolder {
    /// Makes the folder `dir` (with its parents) and clears what an earlier run left: its
    /// manifest first (so the folder no longer claims a complete run), then the files that
    /// manifest listed, then files left half-written (`.NAME.partial`). Other files are left
    /// as they are.
    ///
    /// # Errors
    /// The folder cannot be made, or an earlier file cannot be removed.
    pub fn prepare(dir: &Path) -> io::Result<Self> {
        fs::create_dir_all(dir)?;
        let manifest = dir.join(MANIFEST);
        let listed = fs::read_to_string(&manifest)
            .ok()
            .and_then(|text| serde_json::from_str::<Listed>(&text).ok());
        remove_if_present(&manifest)?;
        for entry in listed.map(|l| l.files).unwrap_or_default() {
            if let Some(path) = inside(dir, &entry.name) {
                remove_if_present(&path)?;
            }
        }
        remove_partials(dir)?;
        Ok(Self {
            dir: dir.to_path_buf(),
            files: Vec::new(),
            reopened: None,
        })
    }

    /// Opens a folder an earlier command wrote, to add files to it (`cascade report` adding
    /// report.html, `cascade cover` adding cover.json to a Monte Carlo's folder). Its manifest,
    /// if it has one, is removed until [`OutputFolder::finish_reopened`] writes it again with
    /// the new files; a folder without one (an interrupted run) gets none.
    ///
    /// # Errors
    /// The manifest cannot be read or removed.
    pub fn reopen(dir: &Path) -> io::Result<Self> {
        let path = dir.join(MANIFEST);
        let kept = match fs::read_to_string(&path) {
            Ok(text) => Some(serde_json::from_str::<Kept>(&text).map_err(|e| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{}: {e}", path.display()),
                )
            })?),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(e),
        };
        remove_if_present(&path)?;
        let (files, reopened) = match kept {
            Some(k) => (k.files, Some((k.command, k.scenario))),
            None => (Vec::new(), None),
        };
        Ok(Self {
            dir: dir.to_path_buf(),
            files,
            reopened: Some(reopened),
        })
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes the file `name` (relative, `/`-separated) through `write`, under a temporary name
    /// renamed into place once complete.
    ///
    /// # Errors
    /// IO errors of `write` or of the file (nothing is left under `name`'s temporary name).
    pub fn write(
        &mut self,
        name: &str,
        write: impl FnOnce(&mut PartialFile) -> io::Result<()>,
    ) -> io::Result<()> {
        let mut file = PartialFile::create(&self.dir, name)?;
        write(&mut file)?;
        let entry = file.commit()?;
        self.add(entry);
        Ok(())
    }

    /// Records a file put in place by a [`PartialFile`] of its own (a streamed events file).
    pub fn add(&mut self, entry: FileEntry) {
        self.files.retain(|f| f.name != entry.name);
        self.files.push(entry);
    }

    /// The files put in place so far.
    pub fn files(&self) -> &[FileEntry] {
        &self.files
    }

    /// Writes `manifest.json` last, listing every file by name.
    ///
    /// # Errors
    /// IO errors of the manifest.
    pub fn finish(
        mut self,
        command: &str,
        scenario: Option<ManifestScenario>,
    ) -> io::Result<Manifest> {
        self.files.sort_by(|a, b| a.name.cmp(&b.name));
        let manifest = Manifest {
            producer: PRODUCER,
            command: command.to_string(),
            scenario,
            files: self.files,
            finished_utc: now_utc(),
        };
        let mut file = PartialFile::create(&self.dir, MANIFEST)?;
        serde_json::to_writer_pretty(&mut file, &manifest)?;
        file.write_all(b"\n")?;
        file.commit()?;
        Ok(manifest)
    }
}

/// What [`verify`] found in an output folder.
#[derive(Debug, PartialEq, Eq)]
pub enum Verified {
    /// No manifest: the run that wrote the folder did not finish (or predates manifests).
    NoManifest,
    /// Every file the manifest lists is there with its size and hash.
    Complete(Vec<FileEntry>),
}

/// Checks an output folder against its manifest: every file it lists present, with its size
/// and SHA-256.
///
/// # Errors
/// A manifest that cannot be read, or a file missing or not as listed (named in the message).
pub fn verify(dir: &Path) -> Result<Verified, String> {
    let path = dir.join(MANIFEST);
    let text = match fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Verified::NoManifest),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    let listed: Listed =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    for entry in &listed.files {
        let Some(file) = inside(dir, &entry.name) else {
            return Err(format!(
                "{}: lists {:?}, outside the folder",
                path.display(),
                entry.name
            ));
        };
        let (bytes, sha256) = digest(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        if bytes != entry.bytes || sha256 != entry.sha256 {
            return Err(format!(
                "{}: {bytes} bytes with SHA-256 {sha256}, but {} lists {} bytes with SHA-256 {}: \
                 the file changed after the run wrote it",
                file.display(),
                path.display(),
                entry.bytes,
                entry.sha256
            ));
        }
    }
    Ok(Verified::Complete(listed.files))
}

/// A file's size and SHA-256, read in pieces.
fn digest(path: &Path) -> io::Result<(u64, String)> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0; 1 << 16];
    let mut bytes = 0;
    loop {
        let n = io::Read::read(&mut file, &mut buffer)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        bytes += n as u64;
    }
    Ok((bytes, hex(hasher.finalize().as_slice())))
}

/// `dir/name` when `name` is a relative path that stays inside `dir` (no `..`, no root).
fn inside(dir: &Path, name: &str) -> Option<PathBuf> {
    let relative = Path::new(name);
    relative
        .components()
        .all(|c| matches!(c, Component::Normal(_)))
        .then(|| dir.join(relative))
}

fn remove_if_present(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Removes `.NAME.partial` files in `dir` and in its folders one level down (a compare's
/// variants).
fn remove_partials(dir: &Path) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let kind = entry.file_type()?;
        if kind.is_dir() {
            for inner in fs::read_dir(&path)? {
                let inner = inner?;
                if is_partial(&inner.path()) && inner.file_type()?.is_file() {
                    remove_if_present(&inner.path())?;
                }
            }
        } else if kind.is_file() && is_partial(&path) {
            remove_if_present(&path)?;
        }
    }
    Ok(())
}

fn is_partial(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('.') && n.ends_with(PARTIAL))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl OutputFolder {
    /// Whether the folder was opened by [`OutputFolder::reopen`].
    pub fn is_reopened(&self) -> bool {
        self.reopened.is_some()
    }

    /// Writes the manifest of a reopened folder again, with the files added, when it had one.
    ///
    /// # Errors
    /// IO errors of the manifest.
    pub fn finish_reopened(self) -> io::Result<Option<Manifest>> {
        match self.reopened.clone().flatten() {
            Some((command, scenario)) => self.finish(&command, scenario).map(Some),
            None => Ok(None),
        }
    }
}

/// Now, UTC, RFC 3339 to the second: the one reading of the wall clock, which dates a folder's
/// files and never reaches a simulated figure.
#[allow(clippy::disallowed_methods)]
fn now_utc() -> String {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    chrono::DateTime::from_timestamp(since.as_secs() as i64, 0).map_or_else(
        || "unknown".to_string(),
        |t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sha256(bytes: &[u8]) -> String {
        hex(Sha256::digest(bytes).as_slice())
    }

    #[test]
    fn a_file_appears_whole_with_its_size_and_hash_and_the_manifest_last() {
        let dir = tempfile::tempdir().unwrap();
        let mut folder = OutputFolder::prepare(dir.path()).unwrap();
        folder
            .write("a.csv", |w| w.write_all(b"x,y\n1,2\n"))
            .unwrap();
        folder
            .write("v/summary.json", |w| w.write_all(b"{}\n"))
            .unwrap();
        assert!(!dir.path().join(MANIFEST).exists());
        let manifest = folder
            .finish(
                "run",
                Some(ManifestScenario {
                    name: "s".into(),
                    hash: "h".into(),
                    seed: 7,
                }),
            )
            .unwrap();
        assert_eq!(manifest.files.len(), 2);
        assert_eq!(manifest.files[0].name, "a.csv");
        assert_eq!(manifest.files[0].bytes, 8);
        assert_eq!(manifest.files[0].sha256, sha256(b"x,y\n1,2\n"));
        assert_eq!(manifest.files[1].name, "v/summary.json");
        let written: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(dir.path().join(MANIFEST)).unwrap()).unwrap();
        assert_eq!(written["files"][1]["sha256"], sha256(b"{}\n"));
        assert_eq!(written["scenario"]["seed"], 7);
        assert_eq!(written["command"], "run");
        let names: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(names.iter().all(|n| !n.ends_with(PARTIAL)), "{names:?}");
    }

    #[test]
    fn a_failed_write_leaves_nothing_under_the_name_or_its_temporary_one() {
        let dir = tempfile::tempdir().unwrap();
        let mut folder = OutputFolder::prepare(dir.path()).unwrap();
        let failed = folder.write("events.csv", |w| {
            w.write_all(b"kind\nliquidation\n")?;
            Err(io::Error::other("disk full"))
        });
        assert!(failed.is_err());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
        assert!(folder.files().is_empty());
    }

    #[test]
    fn a_rerun_removes_the_earlier_manifest_and_its_files_but_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let mut first = OutputFolder::prepare(dir.path()).unwrap();
        first.write("events.csv", |w| w.write_all(b"old")).unwrap();
        first
            .write("v/timeline.csv", |w| w.write_all(b"old"))
            .unwrap();
        first.finish("run", None).unwrap();
        fs::write(dir.path().join("notes.txt"), "mine").unwrap();
        fs::write(dir.path().join(".summary.json.partial"), "half").unwrap();
        let again = OutputFolder::prepare(dir.path()).unwrap();
        assert!(!dir.path().join(MANIFEST).exists());
        assert!(!dir.path().join("events.csv").exists());
        assert!(!dir.path().join("v/timeline.csv").exists());
        assert!(!dir.path().join(".summary.json.partial").exists());
        assert_eq!(
            fs::read_to_string(dir.path().join("notes.txt")).unwrap(),
            "mine"
        );
        assert!(again.files().is_empty());
    }

    #[test]
    fn a_manifest_naming_files_outside_the_folder_removes_nothing_there() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("out");
        fs::create_dir(&dir).unwrap();
        fs::write(root.path().join("precious.txt"), "keep").unwrap();
        fs::write(
            dir.join(MANIFEST),
            r#"{"files": [{"name": "../precious.txt", "bytes": 4, "sha256": ""},
                          {"name": "/etc/hostname", "bytes": 1, "sha256": ""}]}"#,
        )
        .unwrap();
        OutputFolder::prepare(&dir).unwrap();
        assert!(root.path().join("precious.txt").exists());
        assert!(!dir.join(MANIFEST).exists());
    }

    #[test]
    fn a_reopened_folder_keeps_its_files_and_adds_the_new_one() {
        let dir = tempfile::tempdir().unwrap();
        let mut folder = OutputFolder::prepare(dir.path()).unwrap();
        folder.write("a.csv", |w| w.write_all(b"1")).unwrap();
        folder.finish("map", None).unwrap();
        let mut again = OutputFolder::reopen(dir.path()).unwrap();
        assert!(!dir.path().join(MANIFEST).exists());
        again
            .write("report.html", |w| w.write_all(b"<html>"))
            .unwrap();
        let manifest = again.finish_reopened().unwrap().unwrap();
        assert_eq!(manifest.command, "map");
        let names: Vec<&str> = manifest.files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["a.csv", "report.html"]);
        assert!(dir.path().join("a.csv").exists());
    }

    #[test]
    fn verify_finds_a_changed_or_missing_file() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(verify(dir.path()), Ok(Verified::NoManifest));
        let mut folder = OutputFolder::prepare(dir.path()).unwrap();
        folder
            .write("paths.csv", |w| w.write_all(b"path\n0\n"))
            .unwrap();
        folder.finish("montecarlo", None).unwrap();
        assert!(matches!(verify(dir.path()), Ok(Verified::Complete(f)) if f.len() == 1));
        fs::write(dir.path().join("paths.csv"), "path\n1\n").unwrap();
        let changed = verify(dir.path()).unwrap_err();
        assert!(
            changed.contains("paths.csv") && changed.contains("changed"),
            "{changed}"
        );
        fs::remove_file(dir.path().join("paths.csv")).unwrap();
        assert!(verify(dir.path()).unwrap_err().contains("paths.csv"));
    }

    #[test]
    fn a_reopened_folder_without_a_manifest_gets_none() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("summary.json"), "{}").unwrap();
        let mut folder = OutputFolder::reopen(dir.path()).unwrap();
        folder
            .write("report.html", |w| w.write_all(b"<html>"))
            .unwrap();
        assert!(folder.finish_reopened().unwrap().is_none());
        assert!(!dir.path().join(MANIFEST).exists());
        assert!(dir.path().join("summary.json").exists());
    }
}
